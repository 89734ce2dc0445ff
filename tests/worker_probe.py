"""A task for an extraction worker that imports nothing itself (the test modules import the
crawler, which would load what the worker is asked about)."""

from __future__ import annotations

import sys


def loaded(*modules: str) -> list[str]:
    return [m for m in modules if m in sys.modules]
