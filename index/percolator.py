"""Saved searches matched by Elasticsearch's percolator (alerts/matching.py's protocol).

A query is stored the first time this process sees it (its id is the query's hash, so
storing it again, from another process, is harmless); then one percolate request per
article answers for every stored query. Queries stored but no longer saved are ignored
here, since the caller names the queries it wants.
"""

from __future__ import annotations

from chipwire.contract import EnrichedArticle
from index.elastic import ElasticBackend


class PercolatorMatcher:
    def __init__(self, backend: ElasticBackend) -> None:
        self.backend = backend
        self._stored: set[str] = set()

    def matching(self, queries: set[str], article: EnrichedArticle) -> set[str]:
        if not queries:
            return set()
        for query in sorted(queries - self._stored):
            self.backend.save_search(query)
            self._stored.add(query)
        found = self.backend.percolate([article])
        return {query for query, ids in found.items() if query in queries and article.id in ids}

    def close(self) -> None:
        self.backend.close()
