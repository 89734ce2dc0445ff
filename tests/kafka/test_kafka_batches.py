"""The Kafka path that batches, on a real Kafka-protocol broker (tansu): a stage's batch
cut off mid-publish is published again and nothing is lost; one-off commands do not
wait for a consumer-group join."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipwire.bus import ENRICHED_TOPIC, RAW_TOPIC, Bus, Outcome, Publication
from chipwire.bus.kafka import KafkaBus
from chipwire.cli import app
from chipwire.events import encode
from chipwire.settings import Settings
from chipwire.stage import StageRunner
from enrich import event_store
from enrich.event_stage import EventSink
from enrich.event_store import EventStore
from enrich.stage import EnrichSink
from tests.kafka.kafka_fixtures import (
    kafka_settings,
    proxied_tansu,
    read_records,
    unique,
)
from tests.kafka.tansu_broker import Tansu
from tests.kafka.tcp_proxy import TcpProxy
from tests.test_enrich_stage import STORIES, raw

__all__ = ["proxied_tansu"]
# kafka-python 3.0.12 drops sockets of refused connections unclosed (collected after each test)
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

BATCH = 100


def raw_records(count: int) -> list[tuple[str, bytes, dict[str, str]]]:
    (url, (title, text)), *_ = STORIES.items()
    return [encode(raw(f"{url}/{n}", title, text), stage="crawl") for n in range(count)]


class CutMidBatch:
    """The stage's bus, except that the broker becomes unreachable after the `at`-th record
    a stage adds, and reachable again once that batch's wait has returned."""

    def __init__(self, bus: KafkaBus, proxy: TcpProxy, at: int) -> None:
        self.bus, self.proxy, self.at = bus, proxy, at
        self.added = 0
        self.cut_batch: list[Outcome] = []

    def begin(self, topic: str) -> Publication:
        return _Cutting(self, self.bus.begin(topic))

    def __getattr__(self, name: str) -> object:
        return getattr(self.bus, name)


class _Cutting:
    def __init__(self, owner: CutMidBatch, inner: Publication) -> None:
        self.owner, self.inner, self.cut = owner, inner, False

    def add(self, key: str, value: bytes, headers: dict[str, str]) -> None:
        self.inner.add(key, value, headers)
        self.owner.added += 1
        if self.owner.added == self.owner.at:
            self.owner.proxy.cut()
            self.cut = True

    def wait(self) -> list[Outcome]:
        try:
            outcomes = self.inner.wait()
        finally:
            if self.cut:
                self.owner.proxy.restore()
        if self.cut:
            self.owner.cut_batch = outcomes
        return outcomes


