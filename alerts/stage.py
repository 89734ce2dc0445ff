"""The alerter: a consumer of enriched articles that keeps the policy state and mails shifts.

Per batch: record each article's observations, then, for every (subject, jurisdiction)
touched, re-read its timeline and handle the shifts not handled before: publish an
AlertEvent and send one email. A failed email stays pending and is tried again on the
next batch; it never blocks the stream.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta

from alerts import mail, policy
from chipwire.bus import ALERTS_TOPIC, Bus, Message
from chipwire.contract import AlertEvent, EnrichedArticle
from chipwire.errors import Retry
from chipwire.events import decode, publish
from chipwire.metrics import ALERTS
from chipwire.settings import Settings

log = logging.getLogger(__name__)


class AlertSink:
    name = "alert"

    def __init__(self, bus: Bus, conn: sqlite3.Connection, settings: Settings) -> None:
        self.bus = bus
        self.conn = conn
        self.settings = settings
        self.dedupe_window = timedelta(hours=settings.alert_dedupe_hours)
        self._touched: set[tuple[str, str]] = set()
        self.alerts: list[AlertEvent] = []

    def handle(self, message: Message) -> None:
        article = decode(message, EnrichedArticle)
        found = policy.observations_of(
            article, self.settings.alert_min_confidence, self.settings.alert_min_relevance
        )
        self._touched |= policy.record(self.conn, found)

    def flush(self) -> None:
        touched, self._touched = self._touched, set()
        for subject, jurisdiction in sorted(touched):
            for shift in policy.shifts(policy.timeline(self.conn, subject, jurisdiction)):
                if not policy.already_handled(self.conn, shift, self.dedupe_window):
                    self._raise_alert(shift)
        self.bus.flush()

    def _raise_alert(self, shift: policy.Shift) -> None:
        alert = to_event(shift)
        publish(self.bus, ALERTS_TOPIC, alert, stage="alert")
        try:
            status = mail.deliver(mail.render(alert, self.settings), self.settings)
        except Retry as exc:
            log.error("alert %s not mailed yet: %s", alert.id, exc)
            ALERTS.labels("mail-failed").inc()
            self._touched.add((shift.subject, shift.jurisdiction))  # try again next batch
            return
        policy.mark_handled(self.conn, shift, status)
        ALERTS.labels(status).inc()
        self.alerts.append(alert)
        log.warning(
            "POLICY SHIFT alert=%s %s on %s: %s -> %s (%s)",
            alert.id,
            alert.jurisdiction,
            alert.subject,
            alert.previous,
            alert.current,
            alert.url,
        )


def to_event(shift: policy.Shift) -> AlertEvent:
    run = (shift.first, *shift.corroborating)
    return AlertEvent(
        id=shift.id,
        subject=shift.subject,
        jurisdiction=shift.jurisdiction,
        previous=shift.previous,
        current=shift.current,
        article_ids=[o.article_id for o in run],
        story_id=shift.first.story_id,
        evidence=[o.evidence for o in run][:5],
        title=shift.first.title,
        url=shift.first.url,
        created_at=datetime.now(UTC),
    )
