"""Render a parsed query and the request's filters as tantivy Query objects.

We build the query tree ourselves instead of handing the string to tantivy's parser, whose
Lucene dialect differs: `A AND NOT B` matches nothing there, wildcards become exact terms and
`~N` is not fuzzy. Terms are analyzed with the same analyzer the text fields were indexed with.
"""

from __future__ import annotations

from datetime import UTC, datetime

import tantivy

from index import query as q
from index.backend import TAG_FIELDS, SearchRequest
from index.cjk import zh_tokens
from index.tantivy_schema import MATCH_FIELDS, TEXT_FIELDS, ZH_FIELDS

DEFAULT_BOOSTS = {"title": 3.0, "summary": 2.0, "text": 1.0}
Occur = tantivy.Occur


class TantivyQueryBuilder:
    def __init__(self, schema: tantivy.Schema, analyzer: tantivy.TextAnalyzer) -> None:
        self.schema = schema
        self.analyzer = analyzer

    def build(self, req: SearchRequest, node: q.Node) -> tantivy.Query:
        """The analyst's query (scored) AND the filters (unscored)."""
        main = self.render(node) or tantivy.Query.empty_query()
        filters = self.filters(req)
        if not filters:
            return main
        clauses = [(Occur.Must, main)]
        clauses += [(Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]
        return tantivy.Query.boolean_query(clauses)

    def render(self, node: q.Node) -> tantivy.Query | None:
        """None means the node analyzed to nothing (e.g. only punctuation): it is dropped."""
        if isinstance(node, q.MatchAll):
            return tantivy.Query.all_query()
        if isinstance(node, q.And):
            return self._and(node)
        if isinstance(node, q.Or):
            parts = [p for p in (self.render(c) for c in node.children) if p is not None]
            if not parts:
                return None
            return tantivy.Query.boolean_query([(Occur.Should, p) for p in parts])
        if isinstance(node, q.Not):
            inner = self.render(node.child)
            if inner is None:
                return None
            all_docs = tantivy.Query.all_query()
            return tantivy.Query.boolean_query([(Occur.Must, all_docs), (Occur.MustNot, inner)])
        if isinstance(node, q.Boost):
            inner = self.render(node.child)
            return None if inner is None else tantivy.Query.boost_query(inner, node.factor)
        return self._leaf(node)

    def _and(self, node: q.And) -> tantivy.Query | None:
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for child in node.children:
            negated = isinstance(child, q.Not)
            part = self.render(child.child if isinstance(child, q.Not) else child)
            if part is not None:
                clauses.append((Occur.MustNot if negated else Occur.Must, part))
        if not clauses:
            return None
        if all(occur == Occur.MustNot for occur, _ in clauses):
            clauses.insert(0, (Occur.Must, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses)

    def _leaf(self, node: q.Leaf) -> tantivy.Query | None:
        """A text leaf is matched on the English field and on its Chinese twin."""
        if node.field in MATCH_FIELDS:
            return self._leaf_on(node, MATCH_FIELDS[node.field], keyword=True)
        fields = TEXT_FIELDS if node.field is None else (node.field,)
        parts: list[tantivy.Query] = []
        for field in fields:
            for part in (self._leaf_on(node, field, keyword=False), self._zh_leaf(node, field)):
                if part is not None:
                    boost = DEFAULT_BOOSTS[field] if node.field is None else 1.0
                    parts.append(tantivy.Query.boost_query(part, boost))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else tantivy.Query.disjunction_max_query(parts)

    def _zh_leaf(self, node: q.Leaf, field: str) -> tantivy.Query | None:
        """Bigram terms (index/cjk.py) on the Chinese twin: several make a phrase.
        Wildcards and fuzzy terms have no meaning on bigrams: English fields only."""
        twin = ZH_FIELDS.get(field)
        if twin is None or isinstance(node, q.Wildcard | q.Fuzzy):
            return None
        tokens: list[str | tuple[int, str]] = [*zh_tokens(node.text)]
        if not tokens:
            return None
        if len(tokens) == 1:
            return tantivy.Query.term_query(self.schema, twin, str(tokens[0]))
        slop = node.slop if isinstance(node, q.Phrase) else 0
        return tantivy.Query.phrase_query(self.schema, twin, tokens, slop)

    def _leaf_on(self, node: q.Leaf, field: str, keyword: bool) -> tantivy.Query | None:
        schema = self.schema
        if isinstance(node, q.Wildcard):
            return tantivy.Query.regex_query(schema, field, self._wildcard(node.pattern, keyword))
        text = node.text
        tokens: list[str | tuple[int, str]] = [text] if keyword else [*self.analyzer.analyze(text)]
        if not tokens:
            return None
        if isinstance(node, q.Fuzzy) and len(tokens) == 1:
            return tantivy.Query.fuzzy_term_query(schema, field, str(tokens[0]), node.distance)
        if len(tokens) == 1:
            return tantivy.Query.term_query(schema, field, str(tokens[0]))
        slop = node.slop if isinstance(node, q.Phrase) else 0
        return tantivy.Query.phrase_query(schema, field, tokens, slop)

    def _wildcard(self, pattern: str, keyword: bool) -> str:
        """`licence*` must also match the stem `licenc` that indexing stored (as ES's
        analyze_wildcard does): a trailing-* prefix is tried raw and analyzed."""
        prefix = pattern[:-1]
        if keyword or not pattern.endswith("*") or "*" in prefix or "?" in prefix:
            return wildcard_regex(pattern)
        stems = [str(t) for t in self.analyzer.analyze(prefix)]
        forms = {prefix.lower(), *stems[-1:]} if len(stems) == 1 else {prefix.lower()}
        return "(" + "|".join(wildcard_regex(f) for f in sorted(forms)) + ").*"

    def filters(self, req: SearchRequest) -> list[tantivy.Query]:
        schema = self.schema
        found: list[tantivy.Query] = []
        for field, values in req.tag_filters().items():
            assert field in TAG_FIELDS
            lowered = [v.lower() for v in values]
            found.append(tantivy.Query.term_set_query(schema, MATCH_FIELDS[field], lowered))
        if req.stance:
            found.append(tantivy.Query.term_set_query(schema, "stance", list(req.stance)))
        if req.jurisdiction:
            lowered = [j.lower() for j in req.jurisdiction]
            found.append(tantivy.Query.term_set_query(schema, "jurisdiction_lc", lowered))
        if req.since or req.until:
            found.append(self._date_range(req.since, req.until))
        if req.min_relevance > 0:
            found.append(
                tantivy.Query.range_query(
                    schema, "relevance", tantivy.FieldType.Float, req.min_relevance, None
                )
            )
        return found

    def _date_range(self, since: datetime | None, until: datetime | None) -> tantivy.Query:
        return tantivy.Query.range_query(
            self.schema,
            "date",
            tantivy.FieldType.Date,
            _utc(since),
            _utc(until),
            include_lower=True,
            include_upper=until is None,
        )


def wildcard_regex(pattern: str) -> str:
    """Lucene wildcard -> the anchored regex tantivy matches against whole terms."""
    out = []
    for char in pattern.lower():
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char.isalnum():
            out.append(char)
        else:  # tantivy's regex dialect is Rust's: hex escapes are always literal
            out.append(f"\\x{{{ord(char):X}}}")
    return "".join(out)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
