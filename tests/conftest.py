from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from hypothesis import settings as hypothesis_settings

from chipwire.settings import Settings
from tests.kafka.kafka_fixtures import tansu
from tests.loopback import LoopbackServer
from tests.smtp import Inbox, free_port

# Defined here once: a session fixture imported into several modules is one fixture per
# module to pytest, each with its own broker, all alive until the session ends.
__all__ = ["tansu"]

SHARED = Path(__file__).resolve().parents[2] / "shared"

# Property tests check correctness; time budgets are bench/'s. A per-example deadline only
# measures how loaded the machine is (a 2-core CI box ran one example in 760 ms).
hypothesis_settings.register_profile("chipwire", deadline=None)
hypothesis_settings.load_profile("chipwire")


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


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd needs an explicit free port)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def pytest_configure(config: pytest.Config) -> None:
    # Tests build their settings explicitly: a developer's chipwire.toml must not leak in.
    os.environ["CHIPWIRE_CONFIG"] = str(Path(__file__).parent / "no-such-chipwire.toml")


def demo_settings(tmp_path: Path, base_url: str, smtp_port: int, **overrides: Any) -> Settings:
    """Settings that point the pipeline at a demo server and a test SMTP server."""
    from chipwire.demo import sources_yaml

    sources = tmp_path / "sources.yaml"
    sources.write_text(sources_yaml(base_url))
    return Settings(
        data_dir=tmp_path / "data",
        sources_file=sources,
        allow_private_addresses=True,
        host_min_interval_s=0,
        extract_workers=0,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        **overrides,
    )


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus run once through the whole pipeline into a data dir (index, alerts)."""
    from chipwire.demo.run import run_demo

    data_dir = tmp_path_factory.mktemp("demo-data")
    run_demo(data_dir, quiet=True)
    return data_dir


@pytest.fixture(scope="session")
def site(demo_dir: Path) -> Iterator[Any]:
    """The web app (page and API) over the demo's data dir, on 127.0.0.1 and a free port;
    an httpx client whose base_url is the site."""
    from chipwire.web import create_web_app
    from tests.test_search_api import serve_app

    yield from serve_app(create_web_app(Settings(data_dir=demo_dir, search="tantivy")))
