"""The indexer stage: enriched articles from the bus into the search backend."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from chipwire.bus import DLQ_TOPIC, Bus, Consumer, Message
from chipwire.contract import EnrichedArticle
from chipwire.events import decode
from chipwire.metrics import MESSAGES, PUBLISH_TO_INDEXED, observe_freshness
from chipwire.settings import Settings
from chipwire.stage import Sink, StageRunner
from index.backend import SearchBackend

log = logging.getLogger(__name__)


class IndexSink:
    """Buffers a batch, then upserts and commits it in one go.

    flush() raises Retry when the backend is down, so the runner commits no offsets and the
    batch is read again. Documents the backend rejects for good (mapping errors) go to the
    dead-letter topic when a bus is given, and are logged either way.
    """

    name = "index"

    def __init__(self, backend: SearchBackend, bus: Bus | None = None) -> None:
        self.backend = backend
        self.bus = bus
        self._batch: dict[str, tuple[EnrichedArticle, Message]] = {}

    def handle(self, message: Message) -> None:
        article = decode(message, EnrichedArticle)
        self._batch.pop(article.id, None)  # a later version in the same batch wins
        self._batch[article.id] = (article, message)

    def flush(self) -> None:
        if not self._batch:
            return
        try:
            self.backend.upsert([article for article, _ in self._batch.values()])
            rejected = self.backend.commit()
            for item in rejected:
                self._reject(self._batch[item.id][1], item.status, item.reason)
            refused = {item.id for item in rejected}
            for article, _ in self._batch.values():
                if article.id not in refused:  # searchable from now on
                    observe_freshness(PUBLISH_TO_INDEXED, article.source.id, article.published_at)
        finally:  # after a Retry the runner re-reads the whole batch
            self._batch.clear()

    def _reject(self, message: Message, status: int, reason: str) -> None:
        log.error("index rejected %s (HTTP %d): %s", message.key, status, reason)
        MESSAGES.labels(self.name, "rejected").inc()
        if self.bus is None:
            return
        headers: Mapping[str, str] = {
            **message.headers,
            "dlq_reason": "index-rejected",
            "dlq_detail": f"{status}: {reason}"[:2000],
            "dlq_stage": self.name,
            "dlq_topic": message.topic,
            "dlq_partition": str(message.partition),
            "dlq_offset": str(message.offset),
        }
        self.bus.publish(DLQ_TOPIC, message.key, message.value, headers)


def index_runner(
    consumer: Consumer,
    sink: Sink,
    bus: Bus,
    settings: Settings,
    clock: Callable[[], float] = time.monotonic,
) -> StageRunner:
    """The indexer's loop. An index commit costs about 40 ms of CPU whatever its size, so
    the commit waits while articles keep coming: until `index_commit_docs` articles, or
    `index_commit_interval_s` after the first of them (under load: a few seconds, a
    commit per hundred articles), or as soon as none came for `index_commit_quiet_s` (idle:
    a lone article is searchable within a second). The runner commits the bus offsets only
    after the index commit: a crash re-reads (and re-indexes by id) what the index had not
    made durable."""
    return StageRunner(
        consumer,
        sink,
        bus,
        max_records=settings.index_commit_docs,
        linger_s=settings.index_commit_interval_s,
        quiet_s=settings.index_commit_quiet_s,
        clock=clock,
    )
