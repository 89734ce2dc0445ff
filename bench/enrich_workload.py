"""A fixed enrich workload to count instructions of, repeatable under any load.

Dump the bench texts once (the 181 pages extracted as bench_tagging.py does, two
variations each), then count a run that only loads and warms up and a run that works;
their difference is the work:

    python bench/enrich_workload.py --dump /tmp/texts.json
    valgrind --tool=cachegrind --cache-sim=no python bench/enrich_workload.py /tmp/texts.json setup
    valgrind --tool=cachegrind --cache-sim=no python bench/enrich_workload.py /tmp/texts.json tag

`tag` tags every third text (`enrich.tag.tag_text`); `stage` runs what the enrich thread
does per article, `report_of(tag_article(raw))`. For another commit, run it in a snapshot
(`git archive REV | tar -x -C DIR`) with `PYTHONPATH=DIR`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from chipwire.contract import RawArticle, SourceRef, article_id
from enrich.event_stories import report_of
from enrich.tag import tag_article, tag_text

PUBLISHED = datetime(2026, 1, 5, tzinfo=UTC)


def dump(path: Path) -> int:
    import aeb
    from bench_tagging import extract, variations

    corpus = aeb.corpus_dir()
    if corpus is None:
        print(aeb.missing_message())
        return 0
    extracted = [extract(html) for html in aeb.load_pages(corpus).values()]
    texts = [v for title, text in extracted for v in variations(title, text, 2)]
    path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    print(f"{len(texts)} texts written to {path}")
    return 0


def raw(key: int | str, title: str, text: str) -> RawArticle:
    url = f"https://bench.invalid/{key}"
    return RawArticle(
        id=article_id(url),
        story_id=article_id(url),
        url=url,
        canonical_url=url,
        source=SourceRef(id="bench", name="Bench", feed=url),
        title=title,
        text=text,
        published_at=PUBLISHED,
        fetched_at=PUBLISHED,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("texts", type=Path, nargs="?", help="texts dumped by --dump")
    parser.add_argument("mode", nargs="?", choices=("setup", "tag", "stage"), default="setup")
    parser.add_argument("--dump", type=Path, help="write the bench texts here and stop")
    args = parser.parse_args()
    if args.dump is not None:
        return dump(args.dump)
    if args.texts is None:
        parser.error("the texts file is needed")
    texts = json.loads(args.texts.read_text(encoding="utf-8"))[::3]
    raws = [raw(i, title, text) for i, (title, text) in enumerate(texts)]
    tag_text(texts[0][1], texts[0][0])  # builds the automaton and models once
    report_of(tag_article(raws[0]))
    if args.mode == "tag":
        for title, text in texts:
            tag_text(text, title)
    elif args.mode == "stage":
        for article in raws:
            report_of(tag_article(article))
    return 0


if __name__ == "__main__":
    sys.exit(main())
