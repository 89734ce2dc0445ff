"""The event stage: which event story each enriched article joins (enrich/event_store.py).

Tagging needs no memory of other articles, so any number of enrich replicas can run;
finding an article's event needs every report seen so far, so it is a stage of its own
with one replica: `chipwire events` reads the tagged topic (keyed by article id, so each
article's versions arrive in order) and publishes the enriched topic with `event_id` set.
When one process runs both (`chipwire run`, `chipwire reenrich`), the enrich stage hands
each tagged article straight to this sink and no tagged topic is used.

When a report renames an event (it was published earlier than the event's first report,
or it joins two events), the articles already published with the old id are published
again with the new one. Each article goes to the bus as soon as its event is known;
`flush` waits once for the whole batch, so offsets are committed only after every
enriched article of the batch is on the bus."""

from __future__ import annotations

import time

from chipwire.bus import ENRICHED_TOPIC, Bus, Message, Publication, begin
from chipwire.contract import EnrichedArticle
from chipwire.errors import Quarantine, Retry
from chipwire.events import body, decode, encode
from enrich.event_store import EventStore
from enrich.event_stories import report_of

PRUNE_EVERY_S = 3600.0
SOURCE = "enrich"  # the CloudEvents source of an enriched article, whichever process sent it


class EventSink:
    name = "events"

    def __init__(self, bus: Bus, events: EventStore) -> None:
        self.bus = bus
        self.events = events
        self._pending: dict[str, str] = {}  # article id → event id published, not flushed
        self._pruned_at = 0.0
        self._out: Publication | None = None

    def handle(self, message: Message) -> None:
        self.assign(decode(message, EnrichedArticle))

    def assign(self, article: EnrichedArticle) -> EnrichedArticle:
        """File the tagged article under its event and publish it with the event's id:
        serialised once, the same bytes kept for a rename and sent."""
        tagged = article.model_copy(update={"event_id": None})
        made: dict[str, tuple[EnrichedArticle, bytes]] = {}

        def as_published(event_id: str) -> str:
            enriched = tagged.model_copy(update={"event_id": event_id})
            made[event_id] = enriched, body(enriched)
            return made[event_id][1].decode()

        event_id = self.events.assign(report_of(tagged), as_published)
        enriched, value = made[event_id]  # the store kept it: made with this event id
        self._publish(enriched, value)
        self._pending[article.id] = event_id
        return enriched

    def _publish(self, article: EnrichedArticle, value: bytes | None = None) -> None:
        if self._out is None:
            self._out = begin(self.bus, ENRICHED_TOPIC)
        self._out.add(*encode(article, SOURCE, value))

    def flush(self) -> None:
        """Publish again the articles whose event was renamed (by this batch, or by one
        whose flush failed), then wait once for the whole batch."""
        for renamed in self.events.stale(skip=self._pending):
            again = EnrichedArticle.model_validate_json(renamed.article)
            self._publish(again.model_copy(update={"event_id": renamed.event_id}))
            self._pending[renamed.article_id] = renamed.event_id
        pending, self._pending = self._pending, {}
        out, self._out = self._out, None
        settle(out)  # raising: the batch is read again and the stale ones stay marked
        self.events.published(pending)
        if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
            self.events.forget_articles()
            self._pruned_at = time.monotonic()


def settle(out: Publication | None) -> None:
    """Wait for a batch; Retry when some records could not go out now, Quarantine when
    the bus refused one for good (the runner splits the batch down to it)."""
    outcomes = out.wait() if out is not None else []
    if "retry" in outcomes:
        raise Retry("bus-unavailable", f"{outcomes.count('retry')} article(s) wait")
    if "rejected" in outcomes:
        raise Quarantine("bus-rejected", "the bus refused an article for good")
