"""The embedded search backend: a tantivy index in a local directory.

One process writes (tantivy's writer lock enforces it across processes); any number of
processes read. The writer is created on the first upsert, so a reader (`chipwire search`,
a separate web process) never takes the lock. Idempotence: every upsert deletes the id's
previous documents before adding the new ones (one delete per batch), in the same commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import tantivy

from chipwire.contract import EnrichedArticle
from chipwire.errors import Retry
from index import query as q
from index.backend import (
    FACET_SIZE,
    INDEXED,
    SNIPPET_CHARS,
    WEEK_FACET,
    FacetBucket,
    Rejected,
    SearchHit,
    SearchRequest,
    SearchResponse,
    Snippet,
    check_window,
    week_key,
)
from index.tantivy_query import TantivyQueryBuilder
from index.tantivy_schema import (
    ANALYZER,
    FACETED,
    ZH_ANALYZER,
    build_schema,
    from_stored,
    make_analyzer,
    make_zh_analyzer,
    to_document,
)

log = logging.getLogger(__name__)

DEFAULT_WRITER_HEAP = 64_000_000  # bytes; tantivy needs >= 15 MB per thread
REBUILD_HINT = (
    "the index is derived data: move the directory away and let the indexer rebuild it "
    "by replaying the enriched topic"
)


class IndexOpenError(RuntimeError):
    """The index directory cannot be opened (corrupt, or built with another schema)."""


class IndexLockedError(Retry):
    """Another process holds the index writer; retried, since it may be shutting down."""


class TantivyBackend:
    name = "tantivy"

    def __init__(
        self,
        path: Path,
        *,
        writer_heap: int = DEFAULT_WRITER_HEAP,
        writer_threads: int = 1,
    ) -> None:
        self.path = Path(path)
        self.writer_heap = writer_heap
        self.writer_threads = writer_threads
        self._schema = build_schema()
        self._analyzer = make_analyzer()
        self._index = self._open()
        self._queries = TantivyQueryBuilder(self._schema, self._analyzer)
        self._writer: tantivy.IndexWriter | None = None
        self._pending = 0

    def _open(self) -> tantivy.Index:
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            index = tantivy.Index(self._schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            raise IndexOpenError(
                f"cannot open the search index at {self.path}: {exc}; {REBUILD_HINT}"
            ) from exc
        index.register_tokenizer(ANALYZER, make_analyzer())
        index.register_tokenizer(ZH_ANALYZER, make_zh_analyzer())
        return index

    # writing

    def upsert(self, articles: Sequence[EnrichedArticle]) -> None:
        """One delete for the whole batch's ids, then the adds: a delete only reaches
        documents added before it, and a later version of an id in the batch wins."""
        latest = {article.id: article for article in articles}
        documents = [to_document(a) for a in latest.values()]  # first: a bad one deletes nothing
        if not documents:
            return
        writer = self._get_writer()
        writer.delete_documents_by_query(
            tantivy.Query.term_set_query(self._schema, "id", list(latest))
        )
        for document in documents:
            writer.add_document(document)
        self._pending += len(documents)

    def commit(self) -> list[Rejected]:
        if self._writer is None or not self._pending:
            return []
        try:
            self._writer.commit()
        except (ValueError, OSError) as exc:  # e.g. disk full: the caller re-sends the batch
            self._writer.rollback()
            self._pending = 0
            raise Retry("index-commit-failed", str(exc)) from exc
        INDEXED.labels(self.name, "ok").inc(self._pending)
        self._pending = 0
        self._index.reload()
        return []

    def _get_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            try:
                self._writer = self._index.writer(
                    heap_size=self.writer_heap, num_threads=self.writer_threads
                )
            except ValueError as exc:
                if "LockBusy" not in str(exc):
                    raise
                raise IndexLockedError(
                    "index-locked",
                    f"another process is writing to the index at {self.path}; "
                    "only one indexer may run per index (readers are fine)",
                ) from exc
        return self._writer

    # reading

    def search(self, req: SearchRequest) -> SearchResponse:
        check_window(req)
        node = q.parse_query(req.query)
        self._index.reload()
        searcher = self._index.searcher()
        query = self._queries.build(req, node)
        order: dict[str, Any] = {}
        if req.sort == "newest":
            order = {"order_by_field": "date", "order": tantivy.Order.Desc}
        result = searcher.search(
            query, limit=max(req.limit, 1), count=True, offset=req.offset, **order
        )
        hits = [] if req.limit == 0 else self._hits(searcher, query, result.hits, req.sort)
        facets = self._facets(searcher, query) if req.facets else {}
        return SearchResponse(
            total=_total(result), hits=hits, facets=facets, query=q.to_lucene(node)
        )

    def _hits(
        self,
        searcher: tantivy.Searcher,
        query: tantivy.Query,
        found: list[tuple[Any, tantivy.DocAddress]],
        sort: str,
    ) -> list[SearchHit]:
        snippets = tantivy.SnippetGenerator.create(searcher, query, self._schema, "text")
        snippets.set_max_num_chars(SNIPPET_CHARS)
        hits = []
        for score, address in found:
            doc = searcher.doc(address)
            article = from_stored(doc.to_dict())
            generated = snippets.snippet_from_doc(doc)
            fragment = generated.to_html() if generated.highlighted() else ""
            snippet = Snippet.from_html(fragment) if fragment else _lead(article)
            relevance_score = float(score) if sort == "relevance" else 0.0
            hits.append(SearchHit.of(article, relevance_score, snippet))
        return hits

    def _facets(
        self, searcher: tantivy.Searcher, query: tantivy.Query
    ) -> dict[str, list[FacetBucket]]:
        aggs: dict[str, Any] = {
            field: {"terms": {"field": field, "size": FACET_SIZE}} for field in FACETED
        }
        aggs["day"] = {"date_histogram": {"field": "date", "fixed_interval": "1d"}}
        aggs[WEEK_FACET] = {
            "date_histogram": {"field": "date", "fixed_interval": "7d", "offset": "-3d"},
            "aggs": {"stance": {"terms": {"field": "stance"}}},  # weeks start on Monday
        }
        result = searcher.aggregate(query, aggs)
        facets = {
            field: [
                FacetBucket(key=str(b["key"]), count=int(b["doc_count"]))
                for b in result.get(field, {}).get("buckets", [])
            ]
            for field in FACETED
        }
        facets["day"] = [
            FacetBucket(key=_day(b["key"]), count=int(b["doc_count"]))
            for b in result.get("day", {}).get("buckets", [])
            if b["doc_count"]
        ]
        facets[WEEK_FACET] = [
            FacetBucket(key=week_key(_day(w["key"]), str(s["key"])), count=int(s["doc_count"]))
            for w in result.get(WEEK_FACET, {}).get("buckets", [])
            for s in w.get("stance", {}).get("buckets", [])
        ]
        return facets

    def count(self) -> int:
        self._index.reload()
        return int(self._index.searcher().num_docs)

    def get(self, article_id: str) -> EnrichedArticle | None:
        self._index.reload()
        searcher = self._index.searcher()
        query = tantivy.Query.term_query(self._schema, "id", article_id)
        found = searcher.search(query, limit=1, count=False).hits
        if not found:
            return None
        return from_stored(searcher.doc(found[0][1]).to_dict())

    def close(self) -> None:
        if self._writer is not None:
            if self._pending:
                log.warning("closing the index with %d uncommitted documents", self._pending)
                self._writer.rollback()
            self._writer.wait_merging_threads()
            self._writer = None


def _total(result: tantivy.SearchResult) -> int:
    count = getattr(result, "count", None)  # present at run time, missing from the stubs
    return int(count or 0)


def _lead(article: EnrichedArticle) -> Snippet:
    return Snippet.plain(article.summary or article.text)


@lru_cache(maxsize=8192)  # the same days come back in every search's histograms
def _day(key_ms: float) -> str:
    # histogram keys are milliseconds since the epoch (range bounds would be nanoseconds)
    return datetime.fromtimestamp(key_ms / 1000, tz=UTC).date().isoformat()
