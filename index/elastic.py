"""Elasticsearch backend (being built; see docs/SEARCH.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chipwire.settings import Settings
    from index.backend import SearchBackend


class ElasticBackend:
    @classmethod
    def from_settings(cls, settings: Settings) -> SearchBackend:
        raise NotImplementedError("the Elasticsearch backend is not ready yet; use search=tantivy")
