"""Policy state per (subject, acting jurisdiction), and the shifts between states.

Observations are kept, not only the latest state, because articles arrive out of order
(feeds are polled concurrently, a late outlet reports an old event): the timeline is
re-read in publication order every time, and a shift is the first article of a run in a
new direction. A shift's id depends only on that timeline, so a replay or a restart
finds the same ids and mails nothing twice.
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from chipwire.contract import Direction, EnrichedArticle, Signal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS observations (
    subject TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    article_id TEXT NOT NULL,
    story_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    confidence REAL NOT NULL,
    evidence TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (subject, jurisdiction, article_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts_sent (
    alert_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    previous TEXT NOT NULL,
    current TEXT NOT NULL,
    first_at TEXT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class Observation:
    subject: str
    jurisdiction: str
    article_id: str
    story_id: str
    direction: Direction
    observed_at: str  # ISO time: published_at, else fetched_at
    confidence: float
    evidence: str
    title: str
    url: str


@dataclass(frozen=True)
class Shift:
    id: str
    subject: str
    jurisdiction: str
    previous: Direction
    current: Direction
    first: Observation  # the article that opened the new run
    corroborating: tuple[Observation, ...]


@dataclass(frozen=True)
class PolicyState:
    subject: str
    jurisdiction: str
    direction: Direction
    since: str
    articles: int
    latest_title: str


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(_SCHEMA)
    return conn


def observations_of(
    article: EnrichedArticle, min_confidence: float, min_relevance: float
) -> list[Observation]:
    """What one article says about each (subject, jurisdiction): one direction, or nothing.

    Precision over recall. An off-topic article says nothing. For the article's own acting
    jurisdiction the article-level stance decides, when a confident signal backs it. Any
    other pair needs a clear majority (twice the opposing confidence) and one strong signal:
    background sentences about other governments must not move their state.
    """
    if article.relevance < min_relevance:
        return []
    votes: dict[tuple[str, str], dict[Direction, list[Signal]]] = {}
    for signal in article.signals:
        if signal.confidence < min_confidence or signal.certainty == "proposed":
            continue
        pair = (signal.subject, signal.jurisdiction)
        votes.setdefault(pair, {}).setdefault(signal.direction, []).append(signal)
    when = (article.published_at or article.fetched_at).isoformat()
    found = []
    for (subject, jurisdiction), by_direction in sorted(votes.items()):
        direction = _decide(article, jurisdiction, by_direction)
        if direction is None:
            continue
        best = max(by_direction[direction], key=lambda s: s.confidence)
        found.append(
            Observation(
                subject,
                jurisdiction,
                article.id,
                article.story_id,
                direction,
                when,
                best.confidence,
                best.evidence,
                article.title,
                article.url,
            )
        )
    return found


_SECONDARY_MIN_CONFIDENCE = 0.75


def _decide(
    article: EnrichedArticle, jurisdiction: str, by_direction: dict[Direction, list[Signal]]
) -> Direction | None:
    own = jurisdiction == article.acting_jurisdiction
    if own and (article.stance == "restrict" or article.stance == "ease"):
        return article.stance if article.stance in by_direction else None
    weight = {d: sum(s.confidence for s in signals) for d, signals in by_direction.items()}
    winner = max(weight, key=lambda d: weight[d])
    loser = sum(w for d, w in weight.items() if d != winner)
    strongest = max(s.confidence for s in by_direction[winner])
    if weight[winner] >= 2 * loser and strongest >= _SECONDARY_MIN_CONFIDENCE:
        return winner
    return None


def record(conn: sqlite3.Connection, observations: Iterable[Observation]) -> set[tuple[str, str]]:
    """Store observations (idempotent); returns the (subject, jurisdiction) pairs touched."""
    rows = [
        (
            o.subject,
            o.jurisdiction,
            o.article_id,
            o.story_id,
            o.direction,
            o.observed_at,
            o.confidence,
            o.evidence,
            o.title,
            o.url,
        )
        for o in observations
    ]
    with conn:
        conn.executemany("INSERT OR REPLACE INTO observations VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    return {(r[0], r[1]) for r in rows}


def timeline(conn: sqlite3.Connection, subject: str, jurisdiction: str) -> list[Observation]:
    rows = conn.execute(
        "SELECT * FROM observations WHERE subject = ? AND jurisdiction = ? "
        "ORDER BY observed_at, article_id",
        (subject, jurisdiction),
    ).fetchall()
    return [Observation(*row) for row in rows]


def shifts(observations: list[Observation]) -> list[Shift]:
    """Every change of direction along a time-ordered timeline. Several articles of one
    story count once, so a syndicated copy cannot open or close a run on its own."""
    runs: list[list[Observation]] = []
    for obs in _one_per_story(observations):
        if runs and runs[-1][0].direction == obs.direction:
            runs[-1].append(obs)
        else:
            runs.append([obs])
    return [_shift(before[0].direction, run) for before, run in itertools.pairwise(runs)]


def _one_per_story(observations: list[Observation]) -> list[Observation]:
    seen: set[str] = set()
    unique = []
    for obs in observations:
        if obs.story_id not in seen:
            seen.add(obs.story_id)
            unique.append(obs)
    return unique


def _shift(previous: Direction, run: list[Observation]) -> Shift:
    first = run[0]
    raw = f"{first.subject}|{first.jurisdiction}|{previous}|{first.direction}|{first.story_id}"
    return Shift(
        id=hashlib.sha256(raw.encode()).hexdigest()[:24],
        subject=first.subject,
        jurisdiction=first.jurisdiction,
        previous=previous,
        current=first.direction,
        first=first,
        corroborating=tuple(run[1:]),
    )


def already_handled(conn: sqlite3.Connection, shift: Shift, window: timedelta) -> bool:
    """Was this shift, or the same move seen from a different first article, mailed?

    The article that opens a run can change when an earlier report arrives late (outlets
    publish the same news hours apart and feeds are polled in any order), so a shift
    counts as handled when the same transition of the same pair, opened within `window`
    of this one, was mailed.
    """
    rows = conn.execute(
        "SELECT alert_id, first_at FROM alerts_sent WHERE subject = ? AND jurisdiction = ? "
        "AND previous = ? AND current = ? AND status IN ('sent', 'written')",
        (shift.subject, shift.jurisdiction, shift.previous, shift.current),
    ).fetchall()
    opened = datetime.fromisoformat(shift.first.observed_at)
    return any(
        alert_id == shift.id or abs(datetime.fromisoformat(first_at) - opened) <= window
        for alert_id, first_at in rows
    )


def mark_handled(conn: sqlite3.Connection, shift: Shift, status: str) -> None:
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO alerts_sent VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                shift.id,
                shift.subject,
                shift.jurisdiction,
                shift.previous,
                shift.current,
                shift.first.observed_at,
                status,
                datetime.now().astimezone().isoformat(),
            ),
        )


def current_states(conn: sqlite3.Connection) -> list[PolicyState]:
    pairs = conn.execute(
        "SELECT DISTINCT subject, jurisdiction FROM observations ORDER BY subject, jurisdiction"
    ).fetchall()
    states = []
    for subject, jurisdiction in pairs:
        line = _one_per_story(timeline(conn, subject, jurisdiction))
        last = line[-1]
        run_start = len(line) - 1
        while run_start > 0 and line[run_start - 1].direction == last.direction:
            run_start -= 1
        states.append(
            PolicyState(
                subject,
                jurisdiction,
                last.direction,
                line[run_start].observed_at,
                len(line) - run_start,
                last.title,
            )
        )
    return states
