"""The crawler's GETs on its event loop (aiohttp), with the guarantees of ingest/fetch.py.

Feeds, article pages and robots.txt: aiohttp parses responses in C (llhttp) and runs on
the crawl's loop, so a fetch holds no thread while the server answers and takes no thread
hop; bare conditional GETs of the cycle bench's feeds cost about a quarter of httpx's CPU
(`bench/bench_feed_http.py`), and a page fetched here about a third of the crawl thread's
CPU per article (docs/benchmarks.md). Extraction workers that fetch their own pages
(`fetch_in_workers`) keep the synchronous httpx fetcher.

- Every address is checked where aiohttp connects: names through `_CheckedResolver` (the
  connection goes to the addresses it returns, and only checked ones are returned), IP
  literals before the request (aiohttp does not resolve them). Every redirect hop again.
- One wall-clock deadline (`asyncio.timeout`) covers the lookup, connect, headers, body
  and every redirect hop; a shutdown cancels the task, which ends the fetch at once.
- Bodies are read raw and inflated here, never past the cap (a gzip bomb stops at it);
  or, for a page on its way to an extraction worker (`inflate=False`), kept as they came
  (about a fifth of the bytes through the pipe) and inflated, under the same cap, there.
- Redirects by hand, resolved against the URL of the hop, loops detected.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
import zlib

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from chipwire.errors import Discard, Retry
from chipwire.metrics import FETCHES
from ingest.fetch import (
    AddressPolicy,
    FetchResult,
    GuardedClient,
    Resolver,
    check_hop,
    classify,
    fetch_status,
    redirect_target,
)
from ingest.inflate import INFLATABLE, add_capped, inflater

_DRAIN_LIMIT = 65_536  # a short non-200 body is read to its end: the connection is kept
# lookups hanging at once (a resolver that never answers): past this a lookup fails at once
_LOOKUPS = threading.BoundedSemaphore(32)


class Blocked(Exception):
    """The host resolves to an address the policy refuses."""


class _CheckedResolver(AbstractResolver):
    """Resolves in a daemon thread (the system resolver cannot be interrupted: a lookup
    cut by the deadline is left to end on its own) and refuses the whole answer when any
    address is refused; aiohttp connects only to the addresses returned."""

    def __init__(self, allowed: AddressPolicy, resolve: Resolver) -> None:
        self._allowed = allowed
        self._resolve = resolve

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await _lookup(self._resolve, host, port)
        if not addresses:
            raise OSError(f"cannot resolve {host}: no address")
        blocked = [a for a in addresses if not self._allowed(a)]
        if blocked:
            raise Blocked(f"blocked address for {host}: {blocked[0]}")
        return [
            ResolveResult(
                hostname=host,
                host=a,
                port=port,
                family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for a in addresses
        ]

    async def close(self) -> None:
        return None


async def _lookup(resolve: Resolver, host: str, port: int) -> list[str]:
    if not _LOOKUPS.acquire(blocking=False):
        raise OSError(f"resolving {host}: too many lookups hanging")
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[list[str]] = loop.create_future()

    def settle(value: list[str] | BaseException) -> None:
        if answer.done():
            return  # the fetch gave up waiting
        if isinstance(value, BaseException):
            answer.set_exception(OSError(f"cannot resolve {host}: {value!r}"))
        else:
            answer.set_result(value)

    def run() -> None:
        value: list[str] | BaseException
        try:
            value = resolve(host, port)
        except BaseException as exc:  # handed to the fetch, which says what went wrong
            value = exc
        finally:
            _LOOKUPS.release()
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            loop.call_soon_threadsafe(settle, value)

    threading.Thread(target=run, name=f"resolve {host}", daemon=True).start()
    return await answer


class LoopFetcher:
    """One per crawler, used on its event loop only (feeds, pages, robots.txt), with its
    synchronous client's address policy, resolver, user agent and TLS context. The session
    (and its connection pool, kept per origin by aiohttp) is made on first use, on the loop."""

    def __init__(self, client: GuardedClient) -> None:
        self._config = client.config
        self._allowed = client.policy
        self._resolve = client.resolve
        self._tls = client.tls
        self._session: aiohttp.ClientSession | None = None
        self._headers = {"User-Agent": client.config.user_agent, "Accept-Encoding": "gzip, deflate"}

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=_CheckedResolver(self._allowed, self._resolve),
                ssl=self._tls,  # one TLS context for every origin
                limit=0,  # the crawler's own caps bound what is in flight
                limit_per_host=self._config.keepalive_per_origin,
                ttl_dns_cache=10,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # inflated here, never past the cap
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5.0),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(
        self,
        url: str,
        *,
        max_bytes: int,
        deadline_s: float,
        max_redirects: int,
        etag: str | None = None,
        last_modified: str | None = None,
        kind: str = "feed",
        inflate: bool = True,
    ) -> FetchResult:
        """GET `url` safely within `deadline_s` in all. Raises Discard for permanent
        failures, Retry for transient ones; counted once in chipwire_fetches_total.
        `inflate=False` keeps a gzip or deflate body as sent (`FetchResult.encoding`), at
        most `max_bytes` of it: whoever reads it inflates it under the same cap."""
        headers = dict(self._headers)
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            async with asyncio.timeout(deadline_s):
                result = await self._follow(url, headers, max_bytes, max_redirects, inflate)
        except TimeoutError as exc:
            FETCHES.labels(kind, "timeout").inc()
            raise Retry("timeout", f"{url}: not done within {deadline_s:g} s") from exc
        except Exception as exc:
            FETCHES.labels(kind, fetch_status(exc)).inc()
            raise
        FETCHES.labels(kind, fetch_status(result)).inc()
        return result

    async def _follow(
        self, url: str, headers: dict[str, str], max_bytes: int, max_redirects: int, inflate: bool
    ) -> FetchResult:
        visited: set[str] = set()
        current = url
        for _hop in range(max_redirects + 1):
            check_hop(current, visited)
            result = await self._get_once(current, headers, max_bytes, inflate)
            target = redirect_target(current, result)
            if target is None:
                return classify(result)
            current = target
        raise Discard("too-many-redirects", url)

    async def _get_once(
        self, url: str, headers: dict[str, str], max_bytes: int, inflate: bool
    ) -> FetchResult:
        try:
            target = URL(url, encoded=False)
            self._check_literal(target.host or "")
            async with self._session_now().get(
                target, headers=headers, allow_redirects=False
            ) as response:
                body, encoding = b"", ""
                if response.status == 200:
                    body, encoding = await _read_capped(response, url, max_bytes, inflate)
                else:
                    await _drain(response)
                return FetchResult(url, response.status, body, _headers(response), encoding)
        except zlib.error as exc:
            raise Discard("bad-encoding", f"{url}: {exc}") from exc
        except Blocked as exc:
            raise Discard("blocked-address", f"{url}: {exc}") from exc
        except aiohttp.ClientConnectorDNSError as exc:
            if isinstance(exc.os_error, Blocked):
                raise Discard("blocked-address", f"{url}: {exc.os_error}") from exc
            raise Retry("connect-error", f"{url}: {exc}") from exc
        except (aiohttp.InvalidURL, ValueError) as exc:
            raise Discard("bad-url", f"{url}: {exc}") from exc
        except (aiohttp.ClientConnectorError, ConnectionError) as exc:
            raise Retry("connect-error", f"{url}: {exc}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise Retry("http-error", f"{url}: {type(exc).__name__}: {exc}") from exc

    def _check_literal(self, host: str) -> None:
        """aiohttp connects to an IP literal without resolving it: check it here."""
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return  # a name: the resolver checks it
        if not self._allowed(host.strip("[]")):
            raise Blocked(f"blocked address for {host}: {host}")


async def _read_capped(
    response: aiohttp.ClientResponse, url: str, max_bytes: int, inflate: bool
) -> tuple[bytes, str]:
    """Raw bytes as they arrive, inflated here (or kept as sent), never past the cap; and
    the encoding they still have."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    decompress = inflater(encoding)  # an encoding nobody can inflate is refused here
    kept = "" if inflate or encoding not in INFLATABLE else encoding
    if kept:
        decompress = None
    body = bytearray()
    async for chunk in response.content.iter_any():
        add_capped(body, chunk, decompress, url, max_bytes)
    return bytes(body), kept


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read a short non-200 body (a 304's is empty) to its end, so that the connection goes
    back to the pool; a longer one is left, and its connection closed."""
    read = 0
    async for chunk in response.content.iter_any():
        read += len(chunk)
        if read > _DRAIN_LIMIT:
            response.close()
            return


def _headers(response: aiohttp.ClientResponse) -> dict[str, str]:
    """Lower-case names; a repeated header joined with commas, as httpx does."""
    merged: dict[str, str] = {}
    for key, value in response.headers.items():
        name = key.lower()
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged
