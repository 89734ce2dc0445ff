"""Search side: index enriched articles and answer analysts' queries.

`open_backend(settings)` returns the configured `SearchBackend` (embedded tantivy or
Elasticsearch); both answer the same `SearchRequest` with the same `SearchResponse`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from index.backend import SearchBackend, SearchHit, SearchRequest, SearchResponse
from index.query import QueryError

if TYPE_CHECKING:
    from chipwire.settings import Settings

__all__ = [
    "QueryError",
    "SearchBackend",
    "SearchHit",
    "SearchRequest",
    "SearchResponse",
    "open_backend",
]


def open_backend(settings: Settings) -> SearchBackend:
    if settings.search == "elasticsearch":
        from index.elastic import ElasticBackend

        return ElasticBackend.from_settings(settings)
    from index.tantivy_backend import TantivyBackend

    return TantivyBackend(settings.index_dir)
