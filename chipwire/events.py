"""Contract models <-> bus messages: JSON body, key = id, CloudEvents binary-mode headers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from chipwire.bus import Bus, Message
from chipwire.contract import AlertEvent, EnrichedArticle, RawArticle
from chipwire.errors import Discard, Quarantine

M = TypeVar("M", bound=BaseModel)

CE_SOURCE = "urn:chipwire"
CE_TYPES: dict[type[BaseModel], str] = {
    RawArticle: "io.chipwire.article.raw.v1",
    EnrichedArticle: "io.chipwire.article.enriched.v1",
    AlertEvent: "io.chipwire.alert.v1",
}


def body(model: BaseModel) -> bytes:
    """A contract model's message body: straight to UTF-8 bytes (pydantic-core's
    serializer), no str round trip."""
    return model.__pydantic_serializer__.to_json(model)


def encode(
    model: BaseModel, stage: str, value: bytes | None = None
) -> tuple[str, bytes, dict[str, str]]:
    """The (key, value, headers) of one contract model; `value`: its body, when the caller
    has it already."""
    key = str(model.id)  # type: ignore[attr-defined]
    headers = {
        "ce_specversion": "1.0",
        "ce_id": str(uuid.uuid4()),
        "ce_type": CE_TYPES[type(model)],
        "ce_source": f"{CE_SOURCE}/{stage}",
        "ce_time": datetime.now(UTC).isoformat(),
        "content-type": "application/json",
    }
    return key, body(model) if value is None else value, headers


def publish(bus: Bus, topic: str, model: BaseModel, stage: str) -> None:
    key, value, headers = encode(model, stage)
    bus.publish(topic, key, value, headers)


def decode(message: Message, model: type[M]) -> M:
    """Parse a message body; a body that breaks the contract can never succeed.

    A tombstone (no value: compaction's delete marker for a key) is skipped, not
    dead-lettered; fields this version does not know are ignored."""
    if not message.value:
        raise Discard("tombstone", f"{message.topic}@{message.offset} key={message.key}")
    try:
        return model.model_validate_json(message.value)
    except (ValidationError, ValueError) as exc:
        raise Quarantine("invalid-message", f"{message.topic}@{message.offset}: {exc}") from exc
