"""The enrich stage as a sink: raw article in, enriched article out (keyed by id)."""

from __future__ import annotations

from chipwire.bus import ENRICHED_TOPIC, Bus, Message
from chipwire.contract import RawArticle
from chipwire.events import decode, publish
from enrich.tag import tag_article


class EnrichSink:
    name = "enrich"

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def handle(self, message: Message) -> None:
        raw = decode(message, RawArticle)
        publish(self.bus, ENRICHED_TOPIC, tag_article(raw), stage=self.name)

    def flush(self) -> None:
        self.bus.flush()
