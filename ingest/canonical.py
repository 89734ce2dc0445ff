"""Canonical URLs: one spelling per article, so ids and the seen-set are stable."""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit, urlunsplit

import courlan


def canonical_url(url: str) -> str:
    """Lower-case scheme/host, no default port, no fragment, no tracking parameters,
    sorted query, dot-segments resolved. Idempotent: applying it twice changes nothing."""
    cleaned = courlan.normalize_url(url.strip())
    parts = urlsplit(cleaned)
    path = _resolve_dot_segments(parts.path) or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def _resolve_dot_segments(path: str) -> str:
    if "/." not in path:
        return path
    resolved = posixpath.normpath(path)
    if path.endswith("/") and not resolved.endswith("/"):
        resolved += "/"
    return resolved


def is_http_url(url: str) -> bool:
    """Only absolute http(s) URLs with a host are ever fetched (no javascript:, file:, data:)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
