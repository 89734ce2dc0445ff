"""The alerter stage: a consumer of enriched articles that keeps the policy state and
mails confirmed shifts.

Per batch, at flush: record every article's observations in one transaction, re-read the
timeline of every (subject, jurisdiction) touched, publish an AlertEvent for each shift
not known before, queue its emails per subscription and send what is due. A refused email
stays pending and is retried (on later batches, and when the topic is idle); it never
blocks the stream.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from alerts import store
from alerts.alerter import Alerter
from alerts.matching import QueryMatcher
from chipwire.bus import ALERTS_TOPIC, Bus, Message, begin
from chipwire.contract import AlertEvent, EnrichedArticle
from chipwire.errors import Retry
from chipwire.events import decode, encode
from chipwire.metrics import PUBLISH_TO_ALERT, observe_freshness
from chipwire.settings import Settings

Clock = Callable[[], datetime]
# called for each new shift with the ids of the sources that have covered its subject
ShiftHook = Callable[[AlertEvent, list[str]], None]
log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class AlertSink:
    name = "alert"

    def __init__(
        self,
        bus: Bus,
        conn: sqlite3.Connection,
        settings: Settings,
        clock: Clock = utc_now,
        matcher: QueryMatcher | None = None,
        on_shift: ShiftHook | None = None,
    ) -> None:
        self.bus = bus
        self.conn = conn
        self.on_shift = on_shift
        self.alerter = Alerter(conn, settings, matcher)
        self.clock = clock
        self.retry_every = timedelta(seconds=settings.alert_retry_s)
        self._articles: list[EnrichedArticle] = []  # handled, recorded at flush
        self._last_send: datetime | None = None
        self.alerts: list[AlertEvent] = []  # shifts found by this process

    def handle(self, message: Message) -> None:
        self._articles.append(decode(message, EnrichedArticle))

    def flush(self) -> None:
        """The batch's articles recorded in one transaction (a failure here is split down
        to its article by the runner), then the touched timelines evaluated."""
        articles, self._articles = self._articles, []
        touched = self.alerter.ingest_many(articles)
        now = self.clock()
        found = self.alerter.evaluate(touched, now)
        out = begin(self.bus, ALERTS_TOPIC)
        for alert in found:
            out.add(*encode(alert, stage="alert"))
        if any(outcome != "delivered" for outcome in out.wait()):
            raise Retry("bus-unavailable", "alerts not published; the batch is read again")
        self.alerts.extend(found)
        for alert in found:
            self._tell(alert)
        for article in articles:
            observe_freshness(PUBLISH_TO_ALERT, article.source.id, article.published_at)
        self._send(now)

    def _tell(self, alert: AlertEvent) -> None:
        """The shift hook (the crawler polls the covering feeds more often): best effort."""
        if self.on_shift is None:
            return
        try:
            self.on_shift(alert, store.sources_covering(self.conn, alert.subject))
        except Exception:
            log.exception("alert: the shift hook failed for %s", alert.id)

    def on_idle(self) -> None:
        """Called by the runner when the topic is quiet: retries and digests still go out."""
        now = self.clock()
        if self._last_send is None or now - self._last_send >= self.retry_every:
            try:
                self._send(now)
            except Exception:  # an idle round must never end the stage's thread
                log.exception("alert: sending due emails failed")

    def _send(self, now: datetime) -> None:
        self._last_send = now
        self.alerter.send_due(now)

    def mail_status(self, alert_id: str) -> str:
        return self.alerter.mail_status(alert_id)
