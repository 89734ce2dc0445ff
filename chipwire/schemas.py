"""JSON Schema per topic, generated from the contract models (`python -m chipwire.schemas`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from chipwire.bus import ALERTS_TOPIC, ENRICHED_TOPIC, RAW_TOPIC
from chipwire.contract import AlertEvent, EnrichedArticle, RawArticle

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
RELEASED_DIR = SCHEMA_DIR / "released"  # the schemas of the last release, compared in tests
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


def incompatibilities(released: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """How `current` breaks consumers built against `released` (empty when it is additive
    only): a field removed or retyped, a new required field, an enum value removed."""
    problems: list[str] = []
    _compare(released, current, released, current, "$", problems)
    return problems


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: dict[str, Any] = root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
        return resolved
    return node


def _compare(
    old: dict[str, Any],
    new: dict[str, Any],
    old_root: dict[str, Any],
    new_root: dict[str, Any],
    where: str,
    problems: list[str],
    depth: int = 0,
) -> None:
    if depth > 20:  # recursive definitions: deep enough
        return
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    if old.get("type") != new.get("type"):
        problems.append(f"{where}: type {old.get('type')!r} became {new.get('type')!r}")
    if "enum" in old or "const" in old:
        before = set(map(str, old.get("enum", [old.get("const")])))
        after = set(map(str, new.get("enum", [new.get("const")] if "const" in new else [])))
        if missing := before - after:
            problems.append(f"{where}: values removed {sorted(missing)}")
    for combinator in ("anyOf", "oneOf"):
        if combinator in old:
            if len(new.get(combinator, [])) < len(old[combinator]):
                problems.append(f"{where}: {combinator} lost alternatives")
            for i, (o, n) in enumerate(zip(old[combinator], new.get(combinator, []), strict=False)):
                _compare(o, n, old_root, new_root, f"{where}|{i}", problems, depth + 1)
    if "items" in old and isinstance(old["items"], dict):
        items = new.get("items")
        if not isinstance(items, dict):
            problems.append(f"{where}: items changed")
        else:
            _compare(old["items"], items, old_root, new_root, f"{where}[]", problems, depth + 1)
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    for name, spec in old_props.items():
        if name not in new_props:
            problems.append(f"{where}.{name}: removed")
        else:
            _compare(
                spec, new_props[name], old_root, new_root, f"{where}.{name}", problems, depth + 1
            )
    if added := set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"{where}: new required fields {sorted(added)}")


if __name__ == "__main__":
    for written_path in write_all():
        print(written_path)
