"""Chinese text for the embedded index: character bigrams, the way Elasticsearch's `cjk`
analyzer reads it, so `英伟达 H200 进口` finds an article that says 英伟达H200芯片进口.

`zh_tokens(text)`: the text is NFKC-normalised (full-width Ｈ２００ -> H200) and folded as
the tagger folds it (`enrich.match.fold`: lower case, traditional characters to simplified
ones one for one from enrich/taxonomy/hant.yaml: 英偉達 -> 英伟达), then every run of Han
characters becomes its overlapping bigrams (a lone character stays a unigram) and every
other run of letters or digits one word.
The same function runs at index time and on the analyst's query terms; a term of several
tokens is searched as a phrase, so 英伟达 means the bigrams 英伟 伟达 next to each other.
"""

from __future__ import annotations

import re
import unicodedata

from chipwire.contract import RawArticle
from enrich.folding import fold

# Han ideographs: CJK unified (BMP and extension A), compatibility ideographs
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"([{_HAN}]+)|([^\W{_HAN}_]+)")
_HAN_CHAR = re.compile(rf"[{_HAN}]")
MAX_TOKEN_CHARS = 40
CHINESE_SHARE = 0.2  # an article without a language is Chinese above this share of Han


def zh_tokens(text: str) -> list[str]:
    """Bigrams of Han runs and lower-cased words of everything else, in text order."""
    text = fold(unicodedata.normalize("NFKC", text))
    tokens: list[str] = []
    for han, word in _RUNS.findall(text):
        if han:
            if len(han) == 1:
                tokens.append(han)
            else:
                tokens.extend(han[i : i + 2] for i in range(len(han) - 1))
        elif len(word) <= MAX_TOKEN_CHARS:
            tokens.append(word)
    return tokens


def has_han(text: str) -> bool:
    return _HAN_CHAR.search(text) is not None


def is_chinese(article: RawArticle) -> bool:
    """The article's detected language says Chinese; without one, its text does."""
    if article.language:
        return article.language.lower().startswith("zh")
    sample = (article.title + article.text)[:2000]
    han = len(_HAN_CHAR.findall(sample))
    if han == 0:  # most articles: no need to count letters one by one in Python
        return False
    letters = sum(1 for c in sample if c.isalpha())
    return han / letters >= CHINESE_SHARE
