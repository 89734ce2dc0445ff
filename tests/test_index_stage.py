"""The indexer stage end to end on the embedded bus: enriched topic -> tantivy -> search."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from chipwire.bus import DLQ_TOPIC, ENRICHED_TOPIC, Message
from chipwire.bus.embedded import EmbeddedBus
from chipwire.contract import EnrichedArticle
from chipwire.errors import Retry
from chipwire.events import encode, publish
from chipwire.settings import Settings
from chipwire.stage import StageRunner
from index.backend import SearchRequest
from index.stage import IndexSink, index_runner
from index.tantivy_backend import TantivyBackend
from tests.test_search_samples import ALL, CUSTOMS, LITHO


def runner(bus: EmbeddedBus, sink: IndexSink) -> StageRunner:
    consumer = bus.consumer("indexer", [ENRICHED_TOPIC])
    return StageRunner(consumer=consumer, sink=sink, bus=bus, retry_backoff_s=0.01)


def test_enriched_messages_become_searchable_once(tmp_path: Path) -> None:
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    backend = TantivyBackend(tmp_path / "index")
    for article in (*ALL, *ALL):  # a replay publishes everything twice
        publish(bus, ENRICHED_TOPIC, article, "enrich")
    runner(bus, IndexSink(backend)).drain()
    assert backend.count() == len(ALL)
    assert {h.id for h in backend.search(SearchRequest(query="H200 AND customs")).hits} == {
        CUSTOMS.id
    }
    backend.close()
    bus.close()


def test_invalid_message_is_dead_lettered_and_the_rest_indexed(tmp_path: Path) -> None:
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    backend = TantivyBackend(tmp_path / "index")
    publish(bus, ENRICHED_TOPIC, CUSTOMS, "enrich")
    bus.publish(ENRICHED_TOPIC, "broken", b'{"id": "broken"}', {})
    publish(bus, ENRICHED_TOPIC, LITHO, "enrich")
    runner(bus, IndexSink(backend, bus)).drain()
    assert backend.count() == 2
    dead = bus.consumer("check", [DLQ_TOPIC]).poll(10, 1.0)
    assert [m.key for m in dead] == ["broken"]
    assert dead[0].headers["dlq_reason"] == "invalid-message"
    backend.close()
    bus.close()


def test_locked_index_commits_no_offsets_and_loses_nothing(tmp_path: Path) -> None:
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    for article in ALL:
        publish(bus, ENRICHED_TOPIC, article, "enrich")
    holder = TantivyBackend(tmp_path / "index")
    holder.upsert([CUSTOMS])  # takes the writer lock, like a second indexer would
    backend = TantivyBackend(tmp_path / "index")
    stage = runner(bus, IndexSink(backend))
    with pytest.raises(Retry, match="another process is writing"):
        stage.step(0.5)
    holder.close()  # the other writer goes away without committing
    stage.drain()
    assert backend.count() == len(ALL)
    backend.close()
    bus.close()


def test_a_date_the_index_cannot_hold_is_dropped_and_indexing_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A message dated in the year 2999 (tantivy holds dates up to 2262) made flush() raise
    and killed the index thread; the contract now drops the date with a warning."""
    import json

    bus = EmbeddedBus(tmp_path / "log.sqlite")
    backend = TantivyBackend(tmp_path / "index")
    key, value, headers = encode(CUSTOMS, "enrich")
    body = json.loads(value)
    body["published_at"] = "2999-01-01T00:00:00Z"
    bus.publish(ENRICHED_TOPIC, key, json.dumps(body).encode(), headers)
    publish(bus, ENRICHED_TOPIC, LITHO, "enrich")
    with caplog.at_level("WARNING", logger="chipwire.contract"):
        runner(bus, IndexSink(backend, bus)).drain()
    assert backend.count() == 2
    stored = backend.get(CUSTOMS.id)
    assert stored is not None and stored.published_at is None
    assert "published_at 2999-01-01" in caplog.text
    assert bus.consumer("check", [DLQ_TOPIC]).poll(10, 0.2) == []
    backend.close()
    bus.close()


