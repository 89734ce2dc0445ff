"""The enrich stage as a sink: raw article in, enriched article out (keyed by id), with
its event story found among the reports enriched before it. When a report renames an
event (it was published earlier than the event's first report, or it joins two events),
the articles already published with the old id are published again with the new one."""

from __future__ import annotations

import time

from chipwire.bus import ENRICHED_TOPIC, Bus, Message
from chipwire.contract import EnrichedArticle, RawArticle
from chipwire.events import decode, publish
from enrich.event_store import EventStore
from enrich.event_stories import report_of
from enrich.tag import tag_article

PRUNE_EVERY_S = 3600.0


class EnrichSink:
    name = "enrich"

    def __init__(self, bus: Bus, events: EventStore) -> None:
        self.bus = bus
        self.events = events
        self._pending: dict[str, str] = {}  # article id → event id published, not flushed
        self._pruned_at = 0.0

    def handle(self, message: Message) -> None:
        self.enrich(decode(message, RawArticle))

    def enrich(self, raw: RawArticle) -> EnrichedArticle:
        article = tag_article(raw)
        event_id = self.events.assign(report_of(article), article.model_dump_json())
        enriched = article.model_copy(update={"event_id": event_id})
        publish(self.bus, ENRICHED_TOPIC, enriched, stage=self.name)
        self._pending[article.id] = event_id
        return enriched

    def flush(self) -> None:
        """Publish again the articles whose event was renamed (by this batch, or by one
        whose flush failed), then make the batch durable."""
        for renamed in self.events.stale(skip=self._pending):
            again = EnrichedArticle.model_validate_json(renamed.article)
            update = {"event_id": renamed.event_id}
            publish(self.bus, ENRICHED_TOPIC, again.model_copy(update=update), stage=self.name)
            self._pending[renamed.article_id] = renamed.event_id
        pending, self._pending = self._pending, {}
        self.bus.flush()  # raises: the batch is read again and the stale ones stay marked
        self.events.published(pending)
        if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
            self.events.forget_articles()
            self._pruned_at = time.monotonic()
