"""The Elasticsearch backend (elasticsearch-py 8.x or 9.x, matching the server's major).

Layout: a composable index template (index/es_template.json, also committed under
deploy/elasticsearch/) applies to `<alias>-vN` indices; readers use `<alias>`, the indexer
writes through `<alias>-write`. A mapping change is a new template version, a new index,
a reindex and an atomic alias swap (`reindex_to`).

Writes: `streaming_bulk` with explicit `_id`, `raise_on_error=False` (only then are per-item
429s retried, with backoff), bounded `max_chunk_bytes`. Per-item outcomes: 2xx stored; 409 an
older fetch than the one indexed (skipped); 429/5xx left after retries -> Retry (the caller
keeps its offsets); any other 4xx (mapping errors) -> returned as Rejected for the DLQ.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import elasticsearch
from elasticsearch import Elasticsearch, helpers

from chipwire.contract import EnrichedArticle
from chipwire.errors import Retry
from index import elastic_query as esq
from index import query as q
from index.backend import (
    INDEXED,
    IndexStats,
    Rejected,
    SearchRequest,
    SearchResponse,
    check_window,
)

if TYPE_CHECKING:
    from chipwire.settings import Settings

log = logging.getLogger(__name__)

TRANSIENT_ITEM_STATUS = frozenset({429, 500, 502, 503, 504})
UNREACHABLE = (elasticsearch.ConnectionError, elasticsearch.ConnectionTimeout)


def make_client(url: str, request_timeout: float = 30.0) -> Elasticsearch:
    """Credentials may ride in the URL (https://user:password@host:9200)."""
    return Elasticsearch(
        url,
        request_timeout=request_timeout,
        max_retries=3,
        retry_on_status=(429, 502, 503, 504),
        retry_on_timeout=True,  # safe: every write has an explicit _id and version
    )


class ElasticBackend:
    name = "elasticsearch"

    def __init__(
        self,
        client: Elasticsearch,
        alias: str,
        *,
        chunk_size: int = 500,
        max_chunk_bytes: int = 5 * 1024 * 1024,
        max_retries: int = 5,
        initial_backoff: float = 1.0,
        max_backoff: float = 30.0,
        refresh: str | bool = "wait_for",
        rollover_max_age: str = "30d",
        rollover_max_primary_shard_size: str = "25gb",
    ) -> None:
        self.client = client
        self.alias = alias
        self.write_alias = esq.write_alias(alias)
        self.bulk_options: dict[str, Any] = {
            "chunk_size": chunk_size,
            "max_chunk_bytes": max_chunk_bytes,
            "max_retries": max_retries,
            "initial_backoff": initial_backoff,
            "max_backoff": max_backoff,
            "refresh": refresh,  # commit() promises searchable; wait_for waits one refresh
        }
        self.rollover_conditions = {
            "max_age": rollover_max_age,
            "max_primary_shard_size": rollover_max_primary_shard_size,
        }
        self._buffer: dict[str, EnrichedArticle] = {}
        self._ready = False
        self._saved_ready = False

    @classmethod
    def connect(cls, url: str, alias: str, **options: Any) -> ElasticBackend:
        backend = cls(make_client(url), alias, **options)
        backend.ensure_layout()
        return backend

    @classmethod
    def from_settings(cls, settings: Settings) -> ElasticBackend:
        # set up lazily: the pipeline must start (and retry) while the cluster is down
        return cls(
            make_client(settings.es_url),
            settings.es_index,
            rollover_max_age=settings.es_rollover_max_age,
            rollover_max_primary_shard_size=settings.es_rollover_max_primary_shard_size,
        )

    # layout

    def ensure_layout(self) -> list[str]:
        """Create the layout if the alias does not exist yet: install the template, then the
        first backing index with both aliases. An existing layout is left alone (the
        indexer calls this; `setup` updates), and a key too narrow to look (write-only)
        assumes an operator made it."""
        try:
            exists = bool(self.client.indices.exists_alias(name=self.alias))
        except elasticsearch.AuthorizationException:
            log.info("this key cannot inspect %s; assuming the layout exists", self.alias)
            exists = True
        except UNREACHABLE as exc:
            raise Retry("elasticsearch-unavailable", _describe(exc)) from exc
        done = []
        if not exists:
            done.append(self._put_template())
            first = esq.versioned_index(self.alias)
            aliases = {self.write_alias: {"is_write_index": True}, self.alias: {}}
            self._create_index(first, aliases)
            done.append(f"created {first} behind {self.alias} (read) and {self.write_alias}")
        self._ready = True
        return done

    def setup(self) -> list[str]:
        """`chipwire index setup`: the template (re)installed, the layout created when
        missing, a rollover when the write index is past its age or size, the saved-search
        index. Safe to run at any time, e.g. daily from cron."""
        done = self.ensure_layout()
        if not done:
            done.append(self._put_template())
            done.append(self.rollover())
        done.append(self.ensure_saved_searches())
        return done

    def _put_template(self) -> str:
        body = esq.template_for(self.alias)
        self._call(
            self.client.indices.put_index_template,
            name=self.alias,
            index_patterns=body["index_patterns"],
            priority=body["priority"],
            version=body["version"],
            meta=body["_meta"],
            template=body["template"],
        )
        return f"index template {self.alias} version {body['version']} installed"

    def rollover(self) -> str:
        """Start a new backing index when the write index is past `rollover_max_age` or
        `rollover_max_primary_shard_size`; otherwise nothing."""
        current = self._write_index()
        answer = self._call(
            self.client.indices.rollover,
            alias=self.write_alias,
            new_index=esq.next_index(current),
            **esq.rollover_body(self.alias, **self.rollover_conditions),
        )
        if answer.get("rolled_over"):
            return f"rolled over: writes go to {answer['new_index']} (was {current})"
        conditions = ", ".join(f"{k} {v}" for k, v in self.rollover_conditions.items())
        return f"write index {current} kept (rolls over at {conditions})"

    def ensure_saved_searches(self) -> str:
        name = esq.saved_searches_index(self.alias)
        body = esq.percolator_index_body()
        created = self._call(
            self.client.indices.create,
            index=name,
            tolerate="resource_already_exists_exception",
            **body,
        )
        if created is None:  # it exists: new contract fields are additive mappings
            properties = body["mappings"]["properties"]
            self._call(self.client.indices.put_mapping, index=name, properties=properties)
        self._saved_ready = True
        return f"saved-search index {name} ready"

    def _create_index(self, name: str, aliases: dict[str, Any]) -> None:
        self._call(
            self.client.indices.create,
            index=name,
            aliases=aliases,
            tolerate="resource_already_exists_exception",  # another indexer won the race
        )

    def reindex_to(self, version: int) -> str:
        """Move to `<alias>-v<version>-000001` (a new template version): writes go to the
        new index first, old documents are copied without overwriting newer ones, then
        reads swap. Every backing index of the old version is copied and retired."""
        old = self._indices(self.alias)
        writable = self._indices(self.write_alias)
        new = esq.versioned_index(self.alias, version)
        self._create_index(new, {})
        self._call(  # one atomic call: writes (and id lookups) go to the new index from now on
            self.client.indices.update_aliases,
            actions=[
                *({"remove": {"index": name, "alias": self.write_alias}} for name in writable),
                {"add": {"index": new, "alias": self.write_alias, "is_write_index": True}},
            ],
        )
        self._call(
            self.client.options(request_timeout=3600).reindex,
            source={"index": old},
            dest={"index": new, "version_type": "external"},
            conflicts="proceed",
            wait_for_completion=True,
            refresh=True,
        )
        self._call(
            self.client.indices.update_aliases,
            actions=[
                *({"remove": {"index": name, "alias": self.alias}} for name in old),
                {"add": {"index": new, "alias": self.alias}},
            ],
        )
        return new

    def _indices(self, alias: str) -> list[str]:
        return sorted(self._call(self.client.indices.get_alias, name=alias).body)

    def _write_index(self) -> str:
        found = self._call(self.client.indices.get_alias, name=self.write_alias).body
        for name, entry in found.items():
            if entry["aliases"][self.write_alias].get("is_write_index", len(found) == 1):
                return str(name)
        raise Retry("elasticsearch-error", f"{self.write_alias} has no write index")

    # writing

    def upsert(self, articles: Sequence[EnrichedArticle]) -> None:
        for article in articles:
            self._buffer.pop(article.id, None)
            self._buffer[article.id] = article

    def commit(self) -> list[Rejected]:
        if not self._buffer:
            return []
        batch, self._buffer = list(self._buffer.values()), {}  # on Retry the caller re-sends
        if not self._ready:
            self.ensure_layout()
        homes = self._locate([article.id for article in batch])
        actions = [esq.bulk_action(a, homes.get(a.id, self.write_alias)) for a in batch]
        rejected: list[Rejected] = []
        transient: list[str] = []
        for ok, item in self._bulk(actions):
            if ok:
                continue
            result = next(iter(item.values()))
            status, reason = int(result.get("status", 0)), _reason(result)
            if status == 409:  # an older fetch than the one indexed: nothing to do
                INDEXED.labels(self.name, "stale").inc()
            elif status in TRANSIENT_ITEM_STATUS:
                transient.append(f"{result.get('_id')}: {status} {reason}")
            else:
                rejected.append(Rejected(str(result.get("_id")), status, reason))
        INDEXED.labels(self.name, "rejected").inc(len(rejected))
        if transient:
            INDEXED.labels(self.name, "retry").inc(len(transient))
            raise Retry(
                "index-items-failed", f"{len(transient)} left after retries: {transient[0]}"
            )
        INDEXED.labels(self.name, "ok").inc(len(batch) - len(rejected))
        return rejected

    def _locate(self, ids: list[str]) -> dict[str, str]:
        """The backing index of each id already indexed: after a rollover, an update sent
        to the write alias would land in the newest index beside the old copy."""
        raw = self._call(self.client.search, index=self.write_alias, **esq.locate_body(ids))
        return esq.located(raw.body)

    def _bulk(self, actions: list[dict[str, Any]]) -> list[tuple[bool, dict[str, Any]]]:
        try:
            return list(
                helpers.streaming_bulk(
                    self.client,
                    actions,
                    raise_on_error=False,  # otherwise per-item 429s are not retried
                    raise_on_exception=True,
                    retry_on_status=(429,),
                    yield_ok=False,
                    **self.bulk_options,
                )
            )
        except (elasticsearch.TransportError, elasticsearch.ApiError) as exc:
            self._ready = self._ready and not isinstance(exc, elasticsearch.NotFoundError)
            raise Retry("elasticsearch-unavailable", _describe(exc)) from exc

    # reading

    def search(self, req: SearchRequest) -> SearchResponse:
        check_window(req)
        node = q.parse_query(req.query)
        self._ensure_ready()
        try:
            raw = self.client.search(index=self.alias, **esq.search_body(req, node))
        except elasticsearch.BadRequestError as exc:
            log.warning("elasticsearch refused a query %r: %s", req.query, exc)
            raise q.QueryError("the search cluster could not run this query; simplify it") from exc
        except (elasticsearch.TransportError, elasticsearch.ApiError) as exc:
            raise Retry("elasticsearch-unavailable", _describe(exc)) from exc
        return esq.parse_response(raw.body, node)

    def count(self) -> int:
        self._ensure_ready()
        return int(self._call(self.client.count, index=self.alias)["count"])

    def get(self, article_id: str) -> EnrichedArticle | None:
        self._ensure_ready()
        raw = self._call(self.client.search, index=self.alias, **esq.get_body(article_id))
        hits = raw.body["hits"]["hits"]
        return esq.from_source(hits[0]["_source"]) if hits else None

    def stats(self) -> IndexStats:
        self._ensure_ready()
        raw = self._call(self.client.indices.stats, index=self.alias, metric="store")
        newest = self._call(
            self.client.search, index=self.alias, size=0, aggs=esq.NEWEST_AGGS
        ).body["aggregations"]["newest"]
        saved = self.client.options(ignore_status=404).count(
            index=esq.saved_searches_index(self.alias)
        )
        # the count API, not index stats: those count a `signals` nested document apiece
        backing = {
            name: int(self._call(self.client.count, index=name)["count"])
            for name in sorted(raw.body["indices"])
        }
        return IndexStats(
            backend=self.name,
            names=[self.alias, self.write_alias, *backing],
            documents=sum(backing.values()),
            size_bytes=int(raw.body["_all"]["total"]["store"]["size_in_bytes"]),
            last_commit=esq.parse_time(newest.get("value_as_string")),
            details={
                "write_index": self._write_index(),
                "documents_per_index": backing,
                "saved_searches": int(saved.body.get("count", 0)),
            },
        )

    # saved searches (percolator)

    def save_search(self, query: str) -> None:
        """Store the query as a percolator document (idempotent: its id is the query's hash)."""
        if not self._saved_ready:  # never let a first write create it with dynamic mappings
            self.ensure_saved_searches()
        self._call(
            self.client.index,
            index=esq.saved_searches_index(self.alias),
            id=esq.saved_search_id(query),
            document=esq.saved_search_document(query),
            refresh="wait_for",
        )

    def forget_search(self, query: str) -> None:
        self.client.options(ignore_status=404).delete(
            index=esq.saved_searches_index(self.alias), id=esq.saved_search_id(query)
        )

    def percolate(self, articles: list[EnrichedArticle]) -> dict[str, set[str]]:
        """{saved query: ids of the given articles it matches}, in one request."""
        if not articles:
            return {}
        raw = self._call(
            self.client.search,
            index=esq.saved_searches_index(self.alias),
            **esq.percolate_body(articles),
        )
        return esq.percolated(raw.body, articles)

    def close(self) -> None:
        self.client.close()

    def drop_all(self) -> None:
        """Delete this alias's indices and template (tests and `make clean` only)."""
        self.client.options(ignore_status=404).indices.delete(index=f"{self.alias}-v*")
        self.client.options(ignore_status=404).indices.delete(
            index=esq.saved_searches_index(self.alias)
        )
        self.client.options(ignore_status=404).indices.delete_index_template(name=self.alias)

    def _ensure_ready(self) -> None:
        if not self._ready:
            self.ensure_layout()

    def _call(self, method: Any, *, tolerate: str = "", **kwargs: Any) -> Any:
        """Every failure becomes a Retry, so a stage backs off instead of dying; errors a
        retry cannot fix (401, 403, a bad template) are logged loudly each time."""
        try:
            return method(**kwargs)
        except UNREACHABLE as exc:
            raise Retry("elasticsearch-unavailable", _describe(exc)) from exc
        except elasticsearch.ApiError as exc:
            if tolerate and exc.error == tolerate:
                return None
            if exc.status_code in TRANSIENT_ITEM_STATUS:
                raise Retry("elasticsearch-unavailable", _describe(exc)) from exc
            log.error("elasticsearch refused %s: %s", getattr(method, "__name__", method), exc)
            raise Retry("elasticsearch-error", _describe(exc)) from exc


def _reason(result: dict[str, Any]) -> str:
    error = result.get("error") or {}
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {error.get('reason', '')}"[:1000]
    return str(error)[:1000]


def _describe(exc: Exception) -> str:
    """A one-line cause without credentials or response bodies."""
    status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
    kind = type(exc).__name__
    return f"{kind} (HTTP {status})" if isinstance(status, int) else kind
