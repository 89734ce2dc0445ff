"""How every consuming stage runs: poll a batch, handle each message, flush, commit.

Outcomes are decided here and nowhere else:
- success: counted, offsets committed after the sink's flush succeeded;
- Quarantine (or the same message failing `max_attempts` times): dead-lettered with
  the reason in headers, then skipped (from a flush: once the batch is split down to the
  one message that fails alone);
- Retry (sink or bus down): nothing committed, the same batch is handled again after a
  backoff, before anything new is polled;
- any other exception from `handle` or `flush` is a failure of the message in hand (a
  failed flush is bisected to find it), retried, and dead-lettered at `max_attempts`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Mapping
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
    # and stop waiting once nothing new came for this long (None: wait out `linger_s`): a
    # long linger pays off while messages keep coming, a lone one goes soon
    quiet_s: float | None = None
    clock: Callable[[], float] = time.monotonic
    max_attempts: int = 3
    retry_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    handled: Tally[str] = field(default_factory=Tally)
    _attempts: dict[tuple[str, int, int], int] = field(default_factory=dict)
    # dead-lettered since the last commit: a re-read batch must not dead-letter them twice
    _dead: set[tuple[str, int, int]] = field(default_factory=set)
    # a batch that raised Retry, handled again before anything new is polled. Held here
    # rather than re-read by rewinding the consumer: on Kafka a rewind re-reads only the
    # batch's partitions, after records of other partitions already fetched, and a sink
    # may publish again for that batch meanwhile (the event sink's unconfirmed articles)
    _again: list[Message] = field(default_factory=list)
    # liveness, read by /healthz: when the loop last turned and a batch was last committed
    last_loop_at: float = field(default_factory=time.monotonic)
    last_commit_at: float = field(default_factory=time.monotonic)
    committed: int = 0
    failing_since: float | None = None  # first failure of the current run of failures

    def run(self, stop: threading.Event, poll_timeout_s: float = 0.5) -> None:
        """Process until `stop` is set. Nothing a message, the sink or the bus raises ends
        this loop: the thread lives as long as the stage."""
        backoff = self.retry_backoff_s
        while not stop.is_set():
            try:
                self.step(poll_timeout_s)
                backoff = self.retry_backoff_s
                self.failing_since = None
            except Retry as exc:
                log.warning("stage %s: retrying after %.1fs: %s", self.sink.name, backoff, exc)
                self.failing_since = self.failing_since or time.monotonic()
                stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
            except Exception:
                self.failing_since = self.failing_since or time.monotonic()
                log.exception(
                    "stage %s: step failed, retrying after %.1fs", self.sink.name, backoff
                )
                self._rewind_quietly()
                stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
            self.last_loop_at = time.monotonic()

    def drain(self, idle_s: float = 0.3, timeout_s: float = 60.0) -> int:
        """Process until the log has nothing unread; returns messages handled. `idle_s`
        bounds each poll. The stages upstream have drained already, so the consumer
        fetches what is there instead of waiting for a fuller batch (on Kafka a fetch
        waits for `kafka_fetch_min_bytes` up to `kafka_fetch_max_wait_ms`), and a drain
        takes what it gets without lingering for more. The log's end is asked after every
        batch: once nothing is unread the drain is over, without an empty poll to say so."""
        deadline = time.monotonic() + timeout_s
        total = 0
        backoff = self.retry_backoff_s
        with self.consumer.reading_to_end():
            while time.monotonic() < deadline:
                try:
                    total += self.step(idle_s, linger=False)
                except Retry as exc:
                    log.warning("stage %s: retrying after %.1fs: %s", self.sink.name, backoff, exc)
                    time.sleep(min(backoff, max(0.0, deadline - time.monotonic())))  # backoff
                    backoff = min(backoff * 2, self.max_backoff_s)
                    continue
                if self.consumer.unread() == 0:
                    return total
        raise TimeoutError(f"stage {self.sink.name} did not drain in {timeout_s}s")

    def step(self, poll_timeout_s: float, linger: bool = True) -> int:
        batch, self._again = self._again, []
        if not batch:
            batch = self.consumer.poll(self.max_records, poll_timeout_s)
            if not batch:
                idle = getattr(self.sink, "on_idle", None)  # optional: work due without messages
                if idle is not None:
                    idle()
                return 0
            if linger:
                batch += self._linger(self.max_records - len(batch))
        started = time.perf_counter()
        try:
            failed = self._process(batch)
        except Retry:
            self._again = batch
            raise
        if failed:
            # some message failed and has attempts left: the batch again after a backoff
            # (the sinks are idempotent by key, so the messages that succeeded are harmless)
            self._again = batch
            raise Retry("message-failed", f"{failed} message(s) of {len(batch)} will be retried")
        self.consumer.commit()
        self._dead.clear()
        for message in batch:  # a failure count lives until its message is committed
            self._attempts.pop((message.topic, message.partition, message.offset), None)
        self.committed += len(batch)
        self.last_commit_at = time.monotonic()
        STAGE_SECONDS.labels(self.sink.name).observe(time.perf_counter() - started)
        return len(batch)

    def _process(self, batch: list[Message]) -> int:
        """Handle and flush `batch`; returns how many messages failed with attempts left.

        A flush that raises anything but Retry does not say which message was at fault, so
        the batch is split in halves and each half handled and flushed on its own, down to
        the one message that fails alone (at most 2·log2(n) extra flushes per poison)."""
        for message in batch:
            self._handle_one(message)
        try:
            self.sink.flush()
            return 0
        except Retry:
            raise
        except Exception as exc:
            if len(batch) == 1 and isinstance(exc, Quarantine):  # can never succeed
                self._dead_letter(batch[0], exc.reason, exc.detail)
                self._dead.add((batch[0].topic, batch[0].partition, batch[0].offset))
                return 0
            if len(batch) == 1:
                return self._failed(batch[0], exc, "flush")
            log.warning(
                "stage %s: flush of %d messages failed (%s: %s), splitting the batch",
                self.sink.name,
                len(batch),
                type(exc).__name__,
                exc,
            )
        middle = len(batch) // 2
        return self._process(batch[:middle]) + self._process(batch[middle:])

    def _linger(self, room: int) -> list[Message]:
        more: list[Message] = []
        first = last = self.clock()
        quiet_s = self.linger_s if self.quiet_s is None else self.quiet_s
        while room > len(more):
            deadline = min(first + self.linger_s, last + quiet_s)
            if (remaining := deadline - self.clock()) <= 0:
                break
            got = self.consumer.poll(room - len(more), remaining)
            if not got:
                break
            more += got
            last = self.clock()
        return more

    def _handle_one(self, message: Message) -> None:
        where = (message.topic, message.partition, message.offset)
        if where in self._dead:
            return
        try:
            self.sink.handle(message)
            self._count("ok")
        except Discard as exc:
            self._count(exc.reason)
        except Retry:
            raise
        except Quarantine as exc:
            self._dead_letter(message, exc.reason, exc.detail)
            self._dead.add(where)
        except Exception as exc:
            if self._failed(message, exc, "handle"):
                raise Retry("handler-error", str(exc)) from exc

    def _failed(self, message: Message, exc: Exception, phase: str) -> int:
        """Count one more failed attempt of `message`; dead-letter it at `max_attempts`.
        Returns 1 when it will be tried again, 0 when it was dead-lettered."""
        where = (message.topic, message.partition, message.offset)
        attempts = self._attempts.get(where, 0) + 1
        self._attempts[where] = attempts
        log.error(
            "stage %s: message %s failed in %s (attempt %d of %d): %s: %s",
            self.sink.name,
            where,
            phase,
            attempts,
            self.max_attempts,
            type(exc).__name__,
            exc,
            exc_info=exc,
        )
        if attempts < self.max_attempts:
            return 1
        self._attempts.pop(where, None)
        self._dead_letter(message, "crashed", f"{phase}: {type(exc).__name__}: {exc}")
        self._dead.add(where)
        return 0

    def _rewind_quietly(self) -> None:
        self._again = []  # the consumer reads it again
        try:
            self.consumer.rewind()
        except Exception:
            log.exception("stage %s: rewind failed", self.sink.name)

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
