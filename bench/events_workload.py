"""The event stage's own work per article, a fixed workload to count instructions of
(cachegrind) under any load, as enrich_workload.py is for tagging.

Tag the bench texts once (enrich_workload.py's dump), then count a run that only loads
the tagged articles and opens the stage, and a run that files and publishes them; their
difference is the event stage's work:

    python bench/enrich_workload.py --dump /tmp/texts.json
    python bench/events_workload.py /tmp/texts.json --tagged /tmp/tagged
    valgrind --tool=cachegrind --cache-sim=no python bench/events_workload.py /tmp/tagged setup
    valgrind --tool=cachegrind --cache-sim=no python bench/events_workload.py /tmp/tagged events

`events` runs `EventSink.assign` on every tagged article (a fresh event store and embedded
log in a temporary directory), flushing every 50 as the stage's batches do. For another
commit, run it in a snapshot (`git archive REV | tar -x -C DIR`) with `PYTHONPATH=DIR`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from chipwire.bus.embedded import EmbeddedBus
from chipwire.contract import EnrichedArticle
from enrich import event_store
from enrich.event_stage import EventSink
from enrich.event_store import EventStore

BATCH = 50


def tag(texts: Path, tagged: Path) -> int:
    from enrich_workload import raw

    from enrich.tag import tag_article

    pairs = json.loads(texts.read_text(encoding="utf-8"))
    articles = [tag_article(raw(i, title, text)) for i, (title, text) in enumerate(pairs)]
    tagged.write_text(json.dumps([a.model_dump(mode="json") for a in articles]), "utf-8")
    print(f"{len(articles)} tagged articles written to {tagged}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("articles", type=Path, help="texts to tag, or tagged articles")
    parser.add_argument("mode", nargs="?", choices=("setup", "events"), default="setup")
    parser.add_argument("--tagged", type=Path, help="tag the texts into this file and stop")
    args = parser.parse_args()
    if args.tagged is not None:
        return tag(args.articles, args.tagged)
    rows = json.loads(args.articles.read_text(encoding="utf-8"))
    articles = [EnrichedArticle.model_validate(row) for row in rows]
    with tempfile.TemporaryDirectory() as tmp:
        bus = EmbeddedBus(Path(tmp) / "log.sqlite")
        conn = event_store.connect(Path(tmp) / "events.sqlite")
        sink = EventSink(bus, EventStore(conn))
        if args.mode == "events":
            for start in range(0, len(articles), BATCH):
                for article in articles[start : start + BATCH]:
                    sink.assign(article)
                sink.flush()
        conn.close()
        bus.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
