"""Near-duplicate signatures: built with permutations drawn once, they are the very
signatures datasketch draws afresh, so fingerprints stored by an earlier run still compare."""

from __future__ import annotations

from datasketch import MinHash
from hypothesis import given
from hypothesis import strategies as st

from ingest import dedupe


def _fresh(text: str) -> MinHash:
    words = dedupe._WORD.findall(text.lower())
    shingles = {
        " ".join(words[i : i + dedupe.SHINGLE_WORDS]) for i in range(max(1, len(words) - 4))
    }
    signature = MinHash(num_perm=dedupe.NUM_PERM, scheme=dedupe.SCHEME, hashfunc=dedupe.HASHFUNC)
    signature.update_batch([s.encode("utf-8") for s in shingles])
    return signature


@given(st.text(max_size=400))
def test_a_signature_is_the_one_datasketch_draws_afresh(text: str) -> None:
    assert list(dedupe.minhash(text).hashvalues) == list(_fresh(text).hashvalues)


@given(st.text(max_size=200), st.text(max_size=200))
def test_a_stored_signature_compares_as_it_did_before_it_was_stored(a: str, b: str) -> None:
    stored = dedupe.from_bytes(dedupe.to_bytes(dedupe.minhash(a)))
    assert stored.jaccard(dedupe.minhash(b)) == _fresh(a).jaccard(_fresh(b))
