"""Same-length folding of text before matching: typographic marks to ASCII, full-width
letters and digits to narrow ones, lower case, and traditional Chinese and Japanese shinjitai
to simplified characters (taxonomy/hant.yaml). One character for one, so offsets found in
the folded text hold for the text as written.
"""

from __future__ import annotations

import re
from functools import cache

from enrich.yaml12 import TAXONOMY_DIR, load_file

_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A text without any of these folds to a text without a wide character: the Cherokee
# capitals are the only narrow characters whose lower case is wide (a test checks)
_MAY_FOLD_WIDE = re.compile("[\u13a0-\u13ef\u2e80-\U0010ffff]")
_FOLD_PAIRS = (("’", "'"), ("‘", "'"), ("\u00a0", " "), ("‐", "-"), ("‑", "-"), ("–", "-"))
# Full-width letters and digits (Ｈ２０ in CJK text) as ASCII, one character for one
# (NFKC would also change punctuation, and the readers of CJK text rely on "，" and "（")
_FULL_WIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_NARROW = {
    c: c - 0xFEE0
    for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for c in range(r[0], r[1] + 1)
}

# A model code whose digits are written as Chinese numerals with the circle zero, as the
# Taiwanese press writes numbers ("ＧＢ三○○" is GB300): the numerals right after a Latin
# letter or digit read as digits, one character for one
_CODE_NUMERALS = re.compile(
    "(?<=[A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a])"
    "[○〇一二三四五六七八九]*[○〇][○〇一二三四五六七八九]*"
)
_NUMERAL_DIGITS = str.maketrans("○〇一二三四五六七八九", "00123456789")


def _code_digits(text: str) -> str:
    if "○" not in text and "〇" not in text:
        return text
    return _CODE_NUMERALS.sub(lambda m: m.group().translate(_NUMERAL_DIGITS), text)


def fold(text: str) -> str:
    """Same-length normalisation: typographic quotes/dashes to ASCII, lower case, and
    traditional Chinese characters and Japanese shinjitai to simplified ones
    (taxonomy/hant.yaml)."""
    return fold_and_width(text)[0]


def fold_and_width(text: str) -> tuple[str, bool]:
    """fold(text), and False when neither the text nor its folded form holds a wide
    character (so no full-width form either): Matcher.find then need not look for one."""
    if text.isascii():
        return text.lower(), False
    for typographic, plain in _FOLD_PAIRS:
        if typographic in text:
            text = text.replace(typographic, plain)
    # full-width forms and CJK characters are all wide: one scan tells a text (most of
    # them, typographic quotes and accents aside) that holds neither
    wide = _MAY_FOLD_WIDE.search(text) is not None
    if wide and _FULL_WIDTH.search(text) is not None:
        text = text.translate(_NARROW)
    text = _code_digits(text)
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    # lower-casing makes no CJK character of another one
    if not wide or _CJK.search(lowered) is None:
        return lowered, wide  # translating is slow; most texts hold no Chinese at all
    return lowered.translate(_simplified()), wide


def narrowed(text: str) -> str:
    """Full-width letters and digits and Chinese-numeral model codes as ASCII, case kept."""
    if _FULL_WIDTH.search(text) is not None:
        text = text.translate(_NARROW)
    return _code_digits(text)


@cache
def _simplified() -> dict[int, int]:
    data = load_file(TAXONOMY_DIR / "hant.yaml")
    # Japanese shinjitai fold the same way: 対 as 對 does, to 对
    traditional = "".join(data["traditional"]) + "".join(data["shinjitai"])
    simplified = "".join(data["simplified"]) + "".join(data["shinjitai_simplified"])
    assert len(traditional) == len(simplified), "hant.yaml: rows of unequal length"
    return str.maketrans(traditional, simplified)
