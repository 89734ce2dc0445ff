"""`chipwire run` as a real process: an item that appears in a feed is searchable and its
alert mailed within one poll interval + 5 s; a SIGKILL loses nothing and a restart re-sends
nothing; SIGTERM stops cleanly."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.loopback import LoopbackServer
from tests.runkit import RunProcess
from tests.smtp import Inbox

POLL_INTERVAL_S = 2.0
ARTICLES = {
    "customs-halt": (
        "Customs officers turn back Nvidia H200 shipments",
        "China's customs administration told import agents on Tuesday that Nvidia's H200 "
        "processors are not permitted to enter the country, according to three logistics "
        "firms briefed on the instruction. Shipments already at the border in Shenzhen were "
        "sent back to Hong Kong warehouses. The customs notice did not say how long the "
        "measure would last, and the agency did not respond to a request for comment. "
        "Distributors said the order covered the H200 alone, and that earlier orders were "
        "left in limbo.",
    ),
    "phone-launch": (
        "Handset maker shows off a slimmer flagship",
        "A Shenzhen handset maker unveiled a slimmer flagship phone on Wednesday with a larger "
        "battery, a periscope camera and a brighter display. The company said sales begin next "
        "month in twenty markets at a price slightly above last year's model. Reviewers praised "
        "the build quality and the battery life, while some questioned the price of the top "
        "storage option. The firm expects the device to lift its share of the premium segment.",
    ),
    "import-approval": (
        "Beijing approves first Nvidia H200 imports",
        "China's commerce ministry approved the first imports of Nvidia's H200 chips for three "
        "large internet companies on Thursday, people familiar with the decision said, lifting "
        "a block imposed two weeks earlier. The approvals allow the firms to bring in several "
        "hundred thousand H200 units for their data centres, under conditions that limit use "
        "to commercial workloads. Officials granted the licences after weeks of review.",
    ),
}


def page(title: str, body: str) -> str:
    paragraphs = "".join(f"<p>{s.strip()}.</p>" for s in body.split(". ") if s.strip())
    return (
        f"<html lang='en'><head><title>{title}</title></head><body><nav>Home | World</nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article><footer>Test site</footer></body></html>"
    )


def publish_feed(server: LoopbackServer, slugs: list[str], days: dict[str, int]) -> None:
    items = "".join(
        f"<item><title>{ARTICLES[s][0]}</title><link>{server.url('/news/' + s + '.html')}</link>"
        f"<pubDate>{days[s]:02d} Jan 2026 08:00:00 GMT</pubDate></item>"
        for s in slugs
    )
    server.add(
        "/feed.xml",
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>w</title>{items}</channel></rss>',
    )


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    for slug, (title, body) in ARTICLES.items():
        server.add(f"/news/{slug}.html", page(title, body), Content_Type="text/html")
    yield server
    server.close()


class Run(RunProcess):
    def __init__(self, tmp: Path, site: LoopbackServer, smtp_port: int) -> None:
        super().__init__(
            tmp,
            # an official source: one report confirms a move (docs/ALERTS.md), so the latency
            # measured is from the confirming article to the email
            f"sources:\n  - id: wire\n    name: Wire\n    feed: {site.url('/feed.xml')}\n"
            "    official: true\n",
            f"poll_interval_s = {POLL_INTERVAL_S}\nallow_private_addresses = true\n"
            "host_min_interval_s = 0\nextract_workers = 1\n"
            f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp_port}\n',
        )

    def search(self, **params: Any) -> dict[str, Any]:
        try:
            response = httpx.get(
                f"http://127.0.0.1:{self.port}/api/search", params=params, timeout=2
            )
        except httpx.HTTPError:
            return {"total": -1, "hits": []}
        return response.json() if response.status_code == 200 else {"total": -1, "hits": []}

    def stop(self, sig: int) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=40)


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Poll a condition (not a sleep-as-synchronisation: the deadline only bounds the wait)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


@pytest.mark.timeout(240)
def test_run_latency_kill_restart_and_clean_stop(
    tmp_path: Path, site: LoopbackServer, smtp: tuple[Inbox, int], request: pytest.FixtureRequest
) -> None:
    inbox, smtp_port = smtp
    days = {"customs-halt": 13, "phone-launch": 14, "import-approval": 27}
    publish_feed(site, ["customs-halt", "phone-launch"], days)
    run = Run(tmp_path, site, smtp_port)
    request.addfinalizer(run.kill)
    run.start()
    wait_for(lambda: run.search()["total"] == 2, 60, "the first two articles to be searchable")
    assert inbox.messages == []

    # the approval appears in the feed: searchable and mailed within one poll interval + 5 s
    publish_feed(site, list(ARTICLES), days)
    searchable = wait_for(
        lambda: run.search(query='"H200 imports"')["total"] >= 1,
        POLL_INTERVAL_S + 5,
        "the new article to be searchable",
    )
    mailed = wait_for(lambda: len(inbox.messages) == 1, POLL_INTERVAL_S + 5, "the shift email")
    print(f"feed→searchable {searchable:.2f}s, feed→email {mailed:.2f}s")
    assert "CN on H200: restrict → ease" in str(inbox.messages[0]["Subject"])

    # SIGKILL, then restart on the same data: nothing lost, nothing re-sent
    assert run.stop(signal.SIGKILL) == -signal.SIGKILL
    run.start()
    wait_for(lambda: run.search()["total"] == 3, 60, "the restarted process to serve the index")
    site.hits.clear()
    wait_for(lambda: site.hits.get("/feed.xml", 0) >= 2, 20, "two polls after the restart")
    assert len(inbox.messages) == 1
    assert not any(path.startswith("/news/") for path in site.hits)
    assert run.search()["total"] == 3

    # SIGTERM: a clean stop, in time, with the outbox empty
    assert run.stop(signal.SIGTERM) == 0
    with sqlite3.connect(tmp_path / "data" / "state.sqlite") as conn:
        (pending,) = conn.execute("SELECT COUNT(*) FROM outbox WHERE sent = 0").fetchone()
    assert pending == 0
