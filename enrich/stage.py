"""The enrich stage as a sink: raw article in, tagged article out (keyed by id).

Tagging reads one article alone, so this stage keeps no state and runs as any number of
replicas. Which event story an article joins is the event stage's work
(enrich/event_stage.py): alone (`chipwire enrich`), this sink publishes to the tagged
topic that the event stage reads; in a process that runs both (`chipwire run`,
`chipwire reenrich`), it hands each article straight to the event sink, which publishes
the enriched topic as before.

Each article is handed to the bus as soon as it is tagged (on Kafka it goes out while
the next one is tagged); `flush` waits once for the whole batch, so the runner commits
the raw offsets only after every article of the batch is on the bus."""

from __future__ import annotations

from chipwire.bus import TAGGED_TOPIC, Bus, Message, Publication, begin
from chipwire.contract import EnrichedArticle, RawArticle
from chipwire.events import decode, encode
from enrich.event_stage import EventSink, settle
from enrich.tag import tag_article


class EnrichSink:
    name = "enrich"

    def __init__(self, bus: Bus, events: EventSink | None = None) -> None:
        self.bus = bus
        self.events = events
        self._out: Publication | None = None

    def handle(self, message: Message) -> None:
        self.enrich(decode(message, RawArticle))

    def enrich(self, raw: RawArticle) -> EnrichedArticle:
        article = tag_article(raw)
        if self.events is not None:
            return self.events.assign(article)
        if self._out is None:
            self._out = begin(self.bus, TAGGED_TOPIC)
        self._out.add(*encode(article, stage=self.name))
        return article

    def flush(self) -> None:
        if self.events is not None:
            self.events.flush()
            return
        out, self._out = self._out, None
        settle(out)
