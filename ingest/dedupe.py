"""Near-duplicate detection: MinHash over word shingles, an LSH index for candidates.

A syndicated copy or a lightly edited rewrite joins the story of the first article
it resembles (story_id); a new text starts its own story.
"""

from __future__ import annotations

import re
import zlib

import numpy as np
from datasketch import MinHash, MinHashLSH

NUM_PERM = 64
SCHEME = "affine32"  # pinned: stored signatures must be compared under the same scheme
# crc32 (C) hashes a shingle twice as fast as datasketch's default sha1 and spreads
# shingles well enough for Jaccard estimates; stored signatures depend on it.
HASHFUNC = zlib.crc32
SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+", re.UNICODE)
# datasketch draws the permutations from a seeded generator for every MinHash it builds
# (about half its cost for a short page): draw them once, they are the same every time
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, scheme=SCHEME, hashfunc=HASHFUNC).permutations


def minhash(text: str) -> MinHash:
    words = _WORD.findall(text.lower())
    shingles = {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(max(1, len(words) - 4))}
    signature = MinHash(
        num_perm=NUM_PERM, scheme=SCHEME, hashfunc=HASHFUNC, permutations=_PERMUTATIONS
    )
    signature.update_batch([s.encode("utf-8") for s in shingles])
    return signature


class NearDuplicates:
    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._stories: dict[str, str] = {}
        self._signatures: dict[str, MinHash] = {}

    def add(self, article_id: str, story_id: str, signature: MinHash) -> None:
        if article_id in self._stories:
            return
        self._lsh.insert(article_id, signature)
        self._stories[article_id] = story_id
        self._signatures[article_id] = signature

    def story_of(self, signature: MinHash) -> str | None:
        """The story of the most similar known article above the threshold, if any."""
        best: tuple[float, str] | None = None
        for candidate in self._lsh.query(signature):
            similarity = signature.jaccard(self._signatures[candidate])
            if similarity >= self.threshold and (best is None or similarity > best[0]):
                best = (similarity, candidate)
        return self._stories[best[1]] if best else None

    def __len__(self) -> int:
        return len(self._stories)


def to_bytes(signature: MinHash) -> bytes:
    return np.asarray(signature.hashvalues, dtype=np.uint64).tobytes()


def from_bytes(data: bytes) -> MinHash:
    return MinHash(
        num_perm=NUM_PERM,
        hashvalues=np.frombuffer(data, dtype=np.uint64),
        scheme=SCHEME,
        hashfunc=HASHFUNC,
        permutations=_PERMUTATIONS,
    )
