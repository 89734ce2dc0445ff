"""What every bench script shares: result files, markdown tables, machine facts."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg_1m": os.getloadavg()[0],
        "trafilatura": version("trafilatura"),
        "lxml": version("lxml"),
    }


def write_result(stem: str, data: dict[str, Any]) -> Path:
    """bench/results/<stem>-<UTC timestamp>.json"""
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stem}-{stamp}.json"
    data = {"bench": stem, "at": stamp, "machine": machine(), **data}
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def spread(values: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def peak_rss_mib() -> dict[str, float]:
    """Peak resident memory of this process and of its largest finished child, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self": round(own, 1), "children": round(children, 1)}


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children) from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return int(fields[1]), (utime + stime + cutime + cstime) / _TICK


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds of one live process and its reaped children (0 once it is gone)."""
    found = _stat(pid)
    return found[1] if found is not None else 0.0


def _rss_mib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def descendants(root: int, exclude: set[int]) -> dict[int, float]:
    """CPU seconds of every live process under `root` (not `root`), minus excluded subtrees."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = found
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    result, todo = {}, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid in exclude:
            continue
        result[pid] = stats[pid][1]
        todo += children.get(pid, [])
    return result


class TreeMonitor:
    """Samples this process's tree (minus `exclude`) for CPU time and resident memory.

    Workers of a forkserver pool are not our direct children, so getrusage never sees
    them; their CPU shows up in the live tree and, once reaped, in their parent's cutime.
    The monitor runs in the measured process, so it keeps its own cost small: it reads the
    memory of the processes it knows every `interval_s` and looks for new ones (a scan of
    all of /proc, ~4 ms on a busy machine) only every `rescan_s`.
    """

    def __init__(self, exclude: set[int], interval_s: float = 0.2, rescan_s: float = 1.0) -> None:
        import threading

        self._exclude = exclude
        self._interval = interval_s
        self._rescan = rescan_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-monitor", daemon=True)
        self.peak_child_rss_mib = 0.0
        self.peak_tree_rss_mib = 0.0

    def exclude(self, pid: int) -> None:
        """Leave `pid` and its subtree out from now on (a broker started for one run)."""
        self._exclude.add(pid)

    def cpu_seconds(self) -> float:
        reaped = sum(
            usage.ru_utime + usage.ru_stime
            for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        )
        return reaped + sum(descendants(os.getpid(), self._exclude).values())

    def __enter__(self) -> TreeMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _sample(self) -> None:
        import time

        known: list[int] = []
        scanned_at = -self._rescan
        while not self._stop.wait(self._interval):
            if time.monotonic() - scanned_at >= self._rescan:
                known, scanned_at = list(descendants(os.getpid(), self._exclude)), time.monotonic()
            rss = [_rss_mib(pid) for pid in known]
            self.peak_child_rss_mib = max(self.peak_child_rss_mib, *rss, 0.0)
            self.peak_tree_rss_mib = max(self.peak_tree_rss_mib, _rss_mib(os.getpid()) + sum(rss))
