"""How every consuming stage runs: poll a batch, handle each message, flush, commit.

Outcomes are decided here and nowhere else:
- success: counted, offsets committed after the sink's flush succeeded;
- Quarantine (or the same message failing `max_attempts` times): dead-lettered with
  the reason in headers, then skipped;
- Retry (sink or bus down): nothing committed, the batch is re-read after a backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter as Tally
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from chipwire.bus import DLQ_TOPIC, Bus, Consumer, Message
from chipwire.errors import Discard, Quarantine, Retry
from chipwire.metrics import MESSAGES, STAGE_SECONDS

log = logging.getLogger(__name__)


class Sink(Protocol):
    name: str

    def handle(self, message: Message) -> None:
        """Do the stage's work for one message (may buffer until flush)."""
        ...

    def flush(self) -> None:
        """Make the batch's work durable; raise Retry if it cannot."""
        ...

    # A sink may also define `on_idle() -> None`: called when a poll returns nothing, for
    # work that falls due without messages (the alerter's email retries and digests).


@dataclass
class StageRunner:
    consumer: Consumer
    sink: Sink
    bus: Bus
    max_records: int = 200
    # after the first message, wait this long for more: one flush (an index commit) per
    # batch instead of one per message, for at most this much added latency
    linger_s: float = 0.25
    max_attempts: int = 3
    retry_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    handled: Tally[str] = field(default_factory=Tally)
    _attempts: dict[tuple[str, int, int], int] = field(default_factory=dict)
    # dead-lettered since the last commit: a re-read batch must not dead-letter them twice
    _dead: set[tuple[str, int, int]] = field(default_factory=set)

    def run(self, stop: threading.Event, poll_timeout_s: float = 0.5) -> None:
        """Process until `stop` is set."""
        backoff = self.retry_backoff_s
        while not stop.is_set():
            try:
                self.step(poll_timeout_s)
                backoff = self.retry_backoff_s
            except Retry as exc:
                log.warning("stage %s: retrying after %.1fs: %s", self.sink.name, backoff, exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    def drain(self, idle_s: float = 0.3, timeout_s: float = 60.0) -> int:
        """Process until the topic stays empty for `idle_s`; returns messages handled."""
        deadline = time.monotonic() + timeout_s
        total = 0
        backoff = self.retry_backoff_s
        while time.monotonic() < deadline:
            try:
                count = self.step(idle_s)
            except Retry as exc:
                log.warning("stage %s: retrying after %.1fs: %s", self.sink.name, backoff, exc)
                time.sleep(min(backoff, max(0.0, deadline - time.monotonic())))  # backoff
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            if count == 0:
                return total
            total += count
        raise TimeoutError(f"stage {self.sink.name} did not drain in {timeout_s}s")

    def step(self, poll_timeout_s: float) -> int:
        batch = self.consumer.poll(self.max_records, poll_timeout_s)
        if not batch:
            idle = getattr(self.sink, "on_idle", None)  # optional: work due without messages
            if idle is not None:
                idle()
            return 0
        batch += self._linger(self.max_records - len(batch))
        started = time.perf_counter()
        try:
            for message in batch:
                self._handle_one(message)
            self.sink.flush()
        except Retry:
            self.consumer.rewind()
            raise
        self.consumer.commit()
        self._dead.clear()
        STAGE_SECONDS.labels(self.sink.name).observe(time.perf_counter() - started)
        return len(batch)

    def _linger(self, room: int) -> list[Message]:
        more: list[Message] = []
        deadline = time.monotonic() + self.linger_s
        while room > len(more) and (remaining := deadline - time.monotonic()) > 0:
            got = self.consumer.poll(room - len(more), remaining)
            if not got:
                break
            more += got
        return more

    def _handle_one(self, message: Message) -> None:
        where = (message.topic, message.partition, message.offset)
        if where in self._dead:
            return
        try:
            self.sink.handle(message)
            self._count("ok")
            self._attempts.pop(where, None)
        except Discard as exc:
            self._count(exc.reason)
        except Retry:
            raise
        except Quarantine as exc:
            self._dead_letter(message, exc.reason, exc.detail)
            self._dead.add(where)
        except Exception as exc:
            attempts = self._attempts.get(where, 0) + 1
            self._attempts[where] = attempts
            log.exception(
                "stage %s: message %s failed (attempt %d)", self.sink.name, where, attempts
            )
            if attempts >= self.max_attempts:
                self._attempts.pop(where, None)
                self._dead_letter(message, "crashed", f"{type(exc).__name__}: {exc}")
                self._dead.add(where)
            else:
                raise Retry("handler-error", str(exc)) from exc

    def _dead_letter(self, message: Message, reason: str, detail: str) -> None:
        log.error(
            "stage %s: dead-lettering %s@%d key=%s: %s %s",
            self.sink.name,
            message.topic,
            message.offset,
            message.key,
            reason,
            detail,
        )
        headers: Mapping[str, str] = {
            **message.headers,
            "dlq_reason": reason,
            "dlq_detail": detail[:2000],
            "dlq_stage": self.sink.name,
            "dlq_topic": message.topic,
            "dlq_partition": str(message.partition),
            "dlq_offset": str(message.offset),
        }
        self.bus.publish(DLQ_TOPIC, message.key, message.value, headers)
        self._count("dead-lettered")

    def _count(self, status: str) -> None:
        self.handled[status] += 1
        MESSAGES.labels(self.sink.name, status).inc()
