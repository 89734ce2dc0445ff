"""feedparser's own test corpus (about 2,100 feeds, shipped in its sdist under tests/) read
through chipwire's feed path and through bare feedparser: every feed bare feedparser reads
keeps the same entries (as many, with the same http(s) links and titles, in order).

The sdist is downloaded once into a cache (`$CHIPWIRE_TEST_CACHE`, default
~/.cache/chipwire) with `pip download --no-binary :all: --no-deps feedparser==<installed>`;
the test skips, saying why, when that is impossible (no index reachable).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from importlib.metadata import version
from pathlib import Path

import feedparser
import pytest

from chipwire.errors import Discard
from ingest.feeds import _link, parse_feed

BASE = "https://corpus.example/feeds/feed.xml"


def corpus() -> dict[str, bytes]:
    pinned = version("feedparser")
    cache = Path(os.environ.get("CHIPWIRE_TEST_CACHE", Path.home() / ".cache" / "chipwire"))
    folder = cache / "feedparser"
    sdist = folder / f"feedparser-{pinned}.tar.gz"
    if not sdist.exists():
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:"]
        command += ["--no-deps", f"feedparser=={pinned}", "-d", str(folder)]
        try:
            done = subprocess.run(command, capture_output=True, timeout=180, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"cannot download the feedparser {pinned} sdist: {exc}")
        if done.returncode != 0 or not sdist.exists():
            reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
            pytest.skip(f"cannot download the feedparser {pinned} sdist: {reason}")
    feeds: dict[str, bytes] = {}
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            parts = member.name.split("/")
            wanted = len(parts) > 2 and parts[1] == "tests" and not parts[-1].endswith(".py")
            handle = archive.extractfile(member) if wanted and member.isfile() else None
            if handle is not None:
                feeds["/".join(parts[2:])] = handle.read()
    return feeds


def bare_entries(body: bytes) -> tuple[int, list[tuple[str, str]]] | None:
    """How many entries bare feedparser finds, and (link, title) of those with an http(s)
    link (titles cut where chipwire cuts them)."""
    try:
        parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-location": BASE})
    except Exception:
        return None  # bare feedparser cannot read it either
    entries = parsed.get("entries", [])
    kept = [
        (link, str(e.get("title") or "")[:1000])
        for e in entries
        if (link := _link(str(e.get("link") or ""), BASE)) is not None
    ]
    return len(entries), kept


def test_every_feed_bare_feedparser_reads_keeps_its_entries() -> None:
    feeds = corpus()
    assert len(feeds) > 2000
    differ: list[str] = []
    compared = 0
    for name, body in sorted(feeds.items()):
        bare = bare_entries(body)
        if not bare or not bare[0]:
            continue
        compared += 1
        try:
            parsed = parse_feed(body, BASE)
            got = (len(parsed.items) + parsed.rejected, [(i.url, i.title) for i in parsed.items])
        except Discard as exc:
            got = (0, [(f"<discarded: {exc}>", "")])
        if got != bare:
            differ.append(f"{name}: chipwire {got[0]} {got[1][:3]} != bare {bare[0]} {bare[1][:3]}")
    assert compared > 1000
    assert not differ, f"{len(differ)} of {compared} feeds differ:\n" + "\n".join(differ[:20])
