"""How often chipwire's Kafka clients ask the broker for something, counted on the wire by
a proxy in front of a real broker (tansu): each request costs the client about a
millisecond of Python in its IO thread, so idle polling and per-record sends add up to
a measurable share of an article's CPU (docs/benchmarks.md, Kafka end to end)."""

from __future__ import annotations

import time

import pytest

from chipwire.bus import RAW_TOPIC, Message, begin
from chipwire.bus.kafka import KafkaBus
from chipwire.stage import StageRunner
from tests.kafka.kafka_fixtures import kafka_settings, proxied_tansu, unique
from tests.kafka.tansu_broker import Tansu
from tests.kafka.tcp_proxy import FETCH, PRODUCE, TcpProxy

__all__ = ["proxied_tansu"]
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

IDLE_S = 3.0


@pytest.mark.timeout(90)
def test_an_idle_stage_consumer_asks_for_records_about_twice_a_second(
    proxied_tansu: tuple[Tansu, TcpProxy],
) -> None:
    broker, proxy = proxied_tansu
    settings = kafka_settings(broker.bootstrap, kafka_topic_prefix=unique("idle") + ".")
    bus = KafkaBus(settings)
    bus.ensure_topics()
    consumer = bus.consumer("chipwire-enrich", [RAW_TOPIC])
    try:
        assert consumer.poll(10, 1.0) == []  # joined: an empty answer means nothing new
        before = proxy.requests[FETCH]
        started = time.monotonic()
        while (left := IDLE_S - (time.monotonic() - started)) > 0:
            assert consumer.poll(10, min(left, 0.5)) == []
        idle_s = time.monotonic() - started
        fetches = proxy.requests[FETCH] - before
    finally:
        consumer.close()
        bus.close()
    wait_s = settings.kafka_fetch_max_wait_ms / 1000
    print(f"{fetches} fetch requests in {idle_s:.1f} s idle (fetch wait {wait_s:.1f} s)")
    # the broker holds an empty fetch for the whole wait: one request per wait, one in flight
    assert fetches <= idle_s / 0.5 + 2  # 100 ms waits made ~30 here


@pytest.mark.timeout(90)
def test_a_lone_record_below_the_fetch_minimum_is_answered_when_the_fetch_wait_ends(
    proxied_tansu: tuple[Tansu, TcpProxy],
) -> None:
    """A fetch waits for `kafka_fetch_min_bytes` (64 KiB) up to `kafka_fetch_max_wait_ms`:
    a record smaller than that is answered when the wait ends, not when it arrives. On a
    stream of articles that halves the fetches (docs/benchmarks.md, Kafka's extra CPU); a
    lone record waits about the fetch wait per hop (up to two when it is appended just as a
    parked fetch is answered empty)."""
    broker, _ = proxied_tansu
    wait_ms = 2_000
    settings = kafka_settings(
        broker.bootstrap,
        kafka_topic_prefix=unique("parked") + ".",
        kafka_fetch_max_wait_ms=wait_ms,
    )
    assert settings.kafka_fetch_min_bytes > len(b"v") * 1000  # the default, far above one record
    bus = KafkaBus(settings)
    bus.ensure_topics()
    consumer = bus.consumer("chipwire-enrich", [RAW_TOPIC])
    try:
        assert consumer.poll(10, 1.0) == []
        bus.publish(RAW_TOPIC, "k", b"v")
        sent = time.monotonic()
        got = []
        while not got and time.monotonic() - sent < 4 * wait_ms / 1000:
            got = consumer.poll(10, 0.1)
        arrived_s = time.monotonic() - sent
    finally:
        consumer.close()
        bus.close()
    assert [m.key for m in got] == ["k"]
    # bounded by the fetch wait, not by arrival: at most two waits (a fetch the broker parked
    # before the record was appended may end empty; the next one carries it), plus scheduling
    assert arrived_s < 2 * wait_ms / 1000 + 1.0


