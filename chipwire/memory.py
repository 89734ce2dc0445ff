"""Fewer glibc malloc arenas in a process with many threads.

glibc gives threads up to eight arenas per core, and each arena keeps the memory its
threads freed for later: with 8 fetch threads, 3 stage threads, the relay and tantivy's
own threads, the pipeline process held ~125 MiB more at peak than with two arenas
(737 pages: 301 → 177 MiB; docs/benchmarks.md), for no measurable speed. The limit is
what `MALLOC_ARENA_MAX` sets, applied from the settings before the threads start.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt parameter number


def limit_malloc_arenas(arenas: int) -> bool:
    """At most `arenas` malloc arenas from now on (0 keeps glibc's default). Returns whether
    the limit is in force (False on a libc without mallopt, e.g. musl or macOS)."""
    if arenas <= 0:
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        log.debug("no mallopt in this C library: malloc arenas left as they are")
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
