"""The HTTP layer's own floor: bare conditional GETs of the cycle bench's feeds, per client.

    python bench/bench_feed_http.py [--rounds 5] [--feeds 1000]

The feed farm of `bench_crawl_cycle.py` (20 loopback addresses, 95 % answering 304), and
the same GETs of every feed but the dripping ones (a bare client has no total deadline)
made by each HTTP client in turn, alternating within every round:

- httpx: `httpx.Client` on 16 threads (what the cycle bench calls "bare httpx");
- httpcore: `httpcore.ConnectionPool` on 16 threads (httpx without its request models);
- aiohttp: one `aiohttp.ClientSession` on an asyncio loop in this thread, 16 requests in
  flight (llhttp, its C HTTP parser);
- aiohttp-1: the same with one request in flight per host (chipwire's politeness).

CPU is this process's CPU time (every thread); the farm is another process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import httpcore
import httpx

from bench.bench_crawl_cycle import farm, host_index, kind_of
from bench.common import machine, table, write_result

HEADERS = {"If-None-Match": '"v1"', "User-Agent": "bench"}


def urls(bases: list[str], feeds: int) -> list[str]:
    return [
        f"{bases[host_index(i)]}/{kind_of(i, feeds)}/{i}.xml"
        for i in range(feeds)
        if kind_of(i, feeds) != "slow"
    ]


def with_httpx(client: httpx.Client, targets: list[str]) -> None:
    def get(url: str) -> None:
        with contextlib.suppress(httpx.HTTPError):
            client.get(url, headers=HEADERS).read()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(get, targets))


def with_httpcore(pool: httpcore.ConnectionPool, targets: list[str]) -> None:
    def get(url: str) -> None:
        with contextlib.suppress(
            httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError
        ):
            pool.request("GET", url, headers=HEADERS).read()

    with ThreadPoolExecutor(16) as threads:
        list(threads.map(get, targets))


async def with_aiohttp(session: aiohttp.ClientSession, targets: list[str], per_host: int) -> None:
    gate = asyncio.Semaphore(16)
    hosts: dict[str, asyncio.Semaphore] = {}

    async def get(url: str) -> None:
        host = hosts.setdefault(url.split("/")[2], asyncio.Semaphore(per_host))
        async with gate, host:
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with session.get(url, headers=HEADERS) as response:
                    await response.read()

    await asyncio.gather(*(get(u) for u in targets))


def cpu_of(run: Callable[[], object]) -> dict[str, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="200 feeds, 1 round")
    args = parser.parse_args()
    feeds, rounds = (200, 1) if args.quick else (args.feeds, args.rounds)
    theirs, ours = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.get_context("fork").Process(
        target=farm, args=(feeds, ours), daemon=True
    )
    server.start()
    targets = urls(theirs.recv(), feeds)
    loop = asyncio.new_event_loop()
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    client = httpx.Client(timeout=15, limits=limits, trust_env=False)
    pool = httpcore.ConnectionPool(max_connections=16, max_keepalive_connections=16)

    async def session(limit_per_host: int) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=16, limit_per_host=limit_per_host)
        timeout = aiohttp.ClientTimeout(total=15)
        return aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False)

    sessions = {n: loop.run_until_complete(session(n)) for n in (0, 1)}
    clients: dict[str, Callable[[], object]] = {
        "httpx": lambda: with_httpx(client, targets),
        "httpcore": lambda: with_httpcore(pool, targets),
        "aiohttp": lambda: loop.run_until_complete(with_aiohttp(sessions[0], targets, 16)),
        "aiohttp-1": lambda: loop.run_until_complete(with_aiohttp(sessions[1], targets, 1)),
    }
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in clients}
    try:
        for run in clients.values():  # warm: connections open, state filled
            run()
        for n in range(rounds):
            order = list(clients) if n % 2 == 0 else list(reversed(clients))
            for name in order:
                runs[name].append(cpu_of(clients[name]))
            print(f"round {n + 1}: " + ", ".join(f"{k} {runs[k][-1]['cpu_s']:.3f}" for k in runs))
    finally:
        for s in sessions.values():
            loop.run_until_complete(s.close())
        loop.close()
        client.close()
        pool.close()
        server.kill()
    med = {k: statistics.median(r["cpu_s"] for r in v) for k, v in runs.items()}
    wall = {k: statistics.median(r["wall_s"] for r in v) for k, v in runs.items()}
    path = write_result(
        "feed_http",
        {"feeds": feeds, "gets": len(targets), "rounds": rounds, "runs": runs, "median": med},
    )
    print(
        table(
            ["client (median of rounds)", "CPU s", "÷ httpx", "wall s"],
            [[k, f"{med[k]:.3f}", f"{med[k] / med['httpx']:.2f}", f"{wall[k]:.2f}"] for k in med],
        )
    )
    print(f"results: {path}; load {machine()['load_avg_1m']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
