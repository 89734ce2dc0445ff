"""Offline demo data: an invented sample corpus and the loopback server that serves it.

    with serve_demo() as server:
        Path("sources.yaml").write_text(sources_yaml(server.base_url))

`DEMO_ARTICLES` lists the articles oldest first with what each one should yield
(relevant, direction, jurisdiction, action, subject, near_copy_of).
"""

from __future__ import annotations

import yaml

from chipwire.demo.corpus import DEMO_ARTICLES, DEMO_OUTLETS, DemoArticle, Outlet
from chipwire.demo.server import DemoServer, serve_demo

__all__ = [
    "DEMO_ARTICLES",
    "DEMO_OUTLETS",
    "DemoArticle",
    "DemoServer",
    "Outlet",
    "serve_demo",
    "sources_yaml",
]


def sources_yaml(base_url: str) -> str:
    """A sources file (YAML) listing every sample outlet's feed on `base_url`."""
    base = base_url.rstrip("/")
    sources = [
        {"id": o.id, "name": f"{o.name} (sample)", "feed": f"{base}/feeds/{o.id}.xml"}
        for o in DEMO_OUTLETS
    ]
    return yaml.safe_dump({"sources": sources}, sort_keys=False, allow_unicode=True)
