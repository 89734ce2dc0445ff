"""The enrich stage as a sink: raw article in, enriched article out (keyed by id).

Each enriched article is handed to the bus as soon as it is tagged (on Kafka it goes out
while the next one is tagged); `flush` waits once for the whole batch, so the runner
commits the raw offsets only after every enriched article of the batch is on the bus.
"""

from __future__ import annotations

from chipwire.bus import ENRICHED_TOPIC, Bus, Message, Publication, begin
from chipwire.contract import RawArticle
from chipwire.errors import Quarantine, Retry
from chipwire.events import decode, encode
from enrich.tag import tag_article


class EnrichSink:
    name = "enrich"

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._out: Publication | None = None

    def handle(self, message: Message) -> None:
        raw = decode(message, RawArticle)
        if self._out is None:
            self._out = begin(self.bus, ENRICHED_TOPIC)
        self._out.add(*encode(tag_article(raw), stage=self.name))

    def flush(self) -> None:
        out, self._out = self._out, None
        if out is None:
            return
        outcomes = out.wait()
        if "retry" in outcomes:
            raise Retry("bus-unavailable", f"{outcomes.count('retry')} enriched article(s) wait")
        if "rejected" in outcomes:  # the runner splits the batch down to the article at fault
            raise Quarantine("bus-rejected", "the bus refused the enriched article for good")
