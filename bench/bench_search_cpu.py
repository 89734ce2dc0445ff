"""The search API's CPU per search, this checkout against other checkouts, in one run.

Wall-clock latency on a shared 2-core machine moves with the other work; the CPU a server
process spends per request moves far less. This starts `chipwire serve` from this checkout
and from each `--code DIR` (e.g. `git archive` of main unpacked in DIR) on the same index,
sends each the eight searches of `bench_search_web.py` in turn (the order of the servers
rotates every round), and reads each server's CPU time from Linux schedstat around every
request.

    python bench/bench_search_cpu.py [--docs 100000] [--keep DATA_DIR] [--code DIR ...]
                                     [--rounds 20] [--quick]

The index of `--docs` synthetic articles is built in DATA_DIR (or a temp dir) unless
DATA_DIR already holds one, e.g. from `bench_search_web.py --keep DATA_DIR`.
Results: bench/results/search-cpu-<UTC>.json.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import common
import httpx
from bench_search_web import SEARCHES, build_index, cpu_ms, free_port, serve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="keep the data dir here (reused if present)")
    parser.add_argument("--code", type=Path, action="append", default=[], help="a checkout")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 docs, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.docs, args.rounds = 2_000, 2
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="chipwire-bench-cpu-"))
    built = not (data_dir / "index").exists()
    if built:
        build_index(data_dir / "index", args.docs)
    servers: list[tuple[str, subprocess.Popen[bytes], httpx.Client]] = []
    cpu: dict[str, list[float]] = {}
    wall: dict[str, list[float]] = {}
    try:
        for code in [None, *args.code]:
            port = free_port()
            name = "this checkout" if code is None else str(code)
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
            servers.append((name, serve(data_dir, port, code), client))
            cpu[name], wall[name] = [], []
        for _, _, client in servers:
            for params in SEARCHES:  # warm: postings, fast fields, first-use caches
                client.get("/api/search", params=params)
        for round_no in range(args.rounds):
            turn = round_no % len(servers)
            for name, proc, client in servers[turn:] + servers[:turn]:
                for params in SEARCHES:
                    before, started = cpu_ms(proc.pid), time.perf_counter()
                    assert client.get("/api/search", params=params).status_code == 200
                    wall[name].append((time.perf_counter() - started) * 1000)
                    cpu[name].append(cpu_ms(proc.pid) - before)
    finally:
        for _, proc, client in servers:
            client.close()
            proc.terminate()
            proc.wait(timeout=15)
    summary = {
        name: {
            "cpu_ms_median": round(statistics.median(cpu[name]), 2),
            "cpu_ms_mean": round(statistics.mean(cpu[name]), 2),
            "wall_ms_median": round(statistics.median(wall[name]), 2),
            "n": len(cpu[name]),
        }
        for name in cpu
    }
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    index = {"built_docs": args.docs} if built else {"reused": str(data_dir)}
    path = common.write_result(
        "search-cpu", {"index": index, "rounds": args.rounds, "servers": summary}
    )
    for name, figures in summary.items():
        print(
            f"{name}: CPU per search median {figures['cpu_ms_median']} ms, "
            f"mean {figures['cpu_ms_mean']} ms; wall median {figures['wall_ms_median']} ms"
        )
    print(path)


if __name__ == "__main__":
    main()
