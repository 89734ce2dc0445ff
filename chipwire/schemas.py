"""JSON Schema per topic, generated from the contract models (`python -m chipwire.schemas`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from chipwire.bus import ALERTS_TOPIC, ENRICHED_TOPIC, RAW_TOPIC
from chipwire.contract import AlertEvent, EnrichedArticle, RawArticle

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
TOPIC_MODELS: dict[str, type[BaseModel]] = {
    RAW_TOPIC: RawArticle,
    ENRICHED_TOPIC: EnrichedArticle,
    ALERTS_TOPIC: AlertEvent,
}


def schema_for(model: type[BaseModel], topic: str) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": topic, **schema}


def render(topic: str) -> str:
    return json.dumps(schema_for(TOPIC_MODELS[topic], topic), indent=2, sort_keys=True) + "\n"


def write_all(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for topic in TOPIC_MODELS:
        path = directory / f"{topic}.json"
        path.write_text(render(topic), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_all():
        print(written_path)
