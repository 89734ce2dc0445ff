"""Thousands of real news pages on loopback, behind generated RSS feeds of 50 items.

The 181 pages of the article-extraction-benchmark are served as they are (copy 0, the
ones scored against ground truth) and as `copies - 1` variants, plus the sample corpus.

Why the variants shuffle words: a unique injected sentence or a moved paragraph leaves
~95% of a page's word 5-shingles intact, so near-duplicate detection (MinHash, Jaccard
threshold 0.7) would still see one story per original and the benchmark would measure
dedupe collapsing copies instead of a realistic stream of distinct articles. Shuffling
the words inside each text run (between two tags) keeps what costs CPU the same (same
DOM, same byte count, same words for the tagger and the index) while breaking almost
every shingle, so each variant is a distinct article to the pipeline. URLs differ too.

Run alone: `python bench/corpus_server.py --copies 11` prints one JSON line with the
base URL, then serves until stdin closes (so a parent that dies takes it with it).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

import aeb
import yaml

from chipwire.demo import DEMO_ARTICLES
from chipwire.demo.render import render_page
from chipwire.demo.server import ROBOTS_TXT, LoopbackServer, Resource

ITEMS_PER_FEED = 50
DEFAULT_COPIES = 11  # 181 x 11 + 12 sample pages = 2,003 pages
_MARKUP = re.compile(
    rb"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>)", re.S | re.I
)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.S | re.I)
_EPOCH = datetime(2026, 1, 31, 12, tzinfo=UTC)


@dataclass(frozen=True)
class BenchPage:
    path: str
    body: bytes
    source_key: str  # page hash for real pages, `<outlet>/<slug>` for sample pages
    copy: int

    @property
    def scored(self) -> bool:
        """Whether ground truth applies: an unmodified benchmark page."""
        return self.copy == 0 and "/" not in self.source_key


def variant(html: bytes, copy: int, seed_key: str) -> bytes:
    """The page with the words of every text run shuffled (copy 0: unchanged).

    Scripts, styles and comments are left alone; so are runs of 2 to 5 words (menus,
    buttons, bylines), which keeps the page's furniture as it was.
    """
    if copy == 0:
        return html
    rng = random.Random(f"{seed_key}:{copy}")
    parts = _MARKUP.split(html)
    parts[::2] = [_shuffle_run(run, rng) for run in parts[::2]]
    return b"".join(parts)


def _shuffle_run(run: bytes, rng: random.Random) -> bytes:
    words = run.split()
    if len(words) < 6:
        return _rotate_unspaced(run) if len(words) == 1 else run
    head, tail = words[:-1], words[-1]  # the last word keeps the sentence's full stop
    rng.shuffle(head)
    lead = b" " if run[:1].isspace() else b""
    trail = b" " if run[-1:].isspace() else b""
    return lead + b" ".join([*head, tail]) + trail


def _rotate_unspaced(run: bytes) -> bytes:
    """A long run with no spaces (Japanese, Chinese) is rotated at its midpoint instead."""
    try:
        text = run.decode("utf-8")
    except UnicodeDecodeError:
        return run
    stripped = text.strip()
    if len(stripped) < 20:
        return run
    half = len(stripped) // 2
    return text.replace(stripped, stripped[half:] + stripped[:half]).encode("utf-8")


def iter_real_pages(copies: int) -> Iterator[BenchPage]:
    """181 x `copies` pages, deterministic: the server and the benches build the same bytes."""
    path = aeb.corpus_dir()
    if path is None:
        raise SystemExit(aeb.missing_message())
    originals = aeb.load_pages(path)
    for copy in range(copies):
        for key, html in originals.items():
            yield BenchPage(f"/pages/c{copy:02d}/{key}.html", variant(html, copy, key), key, copy)


def build_real_pages(copies: int) -> list[BenchPage]:
    return list(iter_real_pages(copies))


def sample_pages(base_url: str) -> list[BenchPage]:
    return [
        BenchPage(a.path, render_page(a, base_url).encode("utf-8"), a.key, 0) for a in DEMO_ARTICLES
    ]


def feed_paths(page_count: int, undated: bool = False) -> list[str]:
    feeds = (page_count + ITEMS_PER_FEED - 1) // ITEMS_PER_FEED
    folder = "/feeds/undated" if undated else "/feeds"
    return [f"{folder}/bench-{n:03d}.xml" for n in range(feeds)]


def sources_yaml(base_url: str, page_count: int, undated: bool = False) -> str:
    """A sources file listing every generated feed (`undated`: the feeds whose items
    carry no date, so a pipeline must read each page's own metadata)."""
    sources = [
        {"id": f"bench-{n:03d}", "name": f"Bench feed {n}", "feed": base_url + path}
        for n, path in enumerate(feed_paths(page_count, undated))
    ]
    return yaml.safe_dump({"sources": sources}, sort_keys=False)


def rss_feed(
    base_url: str,
    number: int,
    pages: Sequence[tuple[str, str]],
    first_index: int,
    undated: bool = False,
) -> bytes:
    """One feed of (path, title) items with pubDates a minute apart, newest first, and a
    byline, as most news feeds give them (`undated`: titles only)."""
    items = []
    for offset, (path, title) in enumerate(pages):
        index = first_index + offset
        when = format_datetime(_EPOCH - timedelta(minutes=index))
        tracking = "?utm_source=rss&utm_medium=bench" if number % 2 else ""
        dated = "" if undated else f"<pubDate>{when}</pubDate><dc:creator>Bench Desk</dc:creator>"
        items.append(
            "<item>"
            f"<title>{escape(title)}</title>"
            f"<link>{escape(base_url + path + tracking)}</link>"
            f'<guid isPermaLink="false">bench-{index}</guid>'
            f"{dated}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>Bench feed {number}</title><link>{escape(base_url)}/</link>"
        "<description>Generated benchmark feed</description>"
        f"{''.join(items)}</channel></rss>"
    ).encode()


def _title(body: bytes) -> str:
    found = _TITLE.search(body)
    raw = found.group(1).decode("utf-8", "replace") if found else "Untitled"
    return " ".join(raw.split())[:200] or "Untitled"


class BenchSite:
    """Every page and feed pre-gzipped, so serving costs almost no CPU.

    Pages are compressed as they are generated: the raw 2,000 pages (~330 MB) are
    never held at once.
    """

    def __init__(self, pages: Iterable[BenchPage]) -> None:
        self._resources: dict[str, Resource] = {}
        self._items: list[tuple[str, str]] = []  # (path, title), in feed order
        self._lock = threading.Lock()
        for page in pages:
            self._add(page)

    @property
    def page_count(self) -> int:
        return len(self._items)

    def publish(self, base_url: str) -> None:
        """Add the sample pages and the feeds; they need the server's own address."""
        for page in sample_pages(base_url):
            self._add(page)
        resources = {"/robots.txt": Resource(ROBOTS_TXT, "text/plain", _EPOCH)}
        for undated in (False, True):
            for number, path in enumerate(feed_paths(self.page_count, undated)):
                first = number * ITEMS_PER_FEED
                chunk = self._items[first : first + ITEMS_PER_FEED]
                body = rss_feed(base_url, number, chunk, first, undated)
                resources[path] = _gz(body, "application/rss+xml")
        sources = sources_yaml(base_url, self.page_count).encode()
        resources["/sources.yaml"] = Resource(sources, "application/yaml", _EPOCH)
        with self._lock:
            self._resources.update(resources)

    def resource(self, path: str, base_url: str) -> Resource | None:
        with self._lock:
            return self._resources.get(path)

    def _add(self, page: BenchPage) -> None:
        with self._lock:
            self._resources[page.path] = _gz(page.body, "text/html; charset=utf-8")
        self._items.append((page.path, _title(page.body)))


def _gz(body: bytes, content_type: str) -> Resource:
    return Resource(
        gzip.compress(body, compresslevel=6, mtime=0), content_type, _EPOCH, gzipped=True
    )


def serve(copies: int, host: str = "127.0.0.1", port: int = 0) -> tuple[LoopbackServer, BenchSite]:
    site = BenchSite(iter_real_pages(copies))
    server = LoopbackServer(site, host, port)
    site.publish(server.base_url)
    return server, site


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=DEFAULT_COPIES)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server, site = serve(args.copies, port=args.port)
    feeds = feed_paths(site.page_count)
    info = {"base_url": server.base_url, "pages": site.page_count, "feeds": len(feeds)}
    print(json.dumps(info), flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
