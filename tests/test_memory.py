"""The pipeline process caps glibc's malloc arenas: its many threads then share two
arenas instead of keeping up to sixteen, each holding the memory its threads freed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# 8 threads allocate at once through malloc (objects past pymalloc's 512 bytes); then
# glibc's malloc_info says how many arenas ("heaps") the process has.
PROBE = """
import ctypes, os, sys, tempfile, threading
sys.path.insert(0, {root!r})
from chipwire.memory import limit_malloc_arenas
from chipwire.settings import Settings
if {limit}:
    assert limit_malloc_arenas(Settings(_env_file=None).malloc_arenas)
barrier = threading.Barrier(8)
def work():
    held = [bytes(2000 + i % 500) for i in range(2000)]
    barrier.wait(timeout=30)
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join(timeout=60)
libc = ctypes.CDLL(None)
libc.fdopen.restype = ctypes.c_void_p
with tempfile.TemporaryFile() as out:
    stream = libc.fdopen(os.dup(out.fileno()), b"w")
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    out.seek(0)
    print(out.read().decode().count("<heap nr="))
"""


def arenas(limit: bool) -> int:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(root=str(ROOT), limit=limit)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_info")
def test_threads_share_the_configured_two_arenas() -> None:
    assert arenas(limit=False) > 2  # glibc's default: an arena per busy thread, up to 16
    assert arenas(limit=True) <= 2
