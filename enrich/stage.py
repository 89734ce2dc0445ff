"""The enrich stage as a sink: raw article in, enriched article out (keyed by id), with
its event story found among the reports enriched before it."""

from __future__ import annotations

from chipwire.bus import ENRICHED_TOPIC, Bus, Message
from chipwire.contract import EnrichedArticle, RawArticle
from chipwire.events import decode, publish
from enrich.event_store import EventStore
from enrich.event_stories import report_of
from enrich.tag import tag_article


def enrich(raw: RawArticle, events: EventStore) -> EnrichedArticle:
    article = tag_article(raw)
    return article.model_copy(update={"event_id": events.assign(report_of(article))})


class EnrichSink:
    name = "enrich"

    def __init__(self, bus: Bus, events: EventStore) -> None:
        self.bus = bus
        self.events = events

    def handle(self, message: Message) -> None:
        raw = decode(message, RawArticle)
        publish(self.bus, ENRICHED_TOPIC, enrich(raw, self.events), stage=self.name)

    def flush(self) -> None:
        self.bus.flush()
