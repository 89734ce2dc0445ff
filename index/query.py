"""The analyst's query: Lucene syntax, parsed and validated once, rendered per backend.

`parse_query(text)` turns the string into a small normalised tree (or raises `QueryError`
with a message an analyst can act on). `to_lucene(tree)` renders the canonical string, which
parses back to the same tree; the backends render the tree into their own queries
(index/tantivy_query.py, index/elastic_query.py).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Literal

from luqum import tree as lq
from luqum.exceptions import IllegalCharacterError, ParseError
from luqum.parser import parser as _luqum_parser

MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 64

TEXT_FIELDS = ("title", "summary", "text")
KEYWORD_FIELDS = (
    "chips",
    "companies",
    "agencies",
    "countries",
    "topics",
    "stance",
    "jurisdiction",
    "source",
    "language",
    "story_id",
    "event_id",
    "id",
)
FIELD_ALIASES = {
    **{name: name for name in TEXT_FIELDS + KEYWORD_FIELDS},
    "body": "text",
    "chip": "chips",
    "company": "companies",
    "agency": "agencies",
    "country": "countries",
    "topic": "topics",
    "lang": "language",
    "story": "story_id",
    "event": "event_id",
}
STANCES = ("restrict", "ease", "mixed", "none")
_DATES = "use the since/until filters (--since 30d, --until 2026-02-01)"
FILTER_ONLY = {
    "published": _DATES,
    "published_at": _DATES,
    "date": _DATES,
    "fetched_at": _DATES,
    "relevance": "use the min_relevance filter",
}

_parse_lock = threading.Lock()  # ply's parser keeps state: one parse at a time
_LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"\'~*?:\\/&|<>=\s])')


class QueryError(ValueError):
    """A query the analyst has to fix; the message says how."""


@dataclass(frozen=True)
class MatchAll:
    pass


@dataclass(frozen=True)
class Term:
    field: str | None  # None: the default text fields (title, summary, text)
    text: str


@dataclass(frozen=True)
class Phrase:
    field: str | None
    text: str
    slop: int = 0


@dataclass(frozen=True)
class Wildcard:
    field: str | None
    pattern: str  # '*' any run of characters, '?' one character


@dataclass(frozen=True)
class Fuzzy:
    field: str | None
    text: str
    distance: int


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class Boost:
    child: Node
    factor: float


Node = MatchAll | Term | Phrase | Wildcard | Fuzzy | And | Or | Not | Boost
Leaf = Term | Phrase | Wildcard | Fuzzy


def parse_query(text: str) -> Node:
    """Parse, validate and normalise an analyst's query ("" or "*" match everything)."""
    text = text.strip()
    if not text or text in ("*", "*:*"):
        return MatchAll()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is too long (over {MAX_QUERY_CHARS} characters)")
    _check_balance(text)
    try:
        with _parse_lock:
            parsed = _luqum_parser.parse(text)
    except IllegalCharacterError as exc:
        raise QueryError(f"unexpected character in the query: {exc}") from exc
    except ParseError as exc:
        raise QueryError(_syntax_message(exc)) from exc
    except (ArithmeticError, ValueError) as exc:  # e.g. a malformed number after ^ or ~
        raise QueryError(f"cannot read a number in the query: {exc}") from exc
    node = _normalise(_convert(parsed, None))
    if _count_leaves(node) > MAX_CLAUSES:
        raise QueryError(f"the query has more than {MAX_CLAUSES} terms; split it up")
    return node


def _check_balance(text: str) -> None:
    unescaped = re.sub(r"\\.", "", text)
    if unescaped.count('"') % 2:
        raise QueryError('a quote is not closed: every " needs a partner')
    depth = 0
    in_phrase = False
    for char in unescaped:
        if char == '"':
            in_phrase = not in_phrase
        elif not in_phrase and char == "(":
            depth += 1
        elif not in_phrase and char == ")":
            depth -= 1
            if depth < 0:
                raise QueryError("a ')' has no matching '('")
    if depth:
        raise QueryError("a '(' is not closed")


def _syntax_message(exc: Exception) -> str:
    detail = str(exc)
    if "end of expression" in detail:
        return "the query ends too early: is an AND, OR, NOT or field: missing its term?"
    found = re.search(r"unexpected\s+'(.*)' at position (\d+)", detail)
    if found:
        word, position = found.group(1), int(found.group(2)) + 1
        return f"unexpected '{word}' at character {position}: check AND/OR/NOT and parentheses"
    return "cannot read the query: check AND/OR/NOT, quotes and parentheses"


