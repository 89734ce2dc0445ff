"""The enrich stage as a sink: raw article in, enriched article out (keyed by id), with
its event story found among the reports enriched before it. When a report renames an
event (it was published earlier than the event's first report, or it joins two events),
the articles already published with the old id are published again with the new one.

Each enriched article is handed to the bus as soon as it is tagged (on Kafka it goes out
while the next one is tagged); `flush` waits once for the whole batch, so the runner
commits the raw offsets only after every enriched article of the batch is on the bus."""

from __future__ import annotations

import time

from chipwire.bus import ENRICHED_TOPIC, Bus, Message, Publication, begin
from chipwire.contract import EnrichedArticle, RawArticle
from chipwire.errors import Quarantine, Retry
from chipwire.events import decode, encode
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
        self._out: Publication | None = None

    def handle(self, message: Message) -> None:
        self.enrich(decode(message, RawArticle))

    def enrich(self, raw: RawArticle) -> EnrichedArticle:
        article = tag_article(raw)
        event_id = self.events.assign(report_of(article), article.model_dump_json())
        enriched = article.model_copy(update={"event_id": event_id})
        self._publish(enriched)
        self._pending[article.id] = event_id
        return enriched

    def _publish(self, article: EnrichedArticle) -> None:
        if self._out is None:
            self._out = begin(self.bus, ENRICHED_TOPIC)
        self._out.add(*encode(article, stage=self.name))

    def flush(self) -> None:
        """Publish again the articles whose event was renamed (by this batch, or by one
        whose flush failed), then wait once for the whole batch."""
        for renamed in self.events.stale(skip=self._pending):
            again = EnrichedArticle.model_validate_json(renamed.article)
            self._publish(again.model_copy(update={"event_id": renamed.event_id}))
            self._pending[renamed.article_id] = renamed.event_id
        pending, self._pending = self._pending, {}
        out, self._out = self._out, None
        outcomes = out.wait() if out is not None else []
        # raising: the batch is read again and the stale ones stay marked
        if "retry" in outcomes:
            raise Retry("bus-unavailable", f"{outcomes.count('retry')} enriched article(s) wait")
        if "rejected" in outcomes:  # the runner splits the batch down to the article at fault
            raise Quarantine("bus-rejected", "the bus refused the enriched article for good")
        self.events.published(pending)
        if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
            self.events.forget_articles()
            self._pruned_at = time.monotonic()
