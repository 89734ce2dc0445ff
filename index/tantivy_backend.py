"""The embedded search backend: a tantivy index in a local directory.

One process writes (tantivy's writer lock enforces it across processes); any number of
processes read. The writer is created on the first upsert, so a reader (`chipwire search`,
a separate web process) never takes the lock. Idempotence: every upsert deletes the id's
previous documents before adding the new ones (one delete per batch), in the same commit.
"""

from __future__ import annotations

import json
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
    IndexStats,
    Rejected,
    SearchHit,
    SearchRequest,
    SearchResponse,
    check_window,
    week_key,
)
from index.tantivy_query import TantivyQueryBuilder
from index.tantivy_schema import (
    ANALYZER,
    FACETED,
    SCHEMA_VERSION,
    ZH_ANALYZER,
    build_schema,
    from_stored,
    hit_from_stored,
    make_analyzer,
    make_zh_analyzer,
    to_document,
)

log = logging.getLogger(__name__)

FACET_AGGREGATIONS: dict[str, Any] = {
    **{field: {"terms": {"field": field, "size": FACET_SIZE}} for field in FACETED},
    "day": {"date_histogram": {"field": "date", "fixed_interval": "1d"}},
    WEEK_FACET: {
        "date_histogram": {"field": "date", "fixed_interval": "7d", "offset": "-3d"},
        "aggs": {"stance": {"terms": {"field": "stance"}}},  # weeks start on Monday
    },
}

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
        self._generation: tuple[int, int, int] | None = None

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
        searcher = self._searcher()
        query = self._queries.build(req, node)
        order: dict[str, Any] = {}
        if req.sort == "newest":
            order = {"order_by_field": "date", "order": tantivy.Order.Desc}
        result = searcher.search(
            query, limit=max(req.limit, 1), count=True, offset=req.offset, **order
        )
        hits = [] if req.limit == 0 else self._hits(searcher, query, result.hits, req.sort)
        facets = self._facets(searcher, query) if req.facets else {}
        # every part is built from our own index and typed above: validating ~1,000 facet
        # buckets and 20 hits a second time would cost more than the JSON they become
        return SearchResponse.model_construct(
            total=_total(result), hits=hits, facets=facets, query=q.to_lucene(node)
        )

    def _searcher(self) -> tantivy.Searcher:
        """The current searcher, reloaded only when a commit (in any process) changed the
        index: tantivy rewrites meta.json on every commit, so its stat is the generation."""
        try:
            meta = (self.path / "meta.json").stat()
            generation = (meta.st_ino, meta.st_mtime_ns, meta.st_size)
        except OSError:
            generation = None
        if generation is None or generation != self._generation:
            self._index.reload()
            self._generation = generation
        return self._index.searcher()

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
            generated = snippets.snippet_from_doc(doc)
            fragment = generated.to_html() if generated.highlighted() else ""
            relevance_score = float(score) if sort == "relevance" else 0.0
            hits.append(hit_from_stored(doc.to_dict(), relevance_score, fragment))
        return hits

    def _facets(
        self, searcher: tantivy.Searcher, query: tantivy.Query
    ) -> dict[str, list[FacetBucket]]:
        result = searcher.aggregate(query, FACET_AGGREGATIONS)
        facets: dict[str, list[FacetBucket]] = {
            field: [
                {"key": str(b["key"]), "count": b["doc_count"]}
                for b in result.get(field, {}).get("buckets", [])
            ]
            for field in FACETED
        }
        facets["day"] = [
            {"key": _day(b["key"]), "count": count}
            for b in result.get("day", {}).get("buckets", [])
            if (count := b["doc_count"])
        ]
        facets[WEEK_FACET] = [
            {"key": week_key(monday, s["key"]), "count": s["doc_count"]}
            for w in result.get(WEEK_FACET, {}).get("buckets", [])
            if w["doc_count"]  # an empty week has no stance to count
            for monday in (_day(w["key"]),)  # once per week, not once per stance
            for s in w.get("stance", {}).get("buckets", [])
        ]
        return facets

    def count(self) -> int:
        return int(self._searcher().num_docs)

    def setup(self) -> list[str]:
        """Opening the index created it (or checked its schema); nothing else to do."""
        return [f"tantivy index at {self.path} (schema version {SCHEMA_VERSION}) is ready"]

    def stats(self) -> IndexStats:
        meta_path = self.path / "meta.json"
        meta = json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}
        segments = meta.get("segments", [])
        deleted = sum((s.get("deletes") or {}).get("num_deleted_docs", 0) for s in segments)
        committed = (
            datetime.fromtimestamp(meta_path.stat().st_mtime, tz=UTC)
            if meta_path.exists()
            else None
        )
        return IndexStats(
            backend=self.name,
            names=[str(self.path)],
            documents=self.count(),
            size_bytes=sum(f.stat().st_size for f in self.path.iterdir() if f.is_file()),
            last_commit=committed,
            details={
                "segments": len(segments),
                "deleted_documents": deleted,  # reclaimed when tantivy merges segments
                "opstamp": meta.get("opstamp"),
                "schema_version": SCHEMA_VERSION,
            },
        )

    def get(self, article_id: str) -> EnrichedArticle | None:
        searcher = self._searcher()
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


@lru_cache(maxsize=8192)  # the same days come back in every search's histograms
def _day(key_ms: float) -> str:
    # histogram keys are milliseconds since the epoch (range bounds would be nanoseconds)
    return datetime.fromtimestamp(key_ms / 1000, tz=UTC).date().isoformat()