def _convert(item: lq.Item, field: str | None) -> Node:
    if isinstance(item, lq.SearchField):
        return _convert_field(item, field)
    if isinstance(item, lq.Group | lq.FieldGroup):
        return _convert(item.expr, field)
    if isinstance(item, lq.AndOperation):
        return And(tuple(_convert(child, field) for child in item.children))
    if isinstance(item, lq.OrOperation):
        return Or(tuple(_convert(child, field) for child in item.children))
    if isinstance(item, lq.UnknownOperation):  # juxtaposition: every plain term is required
        return And(tuple(_convert(child, field) for child in item.children))
    if isinstance(item, lq.Not | lq.Prohibit):
        return Not(_convert(item.a, field))
    if isinstance(item, lq.Plus):
        return _convert(item.a, field)
    if isinstance(item, lq.Boost):
        return Boost(_convert(item.expr, field), _boost_factor(item.force))
    if isinstance(item, lq.Fuzzy):
        return _fuzzy(item, field)
    if isinstance(item, lq.Proximity):
        if not isinstance(item.term, lq.Phrase):
            raise QueryError("'~N' after a word means fuzzy; use it on one word or a phrase")
        return Phrase(field, _phrase_text(item.term.value), _int(item.degree, "proximity"))
    if isinstance(item, lq.Phrase):
        return Phrase(field, _phrase_text(item.value))
    if isinstance(item, lq.Word):
        return _word(item.value, field)
    if isinstance(item, lq.Regex):
        raise QueryError("regular expressions (/…/) are not supported; use wildcards like export*")
    if isinstance(item, lq.Range):
        raise QueryError(
            "ranges ([a TO b]) are not supported in the query; use the date and relevance filters"
        )
    raise QueryError(f"unsupported query syntax: {item}")


def _convert_field(item: lq.SearchField, outer: str | None) -> Node:
    if outer is not None:
        raise QueryError(f"field '{item.name}:' cannot be used inside '{outer}:'")
    name = item.name.lower()
    if name == "*" and str(item.expr) == "*":
        return MatchAll()
    field = FIELD_ALIASES.get(name)
    if name in FILTER_ONLY:
        raise QueryError(f"'{item.name}:' is a filter, not a query field: {FILTER_ONLY[name]}")
    if field is None:
        known = ", ".join(sorted(set(FIELD_ALIASES) - {"story_id", "event_id"}))
        raise QueryError(f"unknown field '{item.name}:'; known fields: {known}")
    expr = item.expr
    if isinstance(expr, lq.SearchField) and field in KEYWORD_FIELDS:
        # agency:CN:GAC — taxonomy ids carry colons; Lucene reads them as nested fields
        return _word(_joined_id(expr), field)
    return _convert(expr, field)


def _joined_id(item: lq.Item) -> str:
    if isinstance(item, lq.SearchField):
        return f"{item.name}\\:{_joined_id(item.expr)}"
    if isinstance(item, lq.Word):
        return str(item.value)
    raise QueryError(f"cannot read the id '{item}'; quote it, e.g. agency:\"CN:GAC\"")


def _word(raw: str, field: str | None) -> Node:
    if raw in ("&&", "||") or raw.startswith("!"):
        raise QueryError("use AND, OR and NOT (in capitals) instead of &&, || and !")
    wild = re.sub(r"\\.", "", raw)
    if "*" in wild or "?" in wild:
        if "\\*" in raw or "\\?" in raw:
            raise QueryError("a wildcard term cannot also contain an escaped * or ?")
        pattern = _unescape(raw)
        if pattern[0] in "*?":
            raise QueryError(f"'{raw}': a term cannot start with a wildcard")
        return Wildcard(field, pattern)
    return Term(field, _unescape(raw))


def _fuzzy(item: lq.Fuzzy, field: str | None) -> Node:
    word = item.term
    if not isinstance(word, lq.Word):
        raise QueryError("fuzzy '~' applies to one word")
    degree = float(item.degree) if item.degree is not None else 0.5
    if degree not in (0, 1, 2) and not 0 < degree < 1:  # a bare '~' reads as 0.5
        raise QueryError("fuzzy distance must be 1 or 2, e.g. restriction~1")
    distance = 2 if 0 < degree < 1 else int(degree)
    inner = _word(word.value, field)
    if not isinstance(inner, Term):
        raise QueryError("fuzzy '~' cannot be combined with wildcards")
    return Fuzzy(field, inner.text, distance) if distance else inner


