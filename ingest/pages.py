"""One article page, fetched and extracted in the same process.

In an extraction worker, so that the page's bytes never cross a pipe: the crawler sends a
`PageJob` (the URL and the fetch's limits) and gets a `PageDone` back (the extracted
article, or why there is none). The fetch keeps every guarantee of ingest/fetch.py:
addresses checked at connect time on every hop, a wall-clock deadline, a size cap after
decompression, and the pool's stop event (a fetch in flight is abandoned at shutdown).

Each worker keeps one guarded client per `ClientConfig`, so its connections are reused
from page to page. The fetching half (httpx, the settings) loads on a worker's first fetch:
a worker that only extracts pages the crawler fetched never loads it.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from chipwire.errors import Discard, PipelineError, Retry, Throttled
from ingest.extracted import Extracted
from ingest.workers import stop_event

if TYPE_CHECKING:
    from ingest.fetch import ClientConfig, GuardedClient, Stopping

ExtractFn = Callable[[bytes, str | None, str, bool], Extracted | None]


@dataclass(frozen=True)
class PageJob:
    url: str
    with_metadata: bool  # False: the feed item gave title and date, read the text alone
    max_bytes: int
    deadline_s: float
    max_redirects: int
    client: ClientConfig


@dataclass(frozen=True)
class PageFailure:
    """Why a page gave no article, in a form that crosses a pipe intact (our exceptions'
    own pickling would lose the reason)."""

    kind: Literal["discard", "retry", "throttled", "error"]
    reason: str
    detail: str
    retry_after_s: float | None = None
    trace: str = ""  # an unexpected error's traceback, for the crawler's log

    @classmethod
    def of(cls, exc: Exception) -> PageFailure:
        if isinstance(exc, Throttled):
            return cls("throttled", exc.reason, exc.detail, exc.retry_after_s)
        if isinstance(exc, Discard):
            return cls("discard", exc.reason, exc.detail)
        if isinstance(exc, Retry):
            return cls("retry", exc.reason, exc.detail)
        return cls("error", "error", f"{type(exc).__name__}: {exc}", None, traceback.format_exc())

    def exception(self) -> Exception:
        if self.kind == "throttled":
            return Throttled(self.reason, self.detail, self.retry_after_s)
        if self.kind == "discard":
            return Discard(self.reason, self.detail)
        if self.kind == "retry":
            return Retry(self.reason, self.detail)
        return RuntimeError(self.detail)


@dataclass(frozen=True)
class PageDone:
    url: str  # the final URL, after redirects
    fetch_status: str  # the fetch's label in chipwire_fetches_total{status}
    extracted: Extracted | None = None  # None with no failure: the page holds no article
    failure: PageFailure | None = None


_clients: dict[ClientConfig, GuardedClient] = {}


def fetch_and_extract(
    job: PageJob,
    extract: ExtractFn | None = None,
    client: GuardedClient | None = None,
    stop: Stopping | None = None,
) -> PageDone:
    """Fetch the page and extract its article. Never raises: a failure is returned.
    In a worker, `client` and `stop` default to the worker's own."""
    from ingest.fetch import client_from, fetch, fetch_status

    if client is None:
        client = _clients.get(job.client) or _clients.setdefault(
            job.client, client_from(job.client)
        )
    try:
        page = fetch(
            client,
            job.url,
            max_bytes=job.max_bytes,
            deadline_s=job.deadline_s,
            max_redirects=job.max_redirects,
            stop=stop if stop is not None else stop_event(),
        )
    except Exception as exc:
        return PageDone(job.url, fetch_status(exc), failure=PageFailure.of(exc))
    return extract_fetched(
        page.body, page.headers.get("content-type"), page.url, job.with_metadata, extract
    )


def extract_fetched(
    body: bytes,
    content_type: str | None,
    url: str,
    with_metadata: bool,
    extract: ExtractFn | None = None,
    encoding: str = "",
    max_bytes: int = 0,
) -> PageDone:
    """Extract a page the crawler fetched itself (`fetch_in_workers` off). Never raises.
    A body still `encoding`-compressed (as it came off the wire, a fifth of the bytes
    through the pipe) is inflated here, never past `max_bytes`."""
    try:
        if encoding:
            from ingest.inflate import inflate

            body = inflate(body, encoding, url, max_bytes)
    except Exception as exc:  # too large or corrupt: the same outcome as on the loop
        status = exc.reason if isinstance(exc, PipelineError) else "error"
        return PageDone(url, status, failure=PageFailure.of(exc))
    try:
        extract = extract or _extract_page()
        found = extract(body, content_type, url, with_metadata)
    except Exception as exc:  # a bug or a surprise in extraction: the crawler retries later
        return PageDone(url, "ok", failure=PageFailure.of(exc))
    return PageDone(url, "ok", extracted=found)


def _extract_page() -> ExtractFn:
    # trafilatura loads where pages are extracted only (the workers import it as they start)
    from ingest.extract import extract_page

    return extract_page
