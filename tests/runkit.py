"""`chipwire run` as a real subprocess for tests: its sources file and chipwire.toml in a
temporary folder, a free API port, a log file, start and kill."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.smtp import free_port


class RunProcess:
    def __init__(self, tmp: Path, sources_yaml: str, settings_toml: str) -> None:
        """`settings_toml` adds to the data dir, sources file and API port set here."""
        self.port = free_port()
        (tmp / "sources.yaml").write_text(sources_yaml)
        (tmp / "chipwire.toml").write_text(
            f'data_dir = "{tmp / "data"}"\nsources_file = "{tmp / "sources.yaml"}"\n'
            f"http_port = {self.port}\n{settings_toml}"
        )
        self.env = {**os.environ, "CHIPWIRE_CONFIG": str(tmp / "chipwire.toml")}
        self.log = tmp / "run.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, command: str = "run") -> None:
        """`chipwire run`, or another of its process commands (`crawl`, …)."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "chipwire", command], env=self.env, stdout=log, stderr=log
            )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
