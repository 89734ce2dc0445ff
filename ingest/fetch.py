"""HTTP fetching that bad servers cannot hurt.

- Every connection, on every redirect hop, goes to an address checked at connect time
  (no loopback/private/link-local targets unless allowed): SSRF cannot sneak in.
- Bodies are streamed and capped after decompression (a gzip bomb stops at the cap).
- Each fetch is bounded by wall-clock time, not only per read: connect, headers and body
  (a server dripping its headers or body at 1 byte/s stops at the deadline).
- A fetch in flight is abandoned within a fraction of a second when its `stop` event is set
  (shutdown), even while the server drips its headers.
- Redirects are followed by hand, at most `max_redirects`, loops detected.
- Conditional GET with ETag / Last-Modified; 304 means unchanged.
"""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from chipwire.errors import Discard, PipelineError, Retry, Throttled
from chipwire.metrics import FETCHES
from chipwire.settings import Settings
from ingest.canonical import is_http_url
from ingest.inflate import add_capped, inflater


@dataclass(frozen=True)
class FetchResult:
    url: str  # final URL after redirects
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # the content-encoding `body` still has ("": inflated, or sent as is)
    encoding: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def retry_after_s(self) -> float | None:
        value = self.headers.get("retry-after")
        if not value:
            return None
        if value.strip().isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


AddressPolicy = Callable[[str], bool]


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215 local-use translation
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")  # deprecated, still routed inside sites


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches: IPv4-mapped, IPv4-compatible, 6to4, NAT64."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def public_only(ip: str) -> bool:
    """The default policy: only globally routable unicast addresses. An IPv6 address that
    carries an IPv4 one (mapped, compatible, 6to4, NAT64) is judged by that IPv4 address;
    site-local, local-use NAT64 and multicast are refused (Python 3.11 calls them global)."""
    address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address):
        if address in _SITE_LOCAL or address in _NAT64_LOCAL:
            return False
        address = embedded_ipv4(address) or address
    return address.is_global and not address.is_multicast


def any_unicast(ip: str) -> bool:
    """For the demo and tests on loopback: everything but multicast and unspecified."""
    address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (address.is_multicast or address.is_unspecified)


# The wall-clock deadline of the fetch running in this thread (or context). Every read and
# write on a connection is bounded by what is left of it, so a server that drips its
# headers (each read returning one byte in time) cannot hold a fetch past its deadline.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "fetch_deadline", default=None
)


class Stopping(Protocol):
    """A threading.Event, or a multiprocessing one (in an extraction worker)."""

    def is_set(self) -> bool: ...


# Set by the crawler at shutdown: a read waits at most STOP_POLL_S between looks at it.
_STOP: contextvars.ContextVar[Stopping | None] = contextvars.ContextVar("fetch_stop", default=None)
STOP_POLL_S = 0.2


class Abandoned(Exception):
    """The fetch's stop event was set: it was given up mid-way (not the server's fault)."""


def _bounded(timeout: float | None) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise httpcore.ReadTimeout("the fetch's wall-clock deadline has passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        budget = _bounded(timeout)
        stop = _STOP.get()
        if stop is None:
            return self._inner.read(max_bytes, budget)
        # short waits, so that a stop is seen while a server holds the connection silent
        ends = None if budget is None else time.monotonic() + budget
        while not stop.is_set():
            left = None if ends is None else ends - time.monotonic()
            if left is not None and left <= 0:
                raise httpcore.ReadTimeout("timed out")
            try:
                return self._inner.read(
                    max_bytes, STOP_POLL_S if left is None else min(STOP_POLL_S, left)
                )
            except httpcore.ReadTimeout:
                continue  # nothing was read: the socket is as it was
        raise Abandoned("the crawler is stopping")

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        upgraded = self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout))
        return _DeadlineStream(upgraded)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


Resolver = Callable[[str, int], list[str]]  # (host, port) -> its addresses


