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
import sys
from pathlib import Path

from check_tagging_identity import save_or_compare, texts
from enrich_workload import raw

from enrich.event_stories import report_of
from enrich.realset import DEFAULT_CACHE
from enrich.tag import tag_article


def digest(name: str, title: str, text: str) -> str:
    report = report_of(tag_article(raw(name, title, text)))
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
    return save_or_compare(digests, args.save, args.against, "reports")


if __name__ == "__main__":
    sys.exit(main())
