"""The state machine of one (subject, government) pair: corroboration and hysteresis.

A pure function of the pair's observations, read in publication order (ties by article
id), so any arrival order gives the same result and a replay finds the same shifts:

- one story counts once: syndicated copies and rewrites (one `story_id`) are represented
  by their earliest report, whose publisher and official flag they carry;
- a direction is *confirmed* by the report that completes, within the window ending at
  that report, either one official report or reports from `min_publishers` distinct
  publishers (registered domains) — provided the opposite direction is not confirmed in
  the same window by reports after the last confirmation too (mixed evidence confirms
  nothing; the reports that confirmed the current state are its evidence, not a
  contrary voice);
- hysteresis: the confirmed state changes only when the opposite direction is confirmed;
  a lone contrary report is kept (`contrary`, `pending`) and moves nothing;
- the pair's first confirmed state is a state, not a shift.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from alerts.observe import CURRENT, PROPOSED, Observation
from chipwire.contract import Direction

Pending = Direction | Literal["mixed"]


@dataclass(frozen=True)
class Profile:
    """How strict a reading is: the alerter's default, or a subscription's."""

    window: timedelta = timedelta(days=7)
    min_publishers: int = 2
    min_confidence: float = 0.0
    proposals: bool = False


@dataclass(frozen=True)
class Change:
    """A newly confirmed state of a pair. `previous` None: its first state, not a shift."""

    id: str
    subject: str
    jurisdiction: str
    previous: Direction | None
    previous_since: str | None
    current: Direction
    opened_at: str  # the first report of the new direction in the confirming window
    confirmed_at: str  # the report that completed the corroboration
    evidence: tuple[Observation, ...]  # the confirming reports, one per story, in order

    @property
    def is_shift(self) -> bool:
        return self.previous is not None


@dataclass(frozen=True)
class PairState:
    subject: str
    jurisdiction: str
    confirmed: Direction | None
    since: str | None
    pending: Pending | None  # an unconfirmed direction other than the confirmed one
    pending_since: str | None
    pending_publishers: int
    contrary: tuple[Observation, ...]  # reports against the state since it was confirmed
    changes: tuple[Change, ...]
    reports: int  # stories counted


def replay(observations: list[Observation], profile: Profile) -> PairState:
    reports = _one_per_story(_counted(observations, profile))
    times = [datetime.fromisoformat(r.observed_at) for r in reports]
    state: Direction | None = None
    since: str | None = None
    settled = 0  # index of the first report after the last confirmation
    changes: list[Change] = []
    start = 0  # first report inside the window ending at report i (times are sorted)
    for i, report in enumerate(reports):
        while times[start] < times[i] - profile.window:
            start += 1
        if report.direction == state:
            continue
        window = reports[start : i + 1]
        # the reports that confirmed the state we stand in are its evidence, not a second
        # opinion: only what came after that confirmation can make the window mixed
        since_settled = reports[max(start, settled) : i + 1]
        if not _confirms(window, report.direction, profile) or _confirms(
            since_settled, _opposite(report.direction), profile
        ):
            continue
        evidence = tuple(r for r in window if r.direction == report.direction)
        changes.append(_change(report, state, since, evidence))
        state, since, settled = report.direction, report.observed_at, i + 1
    return _state(reports, times, state, since, settled, changes, profile)


def _counted(observations: list[Observation], profile: Profile) -> list[Observation]:
    allowed = CURRENT | {PROPOSED} if profile.proposals else CURRENT
    return sorted(
        (
            o
            for o in observations
            if o.certainty in allowed and o.confidence >= profile.min_confidence
        ),
        key=lambda o: (o.observed_at, o.article_id),
    )


def _one_per_story(observations: list[Observation]) -> list[Observation]:
    seen: set[str] = set()
    unique = []
    for obs in observations:
        if obs.story_id not in seen:
            seen.add(obs.story_id)
            unique.append(obs)
    return unique


def _confirms(window: list[Observation], direction: Direction, profile: Profile) -> bool:
    reports = [r for r in window if r.direction == direction]
    if any(r.official for r in reports):
        return True
    return len({r.publisher for r in reports}) >= profile.min_publishers


def _opposite(direction: Direction) -> Direction:
    return "ease" if direction == "restrict" else "restrict"


def _change(
    report: Observation,
    previous: Direction | None,
    previous_since: str | None,
    evidence: tuple[Observation, ...],
) -> Change:
    opener = evidence[0]
    raw = f"{report.subject}|{report.jurisdiction}|{previous}|{report.direction}|{opener.story_id}"
    return Change(
        id=hashlib.sha256(raw.encode()).hexdigest()[:24],
        subject=report.subject,
        jurisdiction=report.jurisdiction,
        previous=previous,
        previous_since=previous_since,
        current=report.direction,
        opened_at=opener.observed_at,
        confirmed_at=report.observed_at,
        evidence=evidence,
    )


def _state(
    reports: list[Observation],
    times: list[datetime],
    state: Direction | None,
    since: str | None,
    settled: int,
    changes: list[Change],
    profile: Profile,
) -> PairState:
    contrary = tuple(r for r in reports[settled:] if r.direction != state)
    recent = (
        [
            r
            for r, t in zip(reports[settled:], times[settled:], strict=True)
            if t >= times[-1] - profile.window
        ]
        if reports
        else []
    )
    open_directions = {r.direction for r in recent if r.direction != state}
    pending: Pending | None = None
    pending_since: str | None = None
    publishers = 0
    if open_directions:
        pending = open_directions.pop() if len(open_directions) == 1 else "mixed"
        against = [r for r in recent if r.direction != state]
        pending_since = against[0].observed_at
        publishers = len({r.publisher for r in against})
    first = reports[0] if reports else None
    return PairState(
        subject=first.subject if first else "",
        jurisdiction=first.jurisdiction if first else "",
        confirmed=state,
        since=since,
        pending=pending,
        pending_since=pending_since,
        pending_publishers=publishers,
        contrary=contrary,
        changes=tuple(changes),
        reports=len(reports),
    )
