from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chipwire.settings import Settings
from tests.loopback import LoopbackServer

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    yield srv
    srv.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for loopback tests: private addresses allowed, no politeness delay."""
    return Settings(
        data_dir=tmp_path / "data",
        sources_file=tmp_path / "sources.yaml",
        allow_private_addresses=True,
        host_min_interval_s=0,
        extract_workers=0,
        fetch_timeout_s=5,
    )