def test_the_indexer_commits_at_its_size_threshold_or_its_timer(
    tmp_path: Path, settings: Settings
) -> None:
    """One index commit (an fsync) per `index_commit_docs` articles or per
    `index_commit_interval_s`, whichever comes first; offsets follow each commit."""
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    backend = TantivyBackend(tmp_path / "index")
    for article in ALL:
        publish(bus, ENRICHED_TOPIC, article, "enrich")
    policy = settings.model_copy(update={"index_commit_docs": 4, "index_commit_interval_s": 0.3})
    consumer = bus.consumer("indexer", [ENRICHED_TOPIC])
    stage = index_runner(consumer, IndexSink(backend), bus, policy)
    assert stage.step(1.0) == 4  # full at 4: committed without waiting for the timer
    assert backend.count() == 4 and consumer.lag() == len(ALL) - 4
    started = time.monotonic()
    assert stage.step(1.0) == len(ALL) - 4  # the rest, once the timer ran out
    assert time.monotonic() - started >= 0.3
    assert backend.count() == len(ALL) and consumer.lag() == 0
    backend.close()
    bus.close()


class Arrivals:
    """The enriched topic as the indexer meets it, on a clock of its own: an article is
    published every `every_s`; a poll moves the clock to the next arrival within its
    timeout (publishing it) or to the end of its timeout, as a real wait would."""

    def __init__(self, bus: EmbeddedBus, articles: list[EnrichedArticle], every_s: float) -> None:
        self.bus = bus
        self.consumer = bus.consumer("indexer", [ENRICHED_TOPIC])
        self.due = [(i * every_s, article) for i, article in enumerate(articles)]
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def poll(self, max_records: int = 100, timeout_s: float = 1.0) -> list[Message]:
        if self.due and self.due[0][0] <= self.now + timeout_s:
            self.now = max(self.now, self.due[0][0])
            while self.due and self.due[0][0] <= self.now:
                publish(self.bus, ENRICHED_TOPIC, self.due.pop(0)[1], "enrich")
        else:
            self.now += timeout_s
        return self.consumer.poll(max_records, 0)

    def commit(self) -> None:
        self.consumer.commit()

    def rewind(self) -> None:
        self.consumer.rewind()

    def unread(self) -> int:
        return self.consumer.unread()

    def reading_to_end(self) -> AbstractContextManager[None]:
        return self.consumer.reading_to_end()

    def close(self) -> None:
        self.consumer.close()


def copies(count: int) -> list[EnrichedArticle]:
    return [CUSTOMS.model_copy(update={"id": f"{i:032x}"}) for i in range(count)]


def test_under_load_the_index_commits_once_per_interval_not_per_pause(
    tmp_path: Path, settings: Settings
) -> None:
    """Articles every 0.5 s: one commit (about 40 ms of CPU) for the first 3 s of them, not
    one a second; offsets follow the commit."""
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    backend = TantivyBackend(tmp_path / "index")
    arrivals = Arrivals(bus, copies(20), every_s=0.5)
    policy = settings.model_copy(
        update={"index_commit_interval_s": 3.0, "index_commit_quiet_s": 1.0}
    )
    stage = index_runner(arrivals, IndexSink(backend), bus, policy, clock=arrivals.clock)
    assert stage.step(1.0) == 7  # those arrived at 0, 0.5, ... 3.0 s: one commit
    assert arrivals.now == 3.0
    assert backend.count() == 7 and arrivals.consumer.lag() == 0
    backend.close()
    bus.close()


def test_a_lone_article_is_committed_once_the_stream_is_quiet(
    tmp_path: Path, settings: Settings
) -> None:
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    backend = TantivyBackend(tmp_path / "index")
    arrivals = Arrivals(bus, copies(1), every_s=0.5)
    policy = settings.model_copy(
        update={"index_commit_interval_s": 3.0, "index_commit_quiet_s": 1.0}
    )
    stage = index_runner(arrivals, IndexSink(backend), bus, policy, clock=arrivals.clock)
    assert stage.step(1.0) == 1
    assert arrivals.now == 1.0  # not the 3 s a stream may wait
    assert backend.count() == 1
    backend.close()
    bus.close()
