"""Bodies inflated a bounded step at a time, never past the size cap (a gzip bomb stops at
it). Light on purpose: an extraction worker imports it to inflate the page bytes the
crawler sent it as they came off the wire, without loading the HTTP client."""

from __future__ import annotations

import zlib

from chipwire.errors import Discard

# the encodings a page's bytes may keep on their way to an extraction worker
INFLATABLE = frozenset({"gzip", "x-gzip", "deflate"})


def add_capped(
    body: bytearray, chunk: bytes, decompress: zlib._Decompress | None, url: str, max_bytes: int
) -> None:
    """Append one raw chunk, inflated a bounded step at a time; over the cap is too large."""
    if decompress is None:
        body += chunk
    else:
        data = chunk
        while data and len(body) <= max_bytes:
            body += decompress.decompress(data, max_bytes + 1 - len(body))
            data = decompress.unconsumed_tail
    if len(body) > max_bytes:
        raise Discard("too-large", f"{url}: over {max_bytes} bytes")


def inflater(encoding: str) -> zlib._Decompress | None:
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    if encoding in ("", "identity"):
        return None
    raise Discard("bad-encoding", f"unsupported content-encoding {encoding!r}")


def inflate(body: bytes, encoding: str, url: str, max_bytes: int) -> bytes:
    """A whole body as sent with `encoding`, inflated up to `max_bytes`."""
    decompress = inflater(encoding)
    if decompress is None:
        return body
    inflated = bytearray()
    try:
        add_capped(inflated, body, decompress, url, max_bytes)
    except zlib.error as exc:
        raise Discard("bad-encoding", f"{url}: {exc}") from exc
    return bytes(inflated)
