"""Does a change to the event rule's speed leave every report as it was?

The companion of check_tagging_identity.py for enrich/event_stories.py: it tags the same
texts as an article each (no language given, so the language is read from the text),
and writes one digest per text of what the event rule reads from it (`report_of`: moves,
actions, agencies, entities, numbers, words, language). Equal reports join the same
events, so no event id can change. Run it with `--save` on the starting commit and with
`--against` on the change: any text whose report differs is listed.

    python bench/check_event_identity.py --save /tmp/events-before.json
    python bench/check_event_identity.py --against /tmp/events-before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from check_tagging_identity import texts

from chipwire.contract import RawArticle, SourceRef, article_id
from enrich.event_stories import report_of
from enrich.realset import DEFAULT_CACHE
from enrich.tag import tag_article

PUBLISHED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def digest(name: str, title: str, text: str) -> str:
    url = f"https://bench.invalid/{name}"
    raw = RawArticle(
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
    report = report_of(tag_article(raw))
    return hashlib.sha1(report.to_json().encode("utf-8"), usedforsecurity=False).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the digests here")
    group.add_argument("--against", type=Path, help="compare with digests saved before")
    parser.add_argument("--copies", type=int, default=2, help="benchmark texts per page")
    parser.add_argument(
        "--real", type=Path, default=DEFAULT_CACHE, help="the real-set excerpts (a fixed copy)"
    )
    args = parser.parse_args()
    digests = {name: digest(name, t, x) for name, t, x in texts(args.copies, args.real)}
    if args.save is not None:
        args.save.write_text(json.dumps(digests, indent=0, sort_keys=True), encoding="utf-8")
        print(f"{len(digests)} reports digested into {args.save}")
        return 0
    before = json.loads(args.against.read_text(encoding="utf-8"))
    changed = sorted(n for n in before.keys() | digests.keys() if before.get(n) != digests.get(n))
    for name in changed:
        print(f"changed: {name}")
    print(f"{len(digests)} reports, {len(changed)} changed")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
