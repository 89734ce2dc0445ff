"""Which saved searches an article matches at ingest, behind one small protocol.

Embedded (the default): each query is evaluated in this process on the article's words
(alerts/saved_query.py). On Elasticsearch the runner passes a percolator instead
(index/percolator.py): every query is stored once as a percolator document and one
request asks which of them the article matches, however many saved searches there are.
"""

from __future__ import annotations

from typing import Protocol

from alerts import saved_query
from chipwire.contract import EnrichedArticle


class QueryMatcher(Protocol):
    def matching(self, queries: set[str], article: EnrichedArticle) -> set[str]:
        """The subset of `queries` (analysts' Lucene strings) that the article matches."""
        ...


class InProcessMatcher:
    def matching(self, queries: set[str], article: EnrichedArticle) -> set[str]:
        return {query for query in queries if saved_query.matches(query, article)}
