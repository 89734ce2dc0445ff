"""One polling cycle of 1,000 feeds on loopback: CPU cost and wall time.

    python bench/bench_crawl_cycle.py [--quick] [--feeds 1000] [--rounds 3]

A feed farm in its own process serves the feeds from 20 loopback addresses (127.0.0.1 to
127.0.0.20, so politeness is per host as on the web): 95 % answer 304 Not Modified, 4 %
(one in 23) list one new article each round (fetched, extracted in-process, accepted), and 1 % are
hostile, each on a host of its own: 4 in 10 drip their headers one byte a second (cut at the
fetch deadline), 3 answer 500 and 3 answer garbage. A first cycle (not measured) fills the
crawler's state.

A: `Crawler.poll_feeds` over every feed, default settings (fetch deadline 15 s, one
request a second per host, 8 fetches in flight). B, alternating with A in the same run:
bare httpx conditional GETs of the same feeds on 16 threads with chipwire's connection-
pool limits, no parsing, no state, skipping the dripping feeds (bare httpx has no total
deadline: it would wait for the drip to end). CPU is the crawling process's CPU time
(every thread; the farm is another process).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# this checkout, or with --code=DIR another one's crawler (e.g. `git archive` of a commit)
sys.path.insert(
    0,
    next(
        (a[7:] for a in sys.argv if a.startswith("--code=")),
        str(Path(__file__).resolve().parent.parent),
    ),
)

import httpx

from bench.common import machine, table, write_result
from chipwire.settings import Settings
from ingest import state
from ingest.crawl import Crawler
from ingest.extract import extract_page
from ingest.fetch import make_client
from ingest.sources import Source

HOSTS = 20
VOCABULARY = (
    "port officials said the review of licences for graphics processors would continue "
    "while importers submitted declarations about end users and traders waited for rules "
    "on shipments of accelerators memory chips and tools from suppliers in several markets"
)
WORDS = VOCABULARY.split()


def kind_of(i: int, feeds: int) -> str:
    """Feed i's behaviour: the hostile 1 % and the 4 % with news are spread over the list."""
    if i % 100 == 0:
        return ("slow", "slow", "slow", "slow", "err", "err", "err", "junk", "junk", "junk")[
            (i // 100) % 10
        ]
    if i % 23 == 1:  # 23 is prime to the 20 hosts: the news is spread over every host
        return "news"
    return "quiet"


def host_index(i: int) -> int:
    """Feed i's host. The hostile feeds each on a host of their own: with one feed request
    in flight per host, two dripping feeds on one host would poll one after the other."""
    return (i // 100) % HOSTS if i % 100 == 0 else i % HOSTS


def article(seed: str) -> bytes:
    rng = random.Random(seed)
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + ".</p>"
        for _ in range(6)
    )
    return (
        f"<html lang='en'><head><title>Sample report {seed}</title></head><body>"
        f"<article><h1>Sample report {seed}</h1>{paragraphs}</article></body></html>"
    ).encode()


def rss(links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>item {n}</title><link>{u}</link>"
        "<pubDate>Tue, 13 Jan 2026 09:00:00 GMT</pubDate></item>"
        for n, u in enumerate(links)
    )
    channel = f"<channel><title>sample</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


def farm(feeds: int, ready: Connection) -> None:
    """The feed farm (its own process): one threaded HTTP server per loopback address."""
    rounds: dict[int, int] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            kind, _, name = self.path.strip("/").partition("/")
            if kind == "quiet":
                if self.headers.get("If-None-Match") == '"v1"':
                    return self.send(304, b"", ETag='"v1"')
                return self.send(200, rss([]), ETag='"v1"', Content_Type="application/rss+xml")
            if kind == "news":
                i = int(name.split(".")[0])
                if "X-Baseline" not in self.headers:  # the baseline's GETs bring no news
                    rounds[i] = rounds.get(i, 0) + 1
                base = f"http://{self.headers['Host']}/page/{i}-"
                links = [f"{base}{r}.html" for r in range(rounds[i], max(0, rounds[i] - 10), -1)]
                return self.send(200, rss(links), ETag=f'"v{rounds[i]}"')
            if kind == "page":
                return self.send(200, article(name), Content_Type="text/html; charset=utf-8")
            if kind == "slow":
                return self.drip()
            if kind == "err":
                return self.send(500, b"internal error")
            if kind == "junk":
                return self.send(200, random.randbytes(2048), Content_Type="application/rss+xml")
            self.send(404, b"not found")

        def send(self, status: int, body: bytes, **headers: str) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key.replace("_", "-"), value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def drip(self) -> None:
            for i in range(600):
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n" if i == 0 else b"X")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(1)  # the hostile server's pace

        def log_message(self, format: str, *args: Any) -> None:
            return

    servers = []
    for h in range(HOSTS):
        server = ThreadingHTTPServer((f"127.0.0.{h + 1}", 0), Handler)
        server.daemon_threads = True
        servers.append(server)
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.send([f"http://127.0.0.{h + 1}:{s.server_address[1]}" for h, s in enumerate(servers)])
    servers[0].serve_forever()


def feed_sources(bases: list[str], feeds: int) -> list[Source]:
    return [
        Source(
            id=f"f{i:04d}",
            name=f"Feed {i}",
            feed=f"{bases[host_index(i)]}/{kind_of(i, feeds)}/{i}.xml",
        )
        for i in range(feeds)
    ]


EXTRACTING: list[float] = []  # CPU seconds of each page extraction, in any thread


def timed_extraction(extract: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        started = time.thread_time()
        try:
            return extract(*args)
        finally:
            EXTRACTING.append(time.thread_time() - started)

    return run


def measured(run: Callable[[], object]) -> dict[str, float]:
    EXTRACTING.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    polling = cpu - sum(EXTRACTING)
    return {
        "cpu_s": cpu,
        "wall_s": wall,
        "core_pct": 100 * cpu / wall,
        "extract_cpu_s": sum(EXTRACTING),
        "polling_core_pct": 100 * polling / wall,
    }


def bare_cycle(client: httpx.Client, sources: list[Source]) -> None:
    def get(source: Source) -> None:
        headers = {"If-None-Match": '"v1"', "X-Baseline": "1"}
        with contextlib.suppress(httpx.HTTPError):
            client.get(source.feed, headers=headers).read()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(get, [s for s in sources if "/slow/" not in s.feed]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 feeds, 3 s deadline, 1 round")
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--code", help="=DIR: the chipwire checkout whose crawler is measured")
    args = parser.parse_args()
    feeds, rounds = (100, 1) if args.quick else (args.feeds, args.rounds)
    tmp = Path(tempfile.mkdtemp(prefix="chipwire-bench-cycle-"))
    settings = Settings(
        data_dir=tmp / "data",
        allow_private_addresses=True,
        extract_workers=0,  # extraction in this process, so its CPU is counted
        **({"fetch_timeout_s": 3.0} if args.quick else {}),
    )
    logging.basicConfig(filename=tmp / "crawl.log", level=logging.INFO)
    theirs, ours = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.get_context("fork").Process(
        target=farm, args=(feeds, ours), daemon=True
    )
    server.start()
    sources = feed_sources(theirs.recv(), feeds)
    crawler = Crawler(settings, state.connect(settings.state_db), make_client(settings), None)
    # None means "the workers' extract_page": with no workers it must be named here, or
    # every new page fails to extract (and the news feeds measure page retries instead)
    crawler.extract_fn = timed_extraction(crawler.extract_fn or extract_page)
    # the same connection pool as chipwire's client: the ratio is the crawler's own cost
    pool = httpx.Limits(
        max_connections=settings.fetch_concurrency * 2,
        max_keepalive_connections=settings.fetch_concurrency * 2,
    )
    bare = httpx.Client(timeout=settings.fetch_timeout_s, limits=pool, trust_env=False)
    try:
        first = measured(lambda: crawler.poll_feeds(sources))
        print(f"first cycle (fills the state, not counted): {first['wall_s']:.1f} s", flush=True)
        a: list[dict[str, float]] = []
        b: list[dict[str, float]] = []
        statuses: dict[str, int] = {}
        for n in range(rounds):
            reports: list[Any] = []
            a.append(measured(lambda out=reports: out.extend(crawler.poll_feeds(sources))))
            b.append(measured(lambda: bare_cycle(bare, sources)))
            statuses = {}
            for r in reports:
                key = r.status if r.status != "ok" else f"ok, {r.outcomes.get('ok', 0)} new"
                statuses[key] = statuses.get(key, 0) + 1
            print(f"round {n + 1}: A {a[-1]} B {b[-1]} {statuses}", flush=True)
    finally:
        getattr(crawler, "close", lambda: None)()
        bare.close()
        server.kill()
    med = {k: statistics.median(r[k] for r in a) for k in a[0]}
    bare_med = {k: statistics.median(r[k] for r in b) for k in b[0]}
    deadline = settings.fetch_timeout_s
    result = {
        "code": args.code or "this checkout",
        "feeds": feeds,
        "rounds": rounds,
        "deadline_s": deadline,
        "chipwire": a,
        "bare_httpx": b,
        "median": med,
        "bare_median": bare_med,
        "cpu_ratio_vs_bare": med["cpu_s"] / bare_med["cpu_s"],
        "wall_over_deadline": med["wall_s"] / deadline,
        "last_round_statuses": statuses,
    }
    path = write_result("crawl_cycle", {**result, "machine": machine()})
    print(
        table(
            ["measure (median of rounds)", "chipwire cycle", "bare httpx GETs"],
            [
                ["CPU s", f"{med['cpu_s']:.2f}", f"{bare_med['cpu_s']:.2f}"],
                ["wall s", f"{med['wall_s']:.2f}", f"{bare_med['wall_s']:.2f}"],
                ["% of one core", f"{med['core_pct']:.1f}", f"{bare_med['core_pct']:.1f}"],
                ["CPU s extracting the new pages", f"{med['extract_cpu_s']:.2f}", "—"],
                ["% of one core without extraction", f"{med['polling_core_pct']:.1f}", "—"],
                ["wall ÷ slowest feed's deadline", f"{med['wall_s'] / deadline:.2f}", "—"],
            ],
        )
    )
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("CHIPWIRE_CONFIG", "/nonexistent/chipwire.toml")
    sys.exit(main())
