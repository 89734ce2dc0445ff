"""Every bad input an operator meets gives one line on stderr and the right exit code:
2 for usage and configuration, 1 for trouble at run time. Each row runs the real
`chipwire` command in a subprocess, as a terminal would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chipwire.bus.embedded import EmbeddedBus

LATIN1 = (
    "Die chinesische Zollbehörde erklärte, Nvidias H200 sei nicht zulässig; "
    "Händler müssen die Lieferungen zurückschicken."
).encode("latin-1")


@dataclass
class Case:
    args: list[str]
    code: int
    says: list[str]
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


CASES: dict[str, Case] = {
    "unknown key in the file, with a suggestion": Case(
        ["search", "H200"],
        2,
        ["unknown setting 'pol_interval'", "chipwire.toml", "did you mean 'poll_interval_s'"],
        files={"chipwire.toml": b"pol_interval = 60\n"},
    ),
    "wrong type in the environment": Case(
        ["topics", "list"],
        2,
        ["poll_interval_s = 'soon'", "CHIPWIRE_POLL_INTERVAL_S", "valid number"],
        env={"CHIPWIRE_POLL_INTERVAL_S": "soon"},
    ),
    "broken TOML": Case(
        ["dlq", "list"],
        2,
        ["chipwire.toml is not valid TOML", "line 1"],
        files={"chipwire.toml": b"bus = \n"},
    ),
    "unknown bus (search)": Case(
        ["search", "x"], 2, ["bus = 'nonsense'", "CHIPWIRE_BUS"], env={"CHIPWIRE_BUS": "nonsense"}
    ),
    "unknown bus (topics)": Case(
        ["topics", "list"], 2, ["bus = 'nonsense'"], env={"CHIPWIRE_BUS": "nonsense"}
    ),
    "unknown bus (dlq)": Case(
        ["dlq", "list"], 2, ["bus = 'nonsense'"], env={"CHIPWIRE_BUS": "nonsense"}
    ),
    "unknown bus (reenrich)": Case(
        ["reenrich"], 2, ["bus = 'nonsense'"], env={"CHIPWIRE_BUS": "nonsense"}
    ),
    "unknown bus (demo)": Case(
        ["demo", "--json"], 2, ["bus = 'nonsense'"], env={"CHIPWIRE_BUS": "nonsense"}
    ),
    "unknown bus (run)": Case(["run"], 2, ["bus = 'nonsense'"], env={"CHIPWIRE_BUS": "nonsense"}),
    "tag: no such file": Case(["tag", "missing.txt"], 2, ["cannot read missing.txt"]),
    "tag: a directory": Case(["tag", "."], 2, ["cannot read .", "directory"]),
    "tag: binary input": Case(
        ["tag", "blob.bin"], 2, ["blob.bin looks binary"], files={"blob.bin": b"\x00\x01\x02\xff"}
    ),
    "tag: empty input": Case(
        ["tag", "empty.txt"], 2, ["empty.txt is empty"], files={"empty.txt": b" \n"}
    ),
    "tail: unknown topic, with a suggestion": Case(
        ["tail", "--topic", "enrichd", "--no-follow"], 2, ["no topic 'enrichd'", "'enriched'"]
    ),
    "sources file error keeps its square brackets": Case(
        ["run"],
        2,
        ["source #1: id", "^[a-z0-9][a-z0-9_.-]*$"],
        env={"CHIPWIRE_HTTP_PORT": "0"},
        files={"sources.yaml": b"sources:\n  - id: Bad Id\n    name: x\n    feed: http://x.org/\n"},
    ),
    "API exposed without a token": Case(
        ["serve"], 2, ["http_host = '0.0.0.0'", "api_token"], env={"CHIPWIRE_HTTP_HOST": "0.0.0.0"}
    ),
    "a bad query": Case(["search", "title:(H200"], 2, ["bad query"]),
    "search: a bad date": Case(["search", "--since", "yesterday"], 2, ["cannot read the date"]),
    "Kafka unreachable (topics)": Case(
        ["topics", "list"],
        1,
        ["cannot reach Kafka at 127.0.0.1:9", "kafka_bootstrap"],
        env={
            "CHIPWIRE_BUS": "kafka",
            "CHIPWIRE_KAFKA_BOOTSTRAP": "127.0.0.1:9",
            "CHIPWIRE_KAFKA_BOOTSTRAP_TIMEOUT_MS": "1000",
        },
    ),
}


def chipwire(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CHIPWIRE_")}
    full_env.update(
        CHIPWIRE_CONFIG=str(cwd / "chipwire.toml"),
        CHIPWIRE_DATA_DIR=str(cwd / "data"),
        CHIPWIRE_SOURCES_FILE=str(cwd / "sources.yaml"),
        COLUMNS="200",
    )
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "chipwire", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def error_lines(stderr: str) -> list[str]:
    """What the operator reads, minus ordinary log lines (time-stamped INFO)."""
    return [line for line in stderr.splitlines() if line.strip() and " INFO " not in line]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gives_one_line_and_the_right_exit_code(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    for file, data in case.files.items():
        (tmp_path / file).write_bytes(data)
    done = chipwire(case.args, tmp_path, case.env)
    lines = error_lines(done.stderr)
    assert done.returncode == case.code, done.stderr
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for fragment in case.says:
        assert fragment in lines[0], lines[0]


def test_latin1_input_is_decoded_and_tagged(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes(LATIN1)
    done = chipwire(["tag", "latin.txt", "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Zollbehörde" in done.stdout or '"H200"' in done.stdout


def test_a_taken_http_port_fails_at_start_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        (tmp_path / "sources.yaml").write_text("sources: []\n")
        done = chipwire(["run"], tmp_path, {"CHIPWIRE_HTTP_PORT": str(port)})
    lines = error_lines(done.stderr)
    assert done.returncode == 2
    assert lines == [
        f"error: http port 127.0.0.1:{port} is taken: stop the other process, choose another "
        "http_port, or set http_port = 0 to run without the API"
    ]


def test_tail_prints_feed_text_as_data_never_as_markup_or_terminal_control(
    tmp_path: Path,
) -> None:
    from chipwire.bus import ENRICHED_TOPIC

    title = "Export [/bold] rules [red]tighten\x1b]0;pwned\x07\x1b[2J\x9b31m now"
    bus = EmbeddedBus(tmp_path / "data" / "log.sqlite")
    body = json.dumps({"id": "k1", "title": title}, ensure_ascii=False).encode()
    bus.publish(ENRICHED_TOPIC, "k1", body, {})
    bus.publish(ENRICHED_TOPIC, "k2", b"", {})  # a tombstone
    bus.close()
    done = chipwire(["tail", "--from-beginning", "--no-follow"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Export [/bold] rules [red]tighten now" in " ".join(done.stdout.split())
    assert "\x1b" not in done.stdout and "\x9b" not in done.stdout and "\x07" not in done.stdout
    assert "tombstone" in done.stdout
    as_json = chipwire(["tail", "--from-beginning", "--no-follow", "--json"], tmp_path)
    assert "\x1b" not in as_json.stdout and "\\u001b" in as_json.stdout


@pytest.mark.timeout(60)
def test_run_waits_for_an_unreachable_broker_one_line_per_attempt(tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text("sources: []\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIPWIRE_")} | {
        "CHIPWIRE_CONFIG": str(tmp_path / "none.toml"),
        "CHIPWIRE_DATA_DIR": str(tmp_path / "data"),
        "CHIPWIRE_SOURCES_FILE": str(tmp_path / "sources.yaml"),
        "CHIPWIRE_HTTP_PORT": "0",
        "CHIPWIRE_BUS": "kafka",
        "CHIPWIRE_KAFKA_BOOTSTRAP": "127.0.0.1:9",
        "CHIPWIRE_KAFKA_BOOTSTRAP_TIMEOUT_MS": "500",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "chipwire", "run"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    attempts = []
    for line in proc.stderr:
        if "attempt" in line:
            attempts.append(line)
            if len(attempts) == 2:
                break
    proc.terminate()
    _, rest = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Traceback" not in rest
    for n, line in enumerate(attempts, start=1):
        assert f"attempt {n}: cannot reach Kafka at 127.0.0.1:9" in line
        assert "retrying in" in line
