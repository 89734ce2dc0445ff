"""Retry and dead-letter logic of the Elasticsearch writer, against a loopback fault injector.

The injector answers the documented `_bulk` shapes (per-item 429/400/409, whole-request 503,
413 above a size) and the two set-up calls. It is NOT an Elasticsearch: it proves only that
our writer reacts correctly to those answers. The contract suite runs against a real cluster.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from chipwire.bus import DLQ_TOPIC, ENRICHED_TOPIC
from chipwire.bus.embedded import EmbeddedBus
from chipwire.errors import Retry
from chipwire.events import publish
from chipwire.stage import StageRunner
from index import elastic_query as esq
from index.elastic import ElasticBackend, make_client
from index.stage import IndexSink
from tests.test_search_samples import ALL, CUSTOMS, LITHO, make_article

ITEM_ERRORS = {
    429: ("es_rejected_execution_exception", "rejected execution of coordinating operation"),
    400: ("mapper_parsing_exception", "failed to parse field [published_at] of type [date]"),
    409: ("version_conflict_engine_exception", "current version is higher than the one provided"),
    503: ("unavailable_shards_exception", "primary shard is not active"),
}


@dataclass
class Script:
    item_faults: dict[str, list[int]] = field(default_factory=dict)  # id -> statuses, in order
    request_faults: list[int] = field(default_factory=list)  # whole-request statuses, in order
    max_body_bytes: int = 100 * 1024 * 1024
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    bulk_requests: list[list[str]] = field(default_factory=list)  # ids per request
    body_sizes: list[int] = field(default_factory=list)
    setup_calls: list[tuple[str, str, Any]] = field(default_factory=list)
    setup_status: int = 200
    head_status: int = 404
    homes: dict[str, str] = field(default_factory=dict)  # id -> backing index already holding it
    written_to: dict[str, str] = field(default_factory=dict)  # id -> `_index` of its bulk action
    lock: threading.Lock = field(default_factory=threading.Lock)


class Injector(BaseHTTPRequestHandler):
    script: Script

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_HEAD(self) -> None:
        self.script.setup_calls.append(("HEAD", self.path, None))
        self._send(self.script.head_status, {})  # 404: no alias yet

    def do_PUT(self) -> None:
        if self.path.split("?")[0] == "/_bulk":
            self._bulk(self._body())
            return
        if self.path.split("?")[0].endswith("/_search"):  # the writer's ids lookup
            ids = json.loads(self._body())["query"]["ids"]["values"]
            found = [
                {"_id": i, "_index": self.script.homes[i]} for i in ids if i in self.script.homes
            ]
            self._send(200, {"hits": {"total": {"value": len(found)}, "hits": found}})
            return
        body = json.loads(self._body() or b"{}")
        self.script.setup_calls.append(("PUT", self.path, body))
        if self.script.setup_status != 200:
            error = {"type": "security_exception", "reason": "action is unauthorized"}
            self._send(self.script.setup_status, {"error": error, "status": 403})
            return
        self._send(200, {"acknowledged": True})

    do_POST = do_PUT

    def _bulk(self, raw: bytes) -> None:
        script = self.script
        with script.lock:
            script.body_sizes.append(len(raw))
            if len(raw) > script.max_body_bytes:
                self._send(413, {"error": "Request Entity Too Large", "status": 413})
                return
            if script.request_faults:
                status = script.request_faults.pop(0)
                self._send(status, {"error": {"type": "unavailable"}, "status": status})
                return
            lines = raw.decode().splitlines()
            items, ids = [], []
            for meta_line, source_line in zip(lines[::2], lines[1::2], strict=True):
                meta = json.loads(meta_line)["index"]
                ids.append(meta["_id"])
                script.written_to[meta["_id"]] = meta["_index"]
                items.append(self._item(meta, json.loads(source_line)))
            script.bulk_requests.append(ids)
            errors = any(item["index"]["status"] >= 300 for item in items)
            self._send(200, {"took": 1, "errors": errors, "items": items})

    def _item(self, meta: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
        result = {"_index": "chipwire-articles-v1", "_id": meta["_id"]}
        pending = self.script.item_faults.get(meta["_id"], [])
        if pending:
            status = pending.pop(0)
            kind, reason = ITEM_ERRORS[status]
            return {
                "index": {**result, "status": status, "error": {"type": kind, "reason": reason}}
            }
        self.script.stored[meta["_id"]] = source
        return {
            "index": {**result, "_version": meta["version"], "result": "created", "status": 201}
        }


@pytest.fixture
def injector() -> Iterator[tuple[str, Script]]:
    script = Script()
    handler = type("BoundInjector", (Injector,), {"script": script})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", script
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def backend_for(url: str, **options: Any) -> ElasticBackend:
    fast = {"initial_backoff": 0.01, "max_backoff": 0.05, "refresh": False, **options}
    return ElasticBackend(make_client(url, request_timeout=5), "chipwire-articles", **fast)


def test_first_commit_installs_the_template_and_the_aliased_index(
    injector: tuple[str, Script],
) -> None:
    url, script = injector
    backend = backend_for(url)
    backend.upsert([CUSTOMS])
    assert backend.commit() == []
    template = next(body for verb, path, body in script.setup_calls if "_index_template" in path)
    expected = esq.template_for("chipwire-articles")
    assert template["index_patterns"] == ["chipwire-articles-v*"]
    assert template["template"] == expected["template"]
    created = next(
        body for verb, path, body in script.setup_calls if path == "/chipwire-articles-v1-000001"
    )
    assert created["aliases"] == {
        "chipwire-articles-write": {"is_write_index": True},
        "chipwire-articles": {},
    }
    assert list(script.stored) == [CUSTOMS.id]
    backend.close()


def test_an_update_goes_to_the_backing_index_that_holds_the_article(
    injector: tuple[str, Script],
) -> None:
    url, script = injector
    script.homes = {CUSTOMS.id: "chipwire-articles-v1-000001"}  # indexed before a rollover
    backend = backend_for(url)
    backend.upsert([CUSTOMS, LITHO])
    assert backend.commit() == []
    assert script.written_to == {
        CUSTOMS.id: "chipwire-articles-v1-000001",  # replaced in place, never duplicated
        LITHO.id: "chipwire-articles-write",  # new: the current write index
    }
    backend.close()


def test_per_item_429s_are_retried_for_the_failed_items_only(injector: tuple[str, Script]) -> None:
    url, script = injector
    script.item_faults = {CUSTOMS.id: [429, 429], LITHO.id: [429]}
    backend = backend_for(url)
    backend.upsert(list(ALL))
    assert backend.commit() == []
    assert set(script.stored) == {a.id for a in ALL}
    assert script.bulk_requests[0] == [a.id for a in ALL]
    assert sorted(script.bulk_requests[1]) == sorted([CUSTOMS.id, LITHO.id])
    assert script.bulk_requests[2] == [CUSTOMS.id]
    backend.close()


def test_429s_left_after_retries_raise_retry(injector: tuple[str, Script]) -> None:
    url, script = injector
    script.item_faults = {CUSTOMS.id: [429] * 10}
    backend = backend_for(url, max_retries=2)
    backend.upsert(list(ALL))
    with pytest.raises(Retry, match="left after retries"):
        backend.commit()
    assert set(script.stored) == {a.id for a in ALL} - {CUSTOMS.id}
    backend.close()


def test_mapping_errors_are_dead_lettered_once_and_the_rest_indexed(
    injector: tuple[str, Script], tmp_path: Path
) -> None:
    url, script = injector
    script.item_faults = {LITHO.id: [400]}
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    for article in ALL:
        publish(bus, ENRICHED_TOPIC, article, "enrich")
    consumer = bus.consumer("indexer", [ENRICHED_TOPIC])
    runner = StageRunner(consumer=consumer, sink=IndexSink(backend_for(url), bus), bus=bus)
    assert runner.drain() == len(ALL)
    assert set(script.stored) == {a.id for a in ALL} - {LITHO.id}
    assert sum(ids.count(LITHO.id) for ids in script.bulk_requests) == 1  # never retried
    dead = bus.consumer("check", [DLQ_TOPIC]).poll(10, 1.0)
    assert [m.key for m in dead] == [LITHO.id]
    assert "mapper_parsing_exception" in dead[0].headers["dlq_detail"]
    bus.close()


def test_conflict_on_an_older_fetch_is_not_an_error(injector: tuple[str, Script]) -> None:
    url, script = injector
    script.item_faults = {CUSTOMS.id: [409]}
    backend = backend_for(url)
    backend.upsert([CUSTOMS, LITHO])
    assert backend.commit() == []
    assert list(script.stored) == [LITHO.id]
    backend.close()


def test_cluster_outage_commits_no_offsets_and_loses_nothing(
    injector: tuple[str, Script], tmp_path: Path
) -> None:
    url, script = injector
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    for article in ALL:
        publish(bus, ENRICHED_TOPIC, article, "enrich")
    backend = backend_for(url)
    backend.setup()
    script.request_faults = [503] * 4  # the client's own 3 retries, then it gives up
    runner = StageRunner(
        consumer=bus.consumer("indexer", [ENRICHED_TOPIC]),
        sink=IndexSink(backend, bus),
        bus=bus,
    )
    with pytest.raises(Retry, match="elasticsearch-unavailable"):
        runner.step(0.5)
    assert script.stored == {}
    # nothing was committed: a fresh consumer of the group starts from the first message
    assert len(bus.consumer("indexer", [ENRICHED_TOPIC]).poll(100, 1.0)) == len(ALL)
    runner.drain()
    assert set(script.stored) == {a.id for a in ALL}
    bus.close()


def test_bulk_bodies_stay_under_max_chunk_bytes(injector: tuple[str, Script]) -> None:
    url, script = injector
    script.max_body_bytes = 24_000
    articles = [
        make_article(f"long-{i}", f"Long note {i}", "tariff schedule line " * 200, published=None)
        for i in range(20)
    ]
    backend = backend_for(url, max_chunk_bytes=20_000)
    backend.upsert(articles)
    assert backend.commit() == []
    assert len(script.stored) == 20
    assert len(script.body_sizes) > 1 and max(script.body_sizes) <= 24_000
    backend.close()


def test_unreachable_cluster_is_a_retry() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = backend_for(f"http://127.0.0.1:{port}")
    backend.upsert([CUSTOMS])
    with pytest.raises(Retry, match="elasticsearch-unavailable"):
        backend.commit()
    backend.close()


def test_a_refusal_retries_cannot_fix_is_still_a_retry_not_a_crash(
    injector: tuple[str, Script], caplog: pytest.LogCaptureFixture
) -> None:
    url, script = injector
    script.setup_status = 403  # e.g. an API key without the manage_index_templates privilege
    backend = backend_for(url)
    backend.upsert([CUSTOMS])
    with pytest.raises(Retry, match="elasticsearch-error"):
        backend.commit()
    assert "security_exception" in caplog.text  # the operator sees why, every attempt
    backend.close()


def test_a_write_only_key_uses_the_layout_an_operator_made(injector: tuple[str, Script]) -> None:
    url, script = injector
    script.head_status = 403  # the key may write to the alias, not inspect it
    backend = backend_for(url)
    backend.upsert([CUSTOMS])
    assert backend.commit() == []
    assert [verb for verb, _, _ in script.setup_calls] == ["HEAD"]  # no template, no index
    assert list(script.stored) == [CUSTOMS.id]
    backend.close()