def system_resolver(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


# Lookups hanging at once (a resolver that never answers): past this, a new lookup waits
# for a free one within its own deadline instead of adding a thread.
_LOOKUPS = threading.BoundedSemaphore(32)


def _resolve_in_time(resolve: Resolver, host: str, port: int, timeout: float | None) -> list[str]:
    """`resolve(host, port)` bounded by the fetch's deadline: the system resolver cannot be
    interrupted, so it runs in a daemon thread that is left behind when time runs out (it
    ends with the resolver's own timeout) and the fetch goes on without it."""
    budget = _bounded(timeout)
    ends = None if budget is None else time.monotonic() + budget
    if not _LOOKUPS.acquire(timeout=budget):
        raise httpcore.ConnectTimeout(f"resolving {host}: too many lookups hanging")
    answer: list[list[str] | BaseException] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            answer.append(resolve(host, port))
        except BaseException as exc:  # handed to the fetch, which says what went wrong
            answer.append(exc)
        finally:
            _LOOKUPS.release()
            done.set()

    threading.Thread(target=lookup, name=f"resolve {host}", daemon=True).start()
    stop = _STOP.get()
    while not done.wait(STOP_POLL_S if ends is None else min(STOP_POLL_S, ends - time.monotonic())):
        if stop is not None and stop.is_set():
            raise Abandoned("the crawler is stopping")
        if ends is not None and time.monotonic() >= ends:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than the deadline")
    if isinstance(answer[0], socket.gaierror):
        raise httpcore.ConnectError(f"cannot resolve {host}: {answer[0]}") from answer[0]
    if isinstance(answer[0], BaseException):
        raise httpcore.ConnectError(f"cannot resolve {host}: {answer[0]!r}") from answer[0]
    return answer[0]


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves the host itself within the fetch's deadline, checks every address, and
    connects to the checked one."""

    def __init__(self, allowed: AddressPolicy, resolve: Resolver = system_resolver) -> None:
        self._allowed = allowed
        self._resolve = resolve

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = _resolve_in_time(self._resolve, host, port, timeout)
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}: no address")
        blocked = [a for a in addresses if not self._allowed(a)]
        if blocked:
            raise httpcore.ConnectError(f"blocked address for {host}: {blocked[0]}")
        stream = super().connect_tcp(
            addresses[0], port, _bounded(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, backend: _GuardedBackend, limits: httpx.Limits, tls: ssl.SSLContext) -> None:
        super().__init__(verify=tls, limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=tls,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )

    def idle(self) -> bool:
        """No request in flight: closing it now breaks nothing."""
        return all(c.is_idle() for c in self._pool.connections)


class _PerOrigin(httpx.BaseTransport):
    """A small guarded pool per origin (scheme, host, port). httpcore looks for a free
    connection by scanning every connection of its pool for every queued request: one
    shared pool over many hosts made that scan, and the connections it closed to open
    others, most of a 304 poll's CPU. The least recently used origins' pools are closed
    once idle, so idle sockets stay bounded."""

    def __init__(self, make: Callable[[], _GuardedTransport], max_origins: int) -> None:
        self._make = make
        self._max_origins = max_origins
        self._pools: OrderedDict[tuple[bytes, bytes, int | None], _GuardedTransport] = OrderedDict()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        return self._for((url.raw_scheme, url.raw_host, url.port)).handle_request(request)

    def _for(self, origin: tuple[bytes, bytes, int | None]) -> _GuardedTransport:
        with self._lock:
            pool = self._pools.pop(origin, None) or self._make()
            self._pools[origin] = pool  # the most recently used, last
            retired = [
                self._pools.pop(key)
                for key in list(self._pools)[: max(0, len(self._pools) - self._max_origins)]
                if self._pools[key].idle()
            ]
        for old in retired:
            old.close()
        return pool

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            pool.close()


class GuardedClient(httpx.Client):
    """An httpx.Client on the guarded per-origin transport. `fetch` hands its requests to
    that transport itself (BaseTransport's public interface): it follows redirects by hand
    and wants no cookies, auth or hooks, and the client's request machinery around them
    cost as much CPU as a 304 poll's own HTTP work."""

    def __init__(
        self,
        transport: _PerOrigin,
        config: ClientConfig,
        policy: AddressPolicy,
        resolve: Resolver,
        tls: ssl.SSLContext,
        **options: Any,
    ) -> None:
        super().__init__(transport=transport, follow_redirects=False, trust_env=False, **options)
        self.guarded = transport
        self.base_headers = dict(self.headers)  # httpx's defaults and ours, merged once
        # what the crawler's feed fetcher (ingest/loopfetch.py) is made of too
        self.config, self.policy, self.resolve, self.tls = config, policy, resolve, tls


@dataclass(frozen=True)
class ClientConfig:
    """What a guarded client is made of: small and picklable, so that an extraction worker
    builds the same client as the crawler's."""

    user_agent: str
    timeout_s: float
    connections: int
    keepalive_per_origin: int
    allow_private_addresses: bool

    @classmethod
    def of(cls, settings: Settings, connections: int | None = None) -> ClientConfig:
        return cls(
            user_agent=settings.user_agent,
            timeout_s=settings.fetch_timeout_s,
            connections=connections or settings.fetch_concurrency,
            keepalive_per_origin=max(2, settings.host_concurrency),
            allow_private_addresses=settings.allow_private_addresses,
        )


def make_client(
    settings: Settings,
    allowed: AddressPolicy | None = None,
    resolve: Resolver = system_resolver,
) -> GuardedClient:
    return client_from(ClientConfig.of(settings), allowed, resolve)


def client_from(
    config: ClientConfig,
    allowed: AddressPolicy | None = None,
    resolve: Resolver = system_resolver,
) -> GuardedClient:
    policy = allowed or (any_unicast if config.allow_private_addresses else public_only)
    backend = _GuardedBackend(policy, resolve)
    tls = httpx.create_ssl_context()  # loading the CA bundle costs ms: once, not per origin
    per_origin = httpx.Limits(
        max_connections=config.connections,
        max_keepalive_connections=config.keepalive_per_origin,
    )
    return GuardedClient(
        _PerOrigin(
            lambda: _GuardedTransport(backend, per_origin, tls),
            max_origins=config.connections * 8,
        ),
        config,
        policy,
        resolve,
        tls,
        headers={"User-Agent": config.user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(config.timeout_s, connect=min(5.0, config.timeout_s)),
    )


def fetch(
    client: GuardedClient,
    url: str,
    *,
    max_bytes: int,
    deadline_s: float,
    max_redirects: int,
    etag: str | None = None,
    last_modified: str | None = None,
    kind: str = "page",
    stop: Stopping | None = None,
) -> FetchResult:
    """GET `url` safely. Raises Discard for permanent failures, Retry for transient ones
    (`Retry("stopped")` when `stop` was set mid-way). Each call is counted once in
    chipwire_fetches_total{kind, status}."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + deadline_s
    token = _DEADLINE.set(deadline)
    stop_token = _STOP.set(stop)
    try:
        result = _fetch(client, url, headers, max_bytes, deadline, max_redirects)
    except Exception as exc:
        FETCHES.labels(kind, fetch_status(exc)).inc()
        raise
    finally:
        _STOP.reset(stop_token)
        _DEADLINE.reset(token)
    FETCHES.labels(kind, fetch_status(result)).inc()
    return result


def fetch_status(outcome: FetchResult | Exception) -> str:
    """A fetch's label in chipwire_fetches_total{status}."""
    if isinstance(outcome, PipelineError):
        return outcome.reason
    if isinstance(outcome, Exception):
        return "error"
    return "not-modified" if outcome.not_modified else "ok"


def _fetch(
    client: GuardedClient,
    url: str,
    headers: dict[str, str],
    max_bytes: int,
    deadline: float,
    max_redirects: int,
) -> FetchResult:
    visited: set[str] = set()
    current = url
    for _hop in range(max_redirects + 1):
        check_hop(current, visited)
        result = _get_once(client, current, headers, max_bytes, deadline)
        target = redirect_target(current, result)
        if target is None:
            return classify(result)
        current = target
    raise Discard("too-many-redirects", url)


def check_hop(url: str, visited: set[str]) -> None:
    """A redirect chain's next URL must be http(s) and new to the chain."""
    if not is_http_url(url):
        raise Discard("bad-url", url)
    if url in visited:
        raise Discard("redirect-loop", url)
    visited.add(url)


def redirect_target(url: str, result: FetchResult) -> str | None:
    """Where a redirect points, resolved against the URL that answered it; None otherwise."""
    if result.status not in (301, 302, 303, 307, 308) or "location" not in result.headers:
        return None
    try:
        return urljoin(url, result.headers["location"])
    except ValueError as exc:  # e.g. an unclosed IPv6 literal
        raise Discard("bad-redirect", f"{url}: {exc}") from exc


def _get_once(
    client: GuardedClient, url: str, headers: dict[str, str], max_bytes: int, deadline: float
) -> FetchResult:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Retry("timeout", url)
    timeout = httpx.Timeout(remaining, connect=min(5.0, remaining))
    try:
        request = httpx.Request(
            "GET",
            url,
            headers={**client.base_headers, **headers},
            extensions={"timeout": timeout.as_dict()},
        )
        response = client.guarded.handle_request(request)
        response.request = request
        try:
            body = b""
            if response.status_code == 200:
                body = _read_capped(response, url, max_bytes, deadline)
            else:
                _drain(response, deadline)
            return FetchResult(str(request.url), response.status_code, body, dict(response.headers))
        finally:
            response.close()
    except Abandoned as exc:
        raise Retry("stopped", url) from exc
    except zlib.error as exc:
        raise Discard("bad-encoding", f"{url}: {exc}") from exc
    except httpx.ConnectError as exc:
        if "blocked address" in str(exc):
            raise Discard("blocked-address", f"{url}: {exc}") from exc
        raise Retry("connect-error", f"{url}: {exc}") from exc
    except httpx.RemoteProtocolError as exc:
        raise Retry("http-error", f"{url}: {type(exc).__name__}: {exc}") from exc
    except httpx.InvalidURL as exc:
        raise Discard("bad-url", f"{url}: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise Retry("timeout", f"{url}: {exc}") from exc
    except httpx.HTTPError as exc:
        raise Retry("http-error", f"{url}: {type(exc).__name__}: {exc}") from exc


def _read_capped(response: httpx.Response, url: str, max_bytes: int, deadline: float) -> bytes:
    """Read raw bytes as they arrive and decompress them ourselves, never past the cap:
    httpx would inflate a whole network read at once (a 64 KiB read of a bomb is 64 MiB)."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    decompress = inflater(encoding)
    body = bytearray()
    for chunk in response.iter_raw():
        add_capped(body, chunk, decompress, url, max_bytes)
        if time.monotonic() > deadline:
            raise Retry("timeout", f"{url}: body not done in time")
    return bytes(body)


def _drain(response: httpx.Response, deadline: float, limit: int = 65_536) -> None:
    """Read a short non-200 body (a 304's is empty) to its end, so that the connection goes
    back to the pool instead of being closed: a new connection per 304 costs more CPU than
    the rest of the poll. A longer body is left, and its connection closed."""
    read = 0
    for chunk in response.iter_raw():
        read += len(chunk)
        if read > limit or time.monotonic() > deadline:
            return


def classify(result: FetchResult) -> FetchResult:
    if result.status in (200, 304):
        return result
    if result.status in (429, 503):
        raise Throttled(f"http-{result.status}", result.url, result.retry_after_s())
    if result.status >= 500:
        raise Retry(f"http-{result.status}", result.url)
    raise Discard(f"http-{result.status}", result.url)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
