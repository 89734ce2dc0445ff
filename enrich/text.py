"""Sentences with offsets, where the headline and lead are, and where the article ends.

An article's prominence decides how much each sentence weighs: the headline most, then
the lead, then the body; a trailing block of links to other stories ("Related
articles", "Read more") is cut off so it never drives tags or stance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? (then closing quotes, space, a capital or digit) or at CJK
# end punctuation (a Korean sentence starts with a Hangul syllable, a Spanish one may
# open with ¿ or ¡); the match starts on the punctuation mark, which stays in the sentence.
# Written as one character class first, then what must follow which mark: the regex
# engine then skips to the next mark in C instead of trying two branches at every
# character (same matches as `[.!?]…(?=…)|[。！？；]`).
_BOUNDARY = re.compile(
    r"[.!?。！？；](?:(?<=[.!?])[\"”’')\]]*\s+(?=[\"“‘'(\[¿¡«]?[A-Z0-9À-ÖØ-Þ\uac00-\ud7af])"
    r"|(?<=[。！？；])"
    # Korean pages often drop the space after a full stop: "보도했습니다.보도에 따르면"
    r"|(?<=[\uac00-\ud7af]\.)(?=[\"“‘'(\[]?[A-Z0-9\uac00-\ud7af]))"
)
_ENDING = re.compile("[.!?。！？；]")
_ABBREVIATIONS = frozenset(
    {
        "u.s",
        "u.k",
        "e.u",
        "u.n",
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "gen",
        "sen",
        "rep",
        "gov",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "inc",
        "corp",
        "co",
        "ltd",
        "st",
        "vs",
        "no",
        "e.g",
        "i.e",
        "approx",
        "est",
        "dept",
        "p.m",
        "a.m",
    }
)


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which made
# building an article's sentences a third of splitting it; nothing writes to one.
@dataclass(slots=True)
class Sentence:
    index: int
    start: int
    end: int
    text: str
    headline: bool
    paragraph: int
    caption: bool = False  # a photo caption line: neither headline nor lead


@dataclass(frozen=True, slots=True)
class CaptionMarks:
    """How a photo caption line starts or ends (▲ ..., ...（圖／路透）, 资料照片)."""

    starts: tuple[str, ...] = ()
    ends: tuple[str, ...] = ()

    def caption(self, line: str) -> bool:
        stripped = line.strip()
        return stripped.startswith(self.starts) or stripped.rstrip("）)］] ").endswith(self.ends)


def split_sentences(
    text: str, body_start: int = 0, captions: CaptionMarks = CaptionMarks()
) -> list[Sentence]:
    """Sentences of `text` in order; lines before `body_start` are the headline, except
    photo captions."""
    sentences: list[Sentence] = []
    paragraph = 0
    position = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped:
            offset = position + line.index(stripped[0])
            caption = captions.caption(stripped)
            for start, end in _split_line(stripped):
                sentences.append(
                    Sentence(
                        len(sentences),
                        offset + start,
                        offset + end,
                        stripped[start:end],
                        offset < body_start and not caption,
                        paragraph,
                        caption,
                    )
                )
            paragraph += 1
        position += len(line)
    return sentences


def _split_line(line: str) -> list[tuple[int, int]]:
    if _ENDING.search(line) is None:
        return [(0, len(line.rstrip()))]
    spans: list[tuple[int, int]] = []
    start = 0
    for boundary in _BOUNDARY.finditer(line):
        cut = boundary.start() + 1
        # only a full stop can close an abbreviation ("U.S.", "Mr.")
        if line[cut - 1] == "." and _after_abbreviation(line[start:cut]):
            continue
        piece = line[start:cut].rstrip()
        if piece:
            spans.append((start, start + len(piece)))
        start = boundary.end()
    if line[start:].strip():
        spans.append((start, len(line.rstrip())))
    return spans


def _after_abbreviation(piece: str) -> bool:
    tail = piece.rstrip("\"”’')] ")
    if not tail.endswith("."):
        return False
    token = tail[tail.rfind(" ") + 1 : -1].lstrip("(\"“'").lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def cut_related_block(text: str, headers: frozenset[str]) -> int:
    """Offset where a trailing block of links to other stories starts (len(text) if none).

    Only a header line in the second half of the text counts, so an article that merely
    uses the word "Related" early is never cut.
    """
    position = 0
    half = len(text) // 2
    for line in text.splitlines(keepends=True):
        if position >= half:
            label = line.strip().strip("»>#*-–— ").lower()
            head = label.split(":", 1)[0].split("：", 1)[0].split("|", 1)[0].strip()
            if label.rstrip(":：") in headers or head in headers:
                return position
        position += len(line)
    return len(text)


def headline_end(text: str, title_given: bool, captions: CaptionMarks = CaptionMarks()) -> int:
    """End offset of the headline lines at the top of `text`.

    With a separate title the headline is the first line (the title we prepended).
    Without one, short unpunctuated lines at the very top (section label, headline,
    a repeated headline) are treated as headline; a text that opens with a paragraph
    has none. A photo caption among them is passed over: it is neither.
    """
    position = 0
    end = 0
    for count, line in enumerate(text.splitlines(keepends=True)):
        stripped = line.strip()
        if title_given:
            return len(line)
        if count >= 6:
            break
        if stripped and not captions.caption(stripped):
            if not _looks_like_headline(stripped):
                break
            end = position + len(line)
        position += len(line)
    return end


def _looks_like_headline(line: str) -> bool:
    words = line.split()
    return len(words) <= 25 and len(line) <= 200 and not line.endswith((".", "。", ":"))
