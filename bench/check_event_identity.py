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

import hashlib
import sys

from check_tagging_identity import run_check
from enrich_workload import raw

from enrich.event_stories import report_of
from enrich.tag import tag_article


def digest(name: str, title: str, text: str) -> str:
    report = report_of(tag_article(raw(name, title, text)))
    return hashlib.sha1(report.to_json().encode("utf-8"), usedforsecurity=False).hexdigest()


def main() -> int:
    return run_check(__doc__, digest, "reports")


if __name__ == "__main__":
    sys.exit(main())
