"""A serving process's start-up heap, set aside from the cyclic garbage collector.

Once the app is built, what is alive (modules, pydantic schemas, templates, the FastAPI
routes, the pipeline's stages) lives as long as the process. A full collection walks
every object the collector tracks, so each one paused whatever request triggered it for
tens of milliseconds: a search tail latency, not a throughput cost. Freezing the
start-up heap leaves full collections only the objects made since.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect start-up garbage, then freeze the rest (call once, when the app is built)."""
    gc.collect()
    gc.freeze()