@pytest.mark.timeout(90)
def test_a_drain_waits_out_a_parked_fetch_holding_a_record_below_the_minimum(
    proxied_tansu: tuple[Tansu, TcpProxy],
) -> None:
    """StageRunner.drain (run_once, the demo, reindex) must not call a stage drained while a
    fetch is parked with a record below `kafka_fetch_min_bytes`: a poll of 0.3 s comes back
    empty then, though the record is in the log. It stops once the log has nothing unread:
    when the parked fetch answers and the record is handled, not a fetch wait later (the
    end-offsets request is answered after the fetch parked ahead of it on the connection,
    so a drain fetches what is there with a short wait)."""
    broker, _ = proxied_tansu
    wait_ms = 3_000  # ten times the drain's idle poll: an empty poll alone would stop it
    settings = kafka_settings(
        broker.bootstrap,
        kafka_topic_prefix=unique("drain") + ".",
        kafka_fetch_min_bytes=65_536,
        kafka_fetch_max_wait_ms=wait_ms,
    )
    bus = KafkaBus(settings)
    bus.ensure_topics()
    sink = Keys()
    runner = StageRunner(bus.consumer("chipwire-index", [RAW_TOPIC]), sink, bus)
    try:
        assert runner.drain(timeout_s=30) == 0  # joined
        assert runner.consumer.poll(10, 0.1) == []  # as the stage's thread: a fetch parks
        parked = time.monotonic()
        bus.publish(RAW_TOPIC, "lone", b"v")
        handled = runner.drain(timeout_s=30)
        drained_s = time.monotonic() - parked
        assert runner.drain(timeout_s=30) == 0  # caught up
        # after the drain, fetches wait for the minimum again: a lone record waits too
        assert runner.consumer.poll(10, 0.3) == []  # the drain's short fetch ends, one parks
        bus.publish(RAW_TOPIC, "after", b"v")
        assert runner.consumer.poll(10, 0.5) == []  # parked below the minimum
    finally:
        runner.consumer.close()
        bus.close()
    assert (handled, sink.keys) == (1, ["lone"])
    # one fetch wait (the fetch parked before the drain), then at once: two waits before
    assert drained_s < wait_ms / 1000 + 1.5  # bounded by the fetch wait, not the timeout


class Keys:
    """A sink that keeps the keys it was handed."""

    name = "keys"

    def __init__(self) -> None:
        self.keys: list[str] = []

    def handle(self, message: Message) -> None:
        self.keys.append(message.key)

    def flush(self) -> None:
        pass


@pytest.mark.timeout(90)
def test_a_stage_batch_goes_to_the_broker_in_one_request_however_slowly_it_is_made(
    proxied_tansu: tuple[Tansu, TcpProxy],
) -> None:
    """Every chipwire publish ends on a wait (a flush), so the producer's linger bounds no
    latency: it only decides whether records added while the next article is tagged go
    out one request each (~1.5 ms of client CPU per request) or with their batch."""
    broker, proxy = proxied_tansu
    settings = kafka_settings(broker.bootstrap, kafka_topic_prefix=unique("batch") + ".")
    bus = KafkaBus(settings)
    bus.ensure_topics()
    bus.publish(RAW_TOPIC, "warm", b"v")  # metadata and connection in place
    before = proxy.requests[PRODUCE]
    out = begin(bus, RAW_TOPIC)
    for n in range(10):
        out.add(f"k{n}", b"v" * 3000, {})
        time.sleep(0.015)  # the next article being tagged (not a synchronisation)
    outcomes = out.wait()
    requests = proxy.requests[PRODUCE] - before
    bus.close()
    assert outcomes == ["delivered"] * 10
    assert requests == 1  # a 10 ms linger sent about one request per record


@pytest.mark.timeout(90)
def test_the_bus_clients_keep_no_kafka_python_sensors_and_still_deliver(
    proxied_tansu: tuple[Tansu, TcpProxy],
) -> None:
    """kafka-python records a dozen metric sensors per request; chipwire reads none of
    them (its metrics are its own), so its producer and consumers are built without."""
    broker, _proxy = proxied_tansu
    settings = kafka_settings(broker.bootstrap, kafka_topic_prefix=unique("sensors") + ".")
    bus = KafkaBus(settings)
    bus.ensure_topics()
    consumer = bus.consumer("chipwire-index", [RAW_TOPIC])
    try:
        bus.publish(RAW_TOPIC, "k", b"v")
        got = consumer.poll(10, 10.0)
        assert [m.key for m in got] == ["k"]
        assert bus.producer().metrics() is None
        assert consumer._consumer.metrics() is None  # type: ignore[attr-defined]
    finally:
        consumer.close()
        bus.close()
