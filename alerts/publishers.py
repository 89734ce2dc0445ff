"""Who published a report: its registered domain, and whether that is a government.

Corroboration counts independent publishers, so two sections of one outlet
(`www.scmp.com`, `amp.scmp.com`) must count once: the registered domain comes from the
public-suffix list bundled with `tld` (no network fetch; `bbc.co.uk`, `mofcom.gov.cn`).
A host without one (an IP address, `localhost`: the demo's loopback outlets) falls back
to the source id, which is what tells outlets apart there.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from tld import get_fld


def registered_domain(url: str) -> str | None:
    """`https://www.mofcom.gov.cn/x` -> `mofcom.gov.cn`; None for IPs and bare hosts."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    found = get_fld(host, fix_protocol=True, fail_silently=True)
    return found.lower() if isinstance(found, str) else None


def publisher_key(url: str, source_id: str) -> str:
    return registered_domain(url) or f"source:{source_id}"


def is_government(url: str, suffixes: Iterable[str], sites: Iterable[str]) -> bool:
    """A government host: under a government suffix (`.gov`, `.gov.cn`, `.go.jp`, ...) or
    one of the named government sites (`europa.eu`, `government.nl`, ...)."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return False
    if not host:
        return False
    domain = registered_domain(url) or host
    if domain in {s.lower() for s in sites}:
        return True
    return any(host == s or host.endswith("." + s) for s in (x.lower() for x in suffixes))
