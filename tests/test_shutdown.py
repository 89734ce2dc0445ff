"""`chipwire run` as a real process stops cleanly and in time: SIGTERM during a crawl
exits within 5 s with everything accepted kept, even while a server drips its headers;
two quick Ctrl-C never crash it."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.loopback import LoopbackServer, header_drip, trickle
from tests.runkit import RunProcess
from tests.test_e2e_process import ARTICLES, page, wait_for

SLOW_PAGE_S = 40  # a page that trickles for longer than any stop may take


def feed(server: LoopbackServer, path: str, slugs: list[str]) -> None:
    items = "".join(
        f"<item><title>{s}</title><link>{server.url('/news/' + s + '.html')}</link>"
        f"<pubDate>1{i} Jan 2026 08:00:00 GMT</pubDate></item>"
        for i, s in enumerate(slugs)
    )
    server.add(path, f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>')


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    for slug, (title, body) in ARTICLES.items():
        server.add(f"/news/{slug}.html", page(title, body), Content_Type="text/html")
    server.add_handler("/news/slow.html", trickle(SLOW_PAGE_S))
    feed(server, "/fast.xml", ["customs-halt", "phone-launch"])
    feed(server, "/slow.xml", ["slow"])
    yield server
    server.close()


class Run(RunProcess):
    def __init__(self, tmp: Path, site: LoopbackServer) -> None:
        super().__init__(
            tmp,
            "sources:\n"
            f"  - {{id: fast, name: Fast, feed: '{site.url('/fast.xml')}'}}\n"
            f"  - {{id: slow, name: Slow, feed: '{site.url('/slow.xml')}'}}\n",
            # the two feeds stand for two sites: on loopback they share one host, whose
            # politeness limit would otherwise hold the fast pages behind the slow one
            "poll_interval_s = 2\nallow_private_addresses = true\nhost_min_interval_s = 0\n"
            "host_concurrency = 4\nextract_workers = 1\nfetch_timeout_s = 60\n",
        )

    def indexed(self) -> int:
        import httpx

        try:
            answer = httpx.get(f"http://127.0.0.1:{self.port}/api/search", timeout=2)
        except httpx.HTTPError:
            return -1
        return int(answer.json()["total"]) if answer.status_code == 200 else -1

    def signal_and_wait(self, *signals: int) -> tuple[int, float]:
        assert self.proc is not None
        started = time.monotonic()
        for sig in signals:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        return code, time.monotonic() - started


@pytest.mark.timeout(180)
def test_sigterm_mid_crawl_exits_within_5s_and_keeps_what_was_accepted(
    tmp_path: Path, site: LoopbackServer, request: pytest.FixtureRequest
) -> None:
    run = Run(tmp_path, site)
    request.addfinalizer(run.kill)
    run.start()
    wait_for(lambda: run.indexed() == 2, 60, "the fast feed's articles to be searchable")
    wait_for(lambda: site.hits.get("/news/slow.html", 0) >= 1, 30, "the slow page's fetch")

    code, took = run.signal_and_wait(signal.SIGTERM)
    log = run.log.read_text()
    print(f"SIGTERM mid-crawl: exit {code} after {took:.2f}s")
    assert code == 0, log
    assert took < 5, log
    assert "Traceback" not in log
    assert "SIGTERM: stopping cleanly" in log

    # nothing lost: a restart serves both articles; the slow one, now fast, joins them
    site.add("/news/slow.html", page(*ARTICLES["import-approval"]), Content_Type="text/html")
    run.start()
    wait_for(lambda: run.indexed() == 3, 60, "all three articles after the restart")
    code, took = run.signal_and_wait(signal.SIGTERM)
    assert code == 0 and took < 5


@pytest.mark.timeout(120)
def test_two_quick_ctrl_c_stop_now_without_a_traceback(
    tmp_path: Path, site: LoopbackServer, request: pytest.FixtureRequest
) -> None:
    run = Run(tmp_path, site)
    request.addfinalizer(run.kill)
    run.start()
    wait_for(lambda: site.hits.get("/news/slow.html", 0) >= 1, 60, "the slow page's fetch")
    assert run.proc is not None
    run.proc.send_signal(signal.SIGINT)
    # two signals sent back to back reach Python as one: send the second once the first
    # was handled, as a person pressing Ctrl-C twice does
    wait_for(lambda: "stopping cleanly" in run.log.read_text(), 30, "the first Ctrl-C")
    code, took = run.signal_and_wait(signal.SIGINT)
    log = run.log.read_text()
    print(f"double SIGINT: exit {code} after {took:.2f}s")
    assert code == 0, log
    assert took < 2, log  # the second Ctrl-C does not wait for the grace period
    assert "Traceback" not in log
    assert "stopping now" in log


@pytest.mark.timeout(120)
def test_sigterm_while_a_server_drips_headers_abandons_the_fetch_and_exits_at_once(
    tmp_path: Path, site: LoopbackServer, request: pytest.FixtureRequest
) -> None:
    """The drip's fetch has a 60 s deadline: the crawl must give it up on the signal, not
    be left behind by the grace period's forced exit ("stopping now")."""
    dripping = threading.Event()
    site.add_handler("/drip.xml", header_drip(600, dripping))
    run = RunProcess(
        tmp_path,
        f"sources:\n  - {{id: drip, name: Drip, feed: '{site.url('/drip.xml')}'}}\n",
        "poll_interval_s = 2\nallow_private_addresses = true\nextract_workers = 1\n"
        "fetch_timeout_s = 60\n",
    )
    request.addfinalizer(run.kill)
    run.start("crawl")
    assert dripping.wait(60), run.log.read_text()
    assert run.proc is not None
    started = time.monotonic()
    run.proc.send_signal(signal.SIGTERM)
    code = run.proc.wait(timeout=30)
    took = time.monotonic() - started
    log = run.log.read_text()
    print(f"SIGTERM during a header drip: exit {code} after {took:.2f}s")
    assert code == 0 and took < 5, log
    assert "Traceback" not in log
    assert "stopping now" not in log  # the crawl stopped by itself, within the grace period
