"""What the reading made of a text's cues, for the tests of cue word classes."""

from __future__ import annotations

from enrich.tag import tag_text


def live_cues(text: str, title: str = "") -> list[tuple[str, str]]:
    """(surface, direction) of every cue read as a signal."""
    result = tag_text(text, title)
    return [
        (c.surface, c.direction)
        for s in result.explanation.sentences
        for c in s.cues
        if c.outcome == "signal"
    ]