@pytest.mark.skipif(
    not os.environ.get("CHIPWIRE_CUT_TESTS"),
    reason="kafka-python 3.0.12 can leave a producer thread and its sockets behind after a "
    "connection is cut mid-request (their ResourceWarnings then fail later tests): run alone "
    "with CHIPWIRE_CUT_TESTS=1",
)
@pytest.mark.timeout(150)
def test_a_batch_cut_off_mid_publish_is_published_again_and_nothing_is_lost(
    proxied_tansu: tuple[Tansu, TcpProxy],
) -> None:
    broker, proxy = proxied_tansu
    settings = kafka_settings(
        broker.bootstrap,
        kafka_topic_prefix=unique("cut") + ".",
        kafka_delivery_timeout_ms=3_000,
        kafka_request_timeout_ms=2_000,
        kafka_max_block_ms=1_000,
    )
    bus = KafkaBus(settings)
    bus.ensure_topics()
    records = raw_records(3 * BATCH)
    assert all(bus.publish_many(RAW_TOPIC, records))

    cutting = CutMidBatch(bus, proxy, at=BATCH + BATCH // 2)  # halfway through batch 2
    events = EventStore(event_store.connect(Path(":memory:")))
    sink = EnrichSink(cutting, EventSink(cutting, events))  # type: ignore[arg-type]  # a Bus
    consumer = bus.consumer("chipwire-enrich", [RAW_TOPIC])
    runner = StageRunner(consumer, sink, bus, max_records=BATCH, retry_backoff_s=0.2)
    stop = threading.Event()
    worker = threading.Thread(target=runner.run, args=(stop, 0.3))
    worker.start()
    deadline = time.monotonic() + 100
    while runner.committed < len(records) and time.monotonic() < deadline:
        stop.wait(0.1)
    stop.set()
    worker.join(timeout=30)
    consumer.close()
    bus.close()

    published = read_records(settings, settings.kafka_topic_prefix + ENRICHED_TOPIC, len(records))
    keys = Counter(key for key, _ in published)
    lost = sum(1 for key, _, _ in records if key not in keys)
    # The 300 copies of one story are one event, named after its earliest report (here the
    # smallest article id): each smaller id to arrive renames it, and the event sink
    # publishes its articles again with the new event id, a new version of each, whatever
    # the cut. A replay publishes the same record again.
    repeated = sum(count - 1 for count in Counter(published).values())
    versions = sum(count - 1 for count in keys.values()) - repeated
    print(
        f"cut mid-batch: batch outcomes {Counter(cutting.cut_batch)}, committed "
        f"{runner.committed}, lost {lost}, published twice {repeated}, renamed versions "
        f"{versions} (batch {BATCH})"
    )
    assert "retry" in cutting.cut_batch  # the cut really left part of a batch unpublished
    assert runner.committed == len(records)  # each raw message committed once, after its batch
    assert lost == 0
    # at most the cut batch's records again (its articles and the versions its flush
    # published), once: consumers upsert by key. Its articles used to go out a second time
    # when the runner re-read the batch after another partition's records, whose flush
    # published them as not yet confirmed (87 and 100 repeats with none delivered by the cut)
    assert repeated <= len(cutting.cut_batch)


@pytest.mark.timeout(120)
def test_one_off_commands_do_not_wait_for_a_slow_group_join(
    tansu: Tansu, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "CHIPWIRE_BUS": "kafka",
        "CHIPWIRE_KAFKA_BOOTSTRAP": tansu.bootstrap,
        "CHIPWIRE_KAFKA_TOPIC_PREFIX": unique("short") + ".",
        "CHIPWIRE_DATA_DIR": str(tmp_path / "data"),
        # a group join on this broker waits half the session timeout: about 22 s here
        "CHIPWIRE_KAFKA_SESSION_TIMEOUT_MS": "45000",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    bus: Bus = KafkaBus(Settings())
    bus.ensure_topics()
    assert all(bus.publish_many(RAW_TOPIC, raw_records(20)))
    bus.close()
    cli = CliRunner()

    def timed(*args: str) -> tuple[str, float]:
        started = time.monotonic()
        outcome = cli.invoke(app, list(args))
        assert outcome.exit_code == 0, outcome.output
        return outcome.output, time.monotonic() - started

    reenriched, reenrich_s = timed("reenrich", "--idle-s", "1")
    reindexed, reindex_s = timed("reindex")
    tailed, tail_s = timed("tail", "--topic", "enriched", "--from-beginning", "--no-follow")
    print(f"reenrich {reenrich_s:.1f} s, reindex {reindex_s:.1f} s, tail {tail_s:.1f} s")
    assert "re-enriched 20 articles (20 raw messages" in reenriched
    assert "the index holds 20 articles" in reindexed  # (renamed events come twice)
    assert tailed.count(STORIES[next(iter(STORIES))][0]) >= 20  # every enriched message
    assert max(reenrich_s, reindex_s, tail_s) < 15  # a group join alone would take ~22 s


def test_reenrich_before_any_topic_exists_reads_nothing_and_says_so(
    tansu: Tansu, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHIPWIRE_BUS", "kafka")
    monkeypatch.setenv("CHIPWIRE_KAFKA_BOOTSTRAP", tansu.bootstrap)
    monkeypatch.setenv("CHIPWIRE_KAFKA_TOPIC_PREFIX", unique("none") + ".")
    monkeypatch.setenv("CHIPWIRE_DATA_DIR", str(tmp_path / "data"))
    outcome = CliRunner().invoke(app, ["reenrich", "--idle-s", "0.5"])
    assert outcome.exit_code == 0, outcome.output
    assert "re-enriched 0 articles (0 raw messages" in outcome.output


def test_one_shot_reads_wait_out_a_fetch_parked_below_the_fetch_minimum(
    tansu: Tansu, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tail --no-follow` and `reenrich` stop on an empty poll only when nothing is unread:
    with a fetch wait longer than their polls, a fetch parked for kafka_fetch_min_bytes
    answers after the poll has given up, and they used to stop with the topic unread."""
    prefix = unique("parked-cli") + "."
    for name, value in {
        "BUS": "kafka",
        "KAFKA_BOOTSTRAP": tansu.bootstrap,
        "KAFKA_TOPIC_PREFIX": prefix,
        "KAFKA_FETCH_MIN_BYTES": "65536",
        "KAFKA_FETCH_MAX_WAIT_MS": "3000",  # longer than tail's 1 s poll and reenrich's idle
        "DATA_DIR": str(tmp_path / "data"),
    }.items():
        monkeypatch.setenv(f"CHIPWIRE_{name}", value)
    bus = KafkaBus(Settings())
    bus.ensure_topics()
    bus.publish_many(RAW_TOPIC, [(f"k{n}", b"not an article", {}) for n in range(3)])
    bus.close()

    tailed = CliRunner().invoke(app, ["tail", "--topic", "raw", "--from-beginning", "--no-follow"])
    reenriched = CliRunner().invoke(app, ["reenrich", "--idle-s", "0.3"])

    assert tailed.exit_code == 0, tailed.output
    assert tailed.output.count("(not JSON: 14 bytes)") == 3
    assert reenriched.exit_code == 0, reenriched.output
    assert "(3 raw messages, 3 invalid" in reenriched.output
