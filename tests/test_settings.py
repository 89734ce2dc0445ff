"""Settings come from defaults, then chipwire.toml, then CHIPWIRE_* variables; every key is
documented in docs/CONFIG.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from chipwire.settings import Settings, settings_table

ROOT = Path(__file__).resolve().parents[1]


def test_file_then_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "chipwire.toml"
    config.write_text('poll_interval_s = 60\nbus = "kafka"\nalert_recipients = ["a@x.org"]\n')
    monkeypatch.setenv("CHIPWIRE_CONFIG", str(config))
    monkeypatch.setenv("CHIPWIRE_POLL_INTERVAL_S", "90")
    settings = Settings()
    assert settings.poll_interval_s == 90
    assert settings.bus == "kafka"
    assert settings.alert_recipients == ["a@x.org"]


def test_bad_values_are_rejected_with_the_key_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIPWIRE_BUS", "carrier-pigeon")
    with pytest.raises(ValidationError, match="bus"):
        Settings()


def test_unknown_keys_in_the_file_are_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "chipwire.toml"
    config.write_text("pol_interval = 60\n")
    monkeypatch.setenv("CHIPWIRE_CONFIG", str(config))
    with pytest.raises(ValidationError, match="pol_interval"):
        Settings()


def test_config_doc_lists_every_setting() -> None:
    doc = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    assert settings_table() in doc, "docs/CONFIG.md is stale: run `make docs`"
