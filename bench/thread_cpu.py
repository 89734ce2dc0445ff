"""CPU seconds per thread of this process, by the thread's Python name.

Python 3.11 does not give its threads native names, so `/proc/self/task/<tid>/comm` says
"python" for all of them. A sampler thread reads every task's utime + stime a few times
a second and names each tid from `threading.enumerate()` (`native_id`); a thread that ends
between two samples keeps its last reading. Threads started outside Python (tantivy's
writer, a C library's pool) have no Python name: they are counted under "native".
The sampler's own reads are counted under its own name, apart from the rest.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

_TICK = os.sysconf("SC_CLK_TCK")
_TASKS = Path("/proc/self/task")
SAMPLER = "thread-cpu-sampler"


def _task_cpu_seconds(tid: str) -> float | None:
    try:
        raw = (_TASKS / tid / "stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def group(name: str) -> str:
    """A thread's name with its running number dropped: every crawl pool thread is one row."""
    return re.sub(r"[_-]\d+$", "_N", re.sub(r"Thread-\d+.*", "Thread-N", name))


class ThreadCPU:
    """`with ThreadCPU() as cpu: ...` then `cpu.seconds()`: CPU seconds per thread name
    spent inside the block."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self._names: dict[str, str] = {}
        self._start: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=SAMPLER, daemon=True)

    def _sample(self, first: bool = False) -> None:
        for thread in threading.enumerate():
            if thread.native_id is not None:
                self._names[str(thread.native_id)] = (
                    "MAIN" if thread is threading.main_thread() else thread.name
                )
        for tid in os.listdir(_TASKS):
            cpu = _task_cpu_seconds(tid)
            if cpu is not None:
                self._start.setdefault(tid, cpu if first else 0.0)
                self._last[tid] = cpu

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def __enter__(self) -> Self:
        self._sample(first=True)  # the threads alive now count from here, later ones from zero
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def seconds(self, grouped: bool = True) -> dict[str, float]:
        totals: dict[str, float] = {}
        for tid, last in self._last.items():
            name = self._names.get(tid, "native")
            key = group(name) if grouped else name
            totals[key] = totals.get(key, 0.0) + last - self._start.get(tid, 0.0)
        return dict(sorted(totals.items(), key=lambda item: -item[1]))
