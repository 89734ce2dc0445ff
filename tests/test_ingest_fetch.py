"""The fetcher against misbehaving servers on loopback: nothing bad gets through or hangs."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipwire.errors import Discard, Retry
from chipwire.settings import Settings
from ingest.fetch import (
    FetchResult,
    GuardedClient,
    Resolver,
    Throttled,
    embedded_ipv4,
    fetch,
    make_client,
    public_only,
)
from ingest.loopfetch import LoopFetcher
from tests.loopback import LoopbackServer, gzip_bomb, header_drip, redirect, trickle

Fetcher = Callable[..., FetchResult]


def loop_fetch(client: GuardedClient, url: str, **params: Any) -> FetchResult:
    """The crawler's fetcher of feeds, pages and robots.txt (aiohttp, on an event loop) with
    its client's policy, resolver and limits: every hostile case below holds for it as for
    `fetch` (what extraction workers use with `fetch_in_workers`)."""

    async def run() -> FetchResult:
        fetcher = LoopFetcher(client)
        try:
            return await fetcher.fetch(url, **params)
        finally:
            await fetcher.close()

    return asyncio.run(run())


@pytest.fixture(params=[fetch, loop_fetch], ids=["sync-httpx", "loop-aiohttp"])
def fetcher(request: pytest.FixtureRequest) -> Fetcher:
    made: Fetcher = request.param
    return made


def _get(fetcher: Fetcher, settings: Settings, url: str, **kwargs: object) -> FetchResult:
    with make_client(settings) as client:
        params = {"max_bytes": 1_000_000, "deadline_s": 3.0, "max_redirects": 3, **kwargs}
        return fetcher(client, url, **params)


def test_plain_fetch_returns_body_and_final_url(
    fetcher: Fetcher, server: LoopbackServer, settings: Settings
) -> None:
    url = server.add("/a", "<html>hello</html>", Content_Type="text/html")
    result = _get(fetcher, settings, url)
    assert result.status == 200 and result.body == b"<html>hello</html>"  # type: ignore[attr-defined]


def test_loopback_is_blocked_by_default(fetcher: Fetcher, server: LoopbackServer, tmp_path) -> None:
    url = server.add("/secret", "INTERNAL")
    with pytest.raises(Discard) as caught:
        _get(fetcher, Settings(data_dir=tmp_path), url)
    assert caught.value.reason == "blocked-address"
    assert server.hits.get("/secret") is None


def test_redirect_into_a_private_address_is_blocked_at_connect_time(
    fetcher: Fetcher, tmp_path
) -> None:
    internal = LoopbackServer("127.0.0.1")
    public = LoopbackServer("127.0.0.2")  # plays a public host in this test
    try:
        secret = internal.add("/secret", "INTERNAL-SECRET")
        start = public.add_handler("/go", redirect(secret))
        with (
            make_client(
                Settings(data_dir=tmp_path), allowed=lambda ip: ip == "127.0.0.2"
            ) as client,
            pytest.raises(Discard) as caught,
        ):
            fetcher(client, start, max_bytes=10_000, deadline_s=3, max_redirects=3)
        assert caught.value.reason == "blocked-address"
        assert internal.hits.get("/secret") is None
    finally:
        internal.close()
        public.close()


def test_public_only_policy_rejects_every_private_form() -> None:
    for ip in (
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "100.64.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "192.168.0.1",
    ):
        assert not public_only(ip), ip
    assert public_only("8.8.8.8")


def test_gzip_bomb_stops_at_the_cap(
    fetcher: Fetcher, server: LoopbackServer, settings: Settings
) -> None:
    url = server.add_handler("/bomb", gzip_bomb(64))
    with pytest.raises(Discard) as caught:
        _get(fetcher, settings, url, max_bytes=2_000_000)
    assert caught.value.reason == "too-large"


def test_trickling_server_is_cut_by_the_wall_clock_deadline(
    fetcher: Fetcher, server: LoopbackServer, settings: Settings
) -> None:
    url = server.add_handler("/slow", trickle(30))
    started = time.monotonic()
    with pytest.raises(Retry):
        _get(fetcher, settings, url, deadline_s=2.0)
    assert time.monotonic() - started < 6


def test_redirect_loop_is_detected(
    fetcher: Fetcher, server: LoopbackServer, settings: Settings
) -> None:
    server.add_handler("/a", redirect("/b"))
    server.add_handler("/b", redirect("/a"))
    with pytest.raises(Discard) as caught:
        _get(fetcher, settings, server.url("/a"), max_redirects=10)
    assert caught.value.reason == "redirect-loop"


def test_too_many_redirects(fetcher: Fetcher, server: LoopbackServer, settings: Settings) -> None:
    for i in range(5):
        server.add_handler(f"/r{i}", redirect(f"/r{i + 1}"))
    server.add("/r5", "end")
    with pytest.raises(Discard) as caught:
        _get(fetcher, settings, server.url("/r0"), max_redirects=3)
    assert caught.value.reason == "too-many-redirects"


def test_conditional_get_gives_not_modified(
    fetcher: Fetcher, server: LoopbackServer, settings: Settings
) -> None:
    url = server.add("/feed", "<rss/>", ETag='"v1"')
    first = _get(fetcher, settings, url)
    second = _get(fetcher, settings, url, etag=first.headers["etag"])  # type: ignore[attr-defined]
    assert second.not_modified  # type: ignore[attr-defined]


def test_429_carries_retry_after(
    fetcher: Fetcher, server: LoopbackServer, settings: Settings
) -> None:
    url = server.add("/busy", "slow down", status=429, Retry_After="120")
    with pytest.raises(Throttled) as caught:
        _get(fetcher, settings, url)
    assert caught.value.retry_after_s == 120


def test_404_is_permanent_and_500_is_transient(
    fetcher: Fetcher, server: LoopbackServer, settings: Settings
) -> None:
    server.add("/gone", "", status=404)
    server.add("/broken", "", status=500)
    with pytest.raises(Discard):
        _get(fetcher, settings, server.url("/gone"))
    with pytest.raises(Retry):
        _get(fetcher, settings, server.url("/broken"))


def test_non_http_urls_are_never_fetched(fetcher: Fetcher, settings: Settings) -> None:
    for url in ("javascript:alert(1)", "file:///etc/passwd", "ftp://x.org/a"):
        with pytest.raises(Discard):
            _get(fetcher, settings, url)


def test_ipv6_forms_of_private_ipv4_and_site_local_and_multicast_are_refused() -> None:
    for ip in (
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::1",  # local-use NAT64
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::ffff:a9fe:a9fe",  # IPv4-mapped metadata address
        "fec0::1",  # site-local
        "ff02::1",
        "ff0e::1",  # multicast, global scope included
        "239.1.1.1",
        "224.0.0.251",
    ):
        assert not public_only(ip), ip
    for ip in ("64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8", "2606:4700::1111"):
        assert public_only(ip), ip


ipv4s = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)


@given(ipv4s)
def test_every_ipv6_wrapping_of_an_ipv4_address_is_judged_as_that_address(
    v4: ipaddress.IPv4Address,
) -> None:
    expected = public_only(str(v4))
    wrapped = {
        "mapped": ipaddress.IPv6Address(0xFFFF << 32 | int(v4)),
        "nat64": ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(v4)),
        "6to4": ipaddress.IPv6Address(0x2002 << 112 | int(v4) << 80 | 1),
        "compatible": ipaddress.IPv6Address(int(v4)),
    }
    for form, v6 in wrapped.items():
        assert public_only(str(v6)) == expected, (form, v6)


@given(st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address))
def test_no_allowed_ipv6_address_is_in_a_refused_range(v6: ipaddress.IPv6Address) -> None:
    refused = [
        ipaddress.IPv6Network(n)
        for n in ("fec0::/10", "ff00::/8", "fe80::/10", "fc00::/7", "::1/128", "64:ff9b:1::/48")
    ]
    if public_only(str(v6)):
        assert not any(v6 in network for network in refused)
        embedded = embedded_ipv4(v6)
        assert embedded is None or public_only(str(embedded))


@given(st.text(max_size=60))
def test_url_checks_never_raise_and_only_pass_http(url: str) -> None:
    from ingest.canonical import is_http_url
    from ingest.feeds import _link

    if is_http_url(url):
        assert urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname
    link = _link(url, "https://base.example/feed")
    assert link is None or is_http_url(link)


@given(st.sampled_from(["http://[::1", "http://[", "http://a:99999/", "javascript:x", "//[::1"]))
def test_malformed_urls_are_rejected_not_raised(url: str) -> None:
    from ingest.feeds import _link

    assert _link(url, "https://base.example/feed") is None


def test_a_server_dripping_its_headers_is_cut_by_the_wall_clock_deadline(
    fetcher: Fetcher, server: LoopbackServer, settings: Settings
) -> None:
    url = server.add_handler("/drip", header_drip(120))
    started = time.monotonic()
    with make_client(settings) as client, pytest.raises(Retry) as raised:
        fetcher(client, url, max_bytes=1000, deadline_s=2, max_redirects=0)
    assert raised.value.reason == "timeout"
    assert time.monotonic() - started < 5


def _hanging_resolver(asked: threading.Event, release: threading.Event) -> Resolver:
    def resolve(host: str, port: int) -> list[str]:
        asked.set()
        release.wait(30)  # a resolver that does not answer (released when the test ends)
        return ["127.0.0.1"]

    return resolve


def test_a_hanging_name_lookup_is_cut_by_the_fetch_deadline(
    fetcher: Fetcher, server: LoopbackServer, settings: Settings
) -> None:
    url = server.add("/a", "<html>hello</html>").replace("127.0.0.1", "feeds.invalid")
    asked, release = threading.Event(), threading.Event()
    started = time.monotonic()
    try:
        with (
            make_client(settings, resolve=_hanging_resolver(asked, release)) as client,
            pytest.raises(Retry) as raised,
        ):
            fetcher(client, url, max_bytes=1000, deadline_s=1, max_redirects=0)
    finally:
        release.set()
    assert asked.is_set() and raised.value.reason == "timeout"
    assert time.monotonic() - started < 3


def test_a_hanging_name_lookup_is_abandoned_at_shutdown(
    server: LoopbackServer, settings: Settings
) -> None:
    url = server.add("/a", "<html>hello</html>").replace("127.0.0.1", "feeds.invalid")
    asked, release, stop = threading.Event(), threading.Event(), threading.Event()
    threading.Thread(target=lambda: asked.wait(10) and stop.set(), daemon=True).start()
    started = time.monotonic()
    try:
        with (
            make_client(settings, resolve=_hanging_resolver(asked, release)) as client,
            pytest.raises(Retry) as raised,
        ):
            fetch(client, url, max_bytes=1000, deadline_s=60, max_redirects=0, stop=stop)
    finally:
        release.set()
    assert raised.value.reason == "stopped"
    assert time.monotonic() - started < 3


def test_the_resolved_address_is_the_one_checked_and_connected(
    fetcher: Fetcher, server: LoopbackServer, settings: Settings
) -> None:
    url = server.add("/a", "<html>hello</html>").replace("127.0.0.1", "feeds.invalid")
    with make_client(settings, resolve=lambda host, port: ["127.0.0.1"]) as client:
        assert fetcher(client, url, max_bytes=1000, deadline_s=3, max_redirects=0).body == (
            b"<html>hello</html>"
        )
    with (
        make_client(settings, allowed=public_only, resolve=lambda h, p: ["127.0.0.1"]) as client,
        pytest.raises(Discard) as blocked,
    ):
        fetcher(client, url, max_bytes=1000, deadline_s=3, max_redirects=0)
    assert blocked.value.reason == "blocked-address" and server.hits["/a"] == 1


def test_a_feed_fetch_in_a_hanging_name_lookup_ends_at_once_when_cancelled(
    server: LoopbackServer, settings: Settings
) -> None:
    """A crawler's stop cancels its feed fetches (tasks on its loop): even one waiting
    for a resolver that never answers ends at once."""
    url = server.add("/a", "<html>hello</html>").replace("127.0.0.1", "feeds.invalid")
    asked, release = threading.Event(), threading.Event()

    async def run() -> float:
        client = make_client(settings, resolve=_hanging_resolver(asked, release))
        fetcher = LoopFetcher(client)
        params = {"max_bytes": 1000, "deadline_s": 60, "max_redirects": 0}
        task = asyncio.ensure_future(fetcher.fetch(url, **params))  # type: ignore[arg-type]
        assert await asyncio.to_thread(asked.wait, 5)  # the fetch's lookup has begun
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await fetcher.close()
        client.close()
        return time.monotonic() - cancelled_at

    try:
        assert asyncio.run(asyncio.wait_for(run(), 10)) < 1
    finally:
        release.set()
