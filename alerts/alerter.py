"""The alerter's whole story, independent of the bus: ingest articles, find confirmed
shifts, queue them per subscription, send what is due. `AlertSink` (stage.py) runs it on
the enriched topic; the backtest (backtest.py) runs it on a timeline with its own clock.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from alerts import mail, saved_searches, store, upgrade
from alerts.corroborate import Change, PairState, Profile, replay
from alerts.matching import InProcessMatcher, QueryMatcher
from alerts.observe import Observation, observations_of
from chipwire.contract import AlertEvent, EnrichedArticle
from chipwire.errors import Retry
from chipwire.metrics import ALERTS
from chipwire.settings import Settings, Subscription

log = logging.getLogger(__name__)
MAX_EVIDENCE = 10


class Alerter:
    def __init__(
        self,
        conn: sqlite3.Connection,
        settings: Settings,
        matcher: QueryMatcher | None = None,
    ) -> None:
        self.conn = conn
        self.settings = settings
        self.matcher = matcher or InProcessMatcher()
        self.subscriptions = settings.subscriptions()
        self.dedupe_window = timedelta(hours=settings.alert_dedupe_hours)
        self.realert = timedelta(hours=settings.alert_realert_hours)
        self.profile = Profile(
            window=timedelta(days=settings.alert_window_days),
            min_publishers=settings.alert_min_publishers,
            min_confidence=settings.alert_min_confidence,
        )
        if upgrade.pending(conn):
            now = datetime.now(UTC)
            upgrade.adopt(conn, [s.recipient for s in self.subscriptions], now)
            self._settle_history(now)
            upgrade.mark_adopted(conn)

    def _settle_history(self, now: datetime) -> None:
        """Every shift in the stored history becomes a known alert that nobody is mailed
        ("adopted"): an upgrade must not mail what happened before it."""
        stamp = now.isoformat()
        for subject, jurisdiction in store.pairs(self.conn):
            for change in self.state(subject, jurisdiction).changes:
                if not change.is_shift:
                    continue
                event = to_event(change, now)
                alert_id = store.equivalent_alert(self.conn, event, self.dedupe_window)
                if alert_id is None:
                    store.add_alert(self.conn, event)
                    alert_id = event.id
                for sub in self.subscriptions:
                    if _wants(sub, subject, jurisdiction) and not store.delivery(
                        self.conn, alert_id, sub.recipient
                    ):
                        adopted = store.Delivery(
                            alert_id, sub.recipient, sub.delivery, "adopted", 0, "", stamp, stamp
                        )
                        store.put_delivery(self.conn, adopted)

    # -- reading articles ------------------------------------------------------------------

    def ingest(self, article: EnrichedArticle) -> set[tuple[str, str]]:
        """Record what the article says (idempotent); returns the pairs it touched."""
        return self.ingest_many([article])

    def ingest_many(self, articles: Iterable[EnrichedArticle]) -> set[tuple[str, str]]:
        """Record what each article says in one transaction (idempotent); returns the
        pairs they touched."""
        saved = saved_searches.queries(self.conn)  # matched on every article, for the page
        subscribed: set[str] | None = None  # read once, when an article has observations
        found: list[Observation] = []
        coverage: set[tuple[str, str]] = set()
        matches: set[tuple[str, str]] = set()
        for article in articles:
            observed = observations_of(article, self.settings)
            coverage |= {(o.subject, article.source.id) for o in observed}
            queries = saved
            if observed:
                if subscribed is None:
                    subscribed = {q for q in map(self._query_of, self.subscriptions) if q}
                queries = saved | subscribed
            matches |= {(query, article.id) for query in self.matcher.matching(queries, article)}
            found += observed
        return store.record_articles(self.conn, coverage, matches, found)

    def _query_of(self, sub: Subscription) -> str | None:
        """The subscription's saved search: its own `query`, or the one named by
        `saved_search` (None when that name is not saved: the subscription gets nothing)."""
        if not sub.saved_search:
            return sub.query
        saved = saved_searches.get(self.conn, sub.saved_search)
        if saved is None:
            log.error("subscription of %s: no saved search %r", sub.recipient, sub.saved_search)
            return None
        return saved.query

    # -- finding shifts --------------------------------------------------------------------

    def state(self, subject: str, jurisdiction: str) -> PairState:
        return replay(store.timeline(self.conn, subject, jurisdiction), self.profile)

    def states(self) -> list[PairState]:
        """The state table: every pair seen, confirmed and pending."""
        return [self.state(s, j) for s, j in store.pairs(self.conn)]

    def evaluate(self, pairs: Iterable[tuple[str, str]], now: datetime) -> list[AlertEvent]:
        """Every shift of these pairs not known before: recorded, queued per subscription.
        Generic subjects keep their state but raise nothing."""
        new: list[AlertEvent] = []
        for subject, jurisdiction in sorted(set(pairs)):
            if subject in self.settings.alert_generic_subjects:
                continue
            timeline = store.timeline(self.conn, subject, jurisdiction)
            for change in replay(timeline, self.profile).changes:
                if change.is_shift:
                    self._known(change, now, new)
            for sub in self.subscriptions:
                if _wants(sub, subject, jurisdiction):
                    self._queue_for(sub, timeline, now, new)
        return new

    def _queue_for(
        self,
        sub: Subscription,
        timeline: list[Observation],
        now: datetime,
        new: list[AlertEvent],
    ) -> None:
        profile = replace(
            self.profile,
            min_confidence=max(self.profile.min_confidence, sub.min_confidence),
            proposals=sub.proposals,
        )
        query = self._query_of(sub)
        if query is None:
            return
        for change in replay(timeline, profile).changes:
            if not change.is_shift:
                continue
            ids = [o.article_id for o in change.evidence]
            if query and not store.matched(self.conn, query, ids):
                continue
            self._queue(self._known(change, now, new), sub, now)

    def _known(self, change: Change, now: datetime, new: list[AlertEvent]) -> AlertEvent:
        event = to_event(change, now)
        existing = store.equivalent_alert(self.conn, event, self.dedupe_window)
        if existing is not None:
            found = store.alert(self.conn, existing)
            assert found is not None
            return found
        store.add_alert(self.conn, event)
        new.append(event)
        log.warning(
            "POLICY SHIFT alert=%s %s on %s: %s -> %s (%d reports)",
            event.id,
            event.jurisdiction,
            event.subject,
            event.previous,
            event.current,
            len(event.article_ids),
        )
        return event

    def _queue(self, event: AlertEvent, sub: Subscription, now: datetime) -> None:
        if store.delivery(self.conn, event.id, sub.recipient) is not None:
            return
        status, due = "pending", now
        if sub.delivery == "daily":
            status, due = "digest", next_digest(now, self.settings.alert_digest_hour_utc)
        if store.mailed_near(self.conn, sub.recipient, event, self.realert):
            status = "suppressed"
            ALERTS.labels("suppressed").inc()
        stamp = now.isoformat()
        store.put_delivery(
            self.conn,
            store.Delivery(
                event.id, sub.recipient, sub.delivery, status, 0, "", due.isoformat(), stamp
            ),
        )

    # -- sending ---------------------------------------------------------------------------

    def send_due(self, now: datetime) -> int:
        """Send every immediate email and digest that is due; returns emails accepted. A
        refused send stays queued with its error and is tried again after alert_retry_s."""
        sent = 0
        stamp = now.isoformat()
        for d in store.deliveries(self.conn, status="pending"):
            if d.next_attempt_at > stamp:
                continue
            event = store.alert(self.conn, d.alert_id)
            assert event is not None
            message = mail.render(event, [d.recipient], self.settings, now)
            if not self._send(message, [d], now):
                return sent  # the server is down: the rest wait for the next round
            sent += 1
        digests: dict[str, list[store.Delivery]] = {}
        for d in store.deliveries(self.conn, status="digest"):
            if d.next_attempt_at <= stamp:
                digests.setdefault(d.recipient, []).append(d)
        for recipient, rows in digests.items():
            events = [store.alert(self.conn, d.alert_id) for d in rows]
            message = mail.render_digest([e for e in events if e], recipient, self.settings, now)
            if not self._send(message, rows, now):
                return sent
            sent += 1
        return sent

    def _send(self, message: EmailMessage, rows: list[store.Delivery], now: datetime) -> bool:
        try:
            status = mail.deliver(message, self.settings)
        except Retry as exc:
            ALERTS.labels("mail-failed").inc()
            retry_at = (now + timedelta(seconds=self.settings.alert_retry_s)).isoformat()
            for d in rows:
                log.error("alert %s to %s not mailed yet: %s", d.alert_id, d.recipient, exc)
                store.put_delivery(
                    self.conn,
                    replace(
                        d, attempts=d.attempts + 1, last_error=str(exc), next_attempt_at=retry_at
                    ),
                )
            return False
        for d in rows:
            store.put_delivery(
                self.conn,
                replace(
                    d,
                    status=status,
                    attempts=d.attempts + 1,
                    last_error="",
                    updated_at=now.isoformat(),
                ),
            )
        ALERTS.labels(status).inc(len(rows))
        return True

    def mail_status(self, alert_id: str) -> str:
        """ "sent", "written", "suppressed", "not sent: <error>", "queued" or "no recipient"."""
        rows = store.deliveries(self.conn, alert_id=alert_id)
        if not rows:
            return "no recipient"
        failed = [d for d in rows if d.last_error and d.status in ("pending", "digest")]
        if failed:
            return f"not sent: {failed[0].last_error}"
        statuses = {d.status for d in rows}
        for status in ("pending", "digest"):
            if status in statuses:
                return "queued"
        return ", ".join(sorted(statuses))


def _wants(sub: Subscription, subject: str, jurisdiction: str) -> bool:
    return (not sub.subjects or subject in sub.subjects) and (
        not sub.jurisdictions or jurisdiction in sub.jurisdictions
    )


def next_digest(now: datetime, hour: int) -> datetime:
    at = now.astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def to_event(change: Change, now: datetime) -> AlertEvent:
    assert change.previous is not None
    evidence = change.evidence[:MAX_EVIDENCE]
    first = evidence[0]
    return AlertEvent(
        id=change.id,
        subject=change.subject,
        jurisdiction=change.jurisdiction,
        previous=change.previous,
        current=change.current,
        article_ids=[o.article_id for o in change.evidence],
        story_id=first.story_id,
        evidence=[o.evidence for o in evidence],
        title=first.title,
        url=first.url,
        created_at=now,
        urls=[o.url for o in evidence],
        outlets=[o.outlet for o in evidence],
        previous_since=_time(change.previous_since),
        opened_at=_time(change.opened_at),
        confirmed_at=_time(change.confirmed_at),
    )


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