def _phrase_text(quoted: str) -> str:
    return _unescape(quoted[1:-1])


def _unescape(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw)


def _int(value: Any, what: str) -> int:
    number = float(value)
    if number != int(number) or number < 0 or number > 100:
        raise QueryError(f"{what} must be a whole number between 0 and 100")
    return int(number)


def _boost_factor(value: Any) -> float:
    factor = float(value) if value is not None else 1.0
    if not 0 < factor <= 100:
        raise QueryError("a boost (^N) must be between 0 and 100")
    return factor


def _normalise(node: Node) -> Node:
    """Flatten nested AND/OR, drop double negation, lowercase keyword ids."""
    if isinstance(node, And | Or):
        kind = type(node)
        flat: list[Node] = []
        for child in (_normalise(c) for c in node.children):
            flat.extend(child.children if isinstance(child, kind) else (child,))
        if isinstance(node, And) and len(flat) > 1:
            flat = [c for c in flat if not isinstance(c, MatchAll)] or [MatchAll()]
        return flat[0] if len(flat) == 1 else kind(tuple(flat))
    if isinstance(node, Not):
        child = _normalise(node.child)
        return child.child if isinstance(child, Not) else Not(child)
    if isinstance(node, Boost):
        return Boost(_normalise(node.child), node.factor)
    return _normalise_leaf(node)


def _normalise_leaf(node: MatchAll | Leaf) -> Node:
    if isinstance(node, MatchAll) or node.field not in KEYWORD_FIELDS:
        if isinstance(node, Phrase) and node.field is None and not node.text.strip():
            raise QueryError('an empty phrase ("") matches nothing; remove it')
        return node
    if isinstance(node, Phrase):  # an id in quotes is still one exact id
        node = Term(node.field, node.text)
    if isinstance(node, Term):
        value = node.text.strip().lower()
        if node.field == "stance" and value not in STANCES:
            raise QueryError(f"stance must be one of {', '.join(STANCES)}")
        return Term(node.field, value)
    if isinstance(node, Wildcard):
        return Wildcard(node.field, node.pattern.lower())
    if isinstance(node, Fuzzy):
        return Fuzzy(node.field, node.text.lower(), node.distance)
    return node


def _count_leaves(node: Node) -> int:
    if isinstance(node, And | Or):
        return sum(_count_leaves(child) for child in node.children)
    if isinstance(node, Not | Boost):
        return _count_leaves(node.child)
    return 1


def to_lucene(node: Node, field_names: dict[str, str] | None = None) -> str:
    """The canonical Lucene string of a tree; `field_names` renames fields (for ES)."""
    names = field_names or {}
    return _render(node, names, top=True)


def _render(node: Node, names: dict[str, str], top: bool = False) -> str:
    if isinstance(node, MatchAll):
        return "*:*"
    if isinstance(node, And | Or):
        word = " AND " if isinstance(node, And) else " OR "
        inner = word.join(_render(child, names) for child in node.children)
        return inner if top else f"({inner})"
    if isinstance(node, Not):
        return f"NOT {_render(node.child, names)}"
    if isinstance(node, Boost):
        child = _render(node.child, names)
        if isinstance(node.child, Not):
            child = f"({child})"
        return f"{child}^{_number(node.factor)}"
    prefix = f"{names.get(node.field, node.field)}:" if node.field else ""
    return prefix + _render_leaf(node)


def _render_leaf(node: Leaf) -> str:
    if isinstance(node, Term):
        return escape(node.text)
    if isinstance(node, Phrase):
        quoted = '"' + node.text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{quoted}~{node.slop}" if node.slop else quoted
    if isinstance(node, Wildcard):
        return "".join(c if c in "*?" else escape(c) for c in node.pattern)
    return f"{escape(node.text)}~{node.distance}"


def escape(text: str) -> str:
    """Escape Lucene's special characters so `text` reads as one literal term."""
    escaped = _LUCENE_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"^(AND|OR|NOT|TO)$", r"\\\1", escaped)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def fields_used(node: Node) -> set[str | None]:
    if isinstance(node, And | Or):
        return set().union(*(fields_used(child) for child in node.children))
    if isinstance(node, Not | Boost):
        return fields_used(node.child)
    if isinstance(node, MatchAll):
        return set()
    return {node.field}


FieldKind = Literal["text", "keyword"]


def field_kind(field: str | None) -> FieldKind:
    return "keyword" if field in KEYWORD_FIELDS else "text"
