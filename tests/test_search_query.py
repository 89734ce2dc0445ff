"""The analyst's query language: parsing, friendly errors, and parse <-> render round trips."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index import query as q
from index.backend import SearchRequest
from index.query import QueryError, parse_query, to_lucene
from index.tantivy_backend import TantivyBackend
from tests.test_search_samples import ALL


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("H200 AND customs", q.And((q.Term(None, "H200"), q.Term(None, "customs")))),
        ("H200 customs", q.And((q.Term(None, "H200"), q.Term(None, "customs")))),
        ("chip:H200", q.Term("chips", "h200")),
        ("agency:CN:GAC", q.Term("agencies", "cn:gac")),
        ('agency:"CN:GAC"', q.Term("agencies", "cn:gac")),
        ("stance:restrict", q.Term("stance", "restrict")),
        ("title:(H200 OR H20)", q.Or((q.Term("title", "H200"), q.Term("title", "H20")))),
        ('"export controls"~3', q.Phrase(None, "export controls", 3)),
        ("export*", q.Wildcard(None, "export*")),
        ("licence~1", q.Fuzzy(None, "licence", 1)),
        ("licence~", q.Fuzzy(None, "licence", 2)),
        ("a -b", q.And((q.Term(None, "a"), q.Not(q.Term(None, "b"))))),
        ("NOT NOT a", q.Term(None, "a")),
        ("a OR b AND c", q.Or((q.Term(None, "a"), q.And((q.Term(None, "b"), q.Term(None, "c")))))),
        ("(a AND b) AND c", q.And((q.Term(None, "a"), q.Term(None, "b"), q.Term(None, "c")))),
        ("", q.MatchAll()),
        ("*", q.MatchAll()),
        ("title:customs^2", q.Boost(q.Term("title", "customs"), 2.0)),
    ],
)
def test_parses_lucene_syntax_into_a_normalised_tree(text: str, expected: q.Node) -> None:
    assert parse_query(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"H200 customs', "quote is not closed"),
        ("(H200 OR H20", "'(' is not closed"),
        ("H200)", "no matching '('"),
        ("H200 AND", "ends too early"),
        ("AND H200", "unexpected 'AND' at character 1"),
        ("colour:red", "unknown field 'colour:'"),
        ("stance:angry", "stance must be one of"),
        ("/h[0-9]+/", "regular expressions"),
        ("published:[2025 TO 2026]", "since/until filters"),
        ("relevance:[0.5 TO 1]", "min_relevance filter"),
        ("title:[a TO b]", "ranges"),
        ("*port", "cannot start with a wildcard"),
        ("a && b", "use AND, OR and NOT"),
        ("licence~5", "fuzzy distance"),
        ("x" * 1001, "too long"),
        (" OR ".join(f"w{i}" for i in range(65)), "more than 64 terms"),
    ],
)
def test_bad_queries_get_a_message_an_analyst_can_act_on(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_query(text)


def test_renders_canonical_lucene_with_backend_field_names() -> None:
    tree = parse_query("chip:H200 AND NOT customs OR agency:CN:GAC")
    assert to_lucene(tree) == "(chips:h200 AND NOT customs) OR agencies:cn\\:gac"
    renamed = to_lucene(tree, {"chips": "tags.chips.id.lc", "agencies": "tags.agencies.id.lc"})
    assert renamed == "(tags.chips.id.lc:h200 AND NOT customs) OR tags.agencies.id.lc:cn\\:gac"


# property tests: any normalised tree renders to a string that parses back to itself

WORD_CHARS = st.characters(
    codec="utf-8",
    categories=("Lu", "Ll", "Nd", "Pd", "Po", "Ps", "Pe", "Sm", "Zs"),
    exclude_characters="\x00",
)
words = st.text(WORD_CHARS, min_size=1, max_size=12).filter(lambda s: s.strip() == s and s)
plain = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
text_fields = st.sampled_from([None, *q.TEXT_FIELDS])
id_fields = st.sampled_from([f for f in q.KEYWORD_FIELDS if f != "stance"])


def keyword_value(value: str) -> str:
    return value.strip().lower()


leaves = st.one_of(
    st.builds(q.Term, text_fields, words),
    st.builds(q.Term, id_fields, words.map(keyword_value).filter(lambda s: s and s == s.lower())),
    st.builds(q.Term, st.just("stance"), st.sampled_from(q.STANCES)),
    st.builds(
        q.Phrase,
        text_fields,
        st.text(WORD_CHARS, min_size=1, max_size=20).filter(str.strip),
        st.integers(0, 5),
    ),
    st.builds(
        q.Wildcard,
        st.one_of(text_fields, id_fields),
        st.tuples(plain, st.sampled_from(["*", "?", "*x", "?y*"])).map("".join),
    ),
    st.builds(q.Fuzzy, st.one_of(text_fields, id_fields), plain, st.integers(1, 2)),
)


def extend(children: st.SearchStrategy[q.Node]) -> st.SearchStrategy[q.Node]:
    groups = st.lists(children, min_size=2, max_size=4)
    return st.one_of(
        groups.map(lambda c: q.And(tuple(c))),
        groups.map(lambda c: q.Or(tuple(c))),
        children.filter(lambda c: not isinstance(c, q.Not)).map(q.Not),
        st.builds(
            q.Boost,
            children.filter(lambda c: not isinstance(c, q.Boost)),
            st.sampled_from([0.5, 1.5, 2.0, 3.0]),
        ),
    )


trees = st.recursive(leaves, extend, max_leaves=8).map(q._normalise)


@given(trees)
@settings(max_examples=250, suppress_health_check=[HealthCheck.too_slow])
def test_render_then_parse_gives_the_same_tree(tree: q.Node) -> None:
    assert parse_query(to_lucene(tree)) == tree


SYNTAX = list("ab :\"()*?~^-+!\\/[]{}ANDORNT'&|<>=")


@given(st.one_of(st.text(max_size=80), st.text(st.sampled_from(SYNTAX), max_size=30)))
@settings(max_examples=800)
def test_any_input_parses_or_fails_with_a_query_error(text: str) -> None:
    try:
        tree = parse_query(text)
    except QueryError:
        return
    assert parse_query(to_lucene(tree)) == tree  # the normalised form is a fixed point


@pytest.fixture(scope="module")
def sample_index() -> Iterator[TantivyBackend]:
    with tempfile.TemporaryDirectory() as tmp:
        backend = TantivyBackend(Path(tmp))
        backend.upsert(list(ALL))
        backend.commit()
        yield backend
        backend.close()


@given(trees)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_valid_tree_runs_on_the_embedded_index(
    sample_index: TantivyBackend, tree: q.Node
) -> None:
    response = sample_index.search(SearchRequest(query=to_lucene(tree), limit=5))
    assert response.total >= len(response.hits)
