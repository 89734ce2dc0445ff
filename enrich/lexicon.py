"""The taxonomy files, loaded once into one flat list of patterns plus lookup tables.

Every surface form the tagger looks for (entities, cues, hedges, keywords) becomes a
`Pattern`, so enrich.match can find all of them in a single Aho-Corasick pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import chipwire
from enrich.folding import fold
from enrich.grammar import describe
from enrich.text import CaptionMarks
from enrich.yaml12 import TAXONOMY_DIR, load_file

LANGUAGES_DIR = TAXONOMY_DIR / "languages"
TAGGER_VERSION = "1"  # bump when a code change alters tags on purpose

# Pattern kinds. MAIN kinds compete for a span (longest wins); AUX kinds are context
# words read alongside and never hide an entity or a cue.
MAIN_KINDS = frozenset(
    {
        "chip",
        "family",
        "company",
        "agency",
        "context_agency",
        "person",
        "country",
        "cue",
        "subject",
        "classification",
        "ignore",
    }
)


@dataclass(frozen=True)
class Pattern:
    surface: str
    kind: str
    key: str  # id, or for cues "restrict"/"ease"/"reversal", for aux the group name
    case_sensitive: bool = False
    extra: str = ""  # chip family, country role ("name"/"capital"), cue action


class Derived(dict[str, str]):
    """A table of listed values that derives the value of an unlisted key (a chip model
    the grammar normalised, an agency id built from its name) instead of failing."""

    def __init__(self, derive: Callable[[str], str | None]) -> None:
        super().__init__()
        self._derive = derive

    def __missing__(self, key: str) -> str:
        value = self._derive(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            return dict.__getitem__(self, key)
        value = self._derive(key)
        return default if value is None else value


def _model_name(model_id: str) -> str | None:
    chip = describe(model_id)
    return chip.name if chip else None


def _model_family(model_id: str) -> str | None:
    chip = describe(model_id)
    return chip.family if chip else None


def _jurisdiction_of(agency_id: str) -> str | None:
    """ "JP:MOF" -> "JP": an agency id built by the agency grammar names its country."""
    country, _, body = agency_id.partition(":")
    return country if body and len(country) == 2 and country.isupper() else None


@dataclass(frozen=True)
class ContextRule:
    by_country: dict[str, str]
    default: str | None
    use_context: bool
    fallback: str | None = None  # after the qualifier, the named bodies and the context
    # a qualifying country the rule does not list still names its own such body:
    # "<country>:<body>", the initials of the body's English name ("Singapore's foreign
    # ministry" is SG:MFA, enrich/realset/README.md)
    body: str | None = None
    body_not: frozenset[str] = frozenset()  # countries whose such body is named otherwise


# The kinds of government body agencies.yaml's `type` names
AGENCY_TYPES = (
    "executive",
    "ministry",
    "regulator",
    "enforcement",
    "court",
    "legislature",
    "research",
)


@dataclass
class Lexicon:
    patterns: list[Pattern] = field(default_factory=list)
    chip_names: dict[str, str] = field(default_factory=lambda: Derived(_model_name))
    chip_family: dict[str, str] = field(default_factory=lambda: Derived(_model_family))
    company_home: dict[str, str] = field(default_factory=dict)
    agency_names: dict[str, str] = field(default_factory=dict)
    agency_jurisdiction: dict[str, str] = field(default_factory=lambda: Derived(_jurisdiction_of))
    # agencies.yaml `type`; a body built by its initials takes the kind of those initials
    # (agencies.yaml `body_types`)
    agency_type: dict[str, str] = field(default_factory=dict)
    country_names: dict[str, str] = field(default_factory=dict)
    context_rules: list[ContextRule] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    generic_subjects: frozenset[str] = frozenset()
    authority_nouns: frozenset[str] = frozenset()
    move_nouns: frozenset[str] = frozenset()
    target_prepositions: frozenset[str] = frozenset()
    aimed_prepositions: frozenset[str] = frozenset()
    agent_prepositions: frozenset[str] = frozenset()
    source_prepositions: frozenset[str] = frozenset()
    determiners: frozenset[str] = frozenset()
    negators: tuple[str, ...] = ()
    # (negators, pending negators, markers, permission words, cessation words, granting
    # verbs): "不被允许", "stopped issuing licences" (cues.yaml)
    denied_permission: tuple[tuple[str, ...], ...] = ((), (), (), (), (), ())
    negation_window: int = 4
    reversal_window: int = 9
    reducing_window: int = 4
    # cue forms a language file writes capitalised (German nouns): never a name
    capitalised_cues: frozenset[str] = frozenset()
    requirement_window: int = 10
    ceiling_window: int = 8
    # (words an approval reaches over to its object, words before it in object-first
    # languages, prepositions it may reach through): cues.yaml `support_objects`
    support_reach: tuple[int, int, frozenset[str]] = (5, 2, frozenset())
    levying_verbs: frozenset[str] = frozenset()
    # (words before the left restriction, words after it, change verbs, words of reach)
    away_from: tuple[tuple[str, ...], tuple[str, ...], frozenset[str], int] = (
        (),
        (),
        frozenset(),
        4,
    )
    person_jurisdiction: dict[str, str] = field(default_factory=dict)
    person_company: dict[str, str] = field(default_factory=dict)
    related_headers: frozenset[str] = frozenset()
    company_nouns: frozenset[str] = frozenset()
    attributive_nouns: frozenset[str] = frozenset()
    directive_verbs: frozenset[str] = frozenset()
    receiving_verbs: frozenset[str] = frozenset()
    # cues aimed at whoever is named before them (a penalty, a charge): folded forms
    aimed_cues: frozenset[str] = frozenset()
    passive_auxiliaries: frozenset[str] = frozenset()
    cjk_passive: tuple[str, ...] = ()
    receiving_after: tuple[str, ...] = ()  # folded
    dateline_capitals: dict[str, str] = field(default_factory=dict)  # "BEIJING" -> CN
    # a capital as the place of an event ("talks in Madrid"): (words before, words after)
    capital_place: tuple[frozenset[str], tuple[str, ...]] = (frozenset(), ())
    cjk_after_clause: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # (forms, not)
    cjk_object_markers: tuple[str, ...] = ()
    cjk_not_negating: tuple[str, ...] = ()
    cjk_target_prepositions: tuple[str, ...] = ()
    state_prepositions: frozenset[str] = frozenset()
    relative_heads: frozenset[str] = frozenset()
    pluperfect: frozenset[str] = frozenset()
    cjk_attributive: tuple[str, ...] = ()
    subject_marks: tuple[str, ...] = ()
    hedges_after_verb: frozenset[str] = frozenset()  # folded
    outlet_marks: tuple[str, ...] = ()
    prefix_abbreviations: dict[str, str] = field(default_factory=dict)
    prefix_not: tuple[str, ...] = ()
    captions: CaptionMarks = field(default_factory=CaptionMarks)
    version: str = ""

    def add(
        self, surfaces: list[str], kind: str, key: str, *, exact: bool = False, extra: str = ""
    ) -> None:
        for surface in surfaces:
            self.patterns.append(Pattern(str(surface), kind, key, exact, extra))


def _read(name: str) -> dict[str, Any]:
    """One taxonomy file, with every language file's words for it added."""
    data = _load_yaml(TAXONOMY_DIR / name)
    for path in sorted(LANGUAGES_DIR.glob("*.yaml")):
        for key, words in _load_yaml(path).items():
            if key not in FILE_OF:
                raise ValueError(f"{path.name}: unknown section {key!r}")
            if FILE_OF[key] == name:
                _merge(data, words if key == "cues" else {key: words}, f"{path.name}: {key}")
    return data


def _load_yaml(path: Path) -> dict[str, Any]:
    data = load_file(path)
    assert isinstance(data, dict), f"{path.name}: expected a mapping"
    return data


# A language file (taxonomy/languages/<lang>.yaml) has one section per kind of word:
# `cues` extends cues.yaml key by key; the others extend a list of records by id
# ("JP:METI": [more names]) with the record's list named here; `contextual` adds
# generic names whose body the country decides ("Handelsministerium": Beijing's or
# Washington's), as agencies.yaml's own.
FILE_OF = {
    "cues": "cues.yaml",
    "actions": "actions.yaml",
    "subjects": "actions.yaml",
    "agencies": "agencies.yaml",
    "contextual": "agencies.yaml",
    "countries": "countries.yaml",
    "companies": "companies.yaml",
    "people": "people.yaml",
}
RECORDS = {
    "actions": ("id", "keywords"),
    "subjects": ("id", "aliases"),
    "agencies": ("id", "aliases"),
    "countries": ("code", "names"),
    "companies": ("name", "aliases"),
    "people": ("name", "aliases"),
}


def _merge(base: dict[str, Any], extra: dict[str, Any], where: str) -> None:
    """Lists are extended and mappings merged: a language file only adds words."""
    for key, value in extra.items():
        current = base.setdefault(key, type(value)())
        if key in RECORDS and isinstance(value, dict):
            _merge_records(current, *RECORDS[key], value, f"{where}.{key}")
        elif isinstance(current, list) and isinstance(value, list):
            current.extend(value)
        elif isinstance(current, dict) and isinstance(value, dict):
            _merge(current, value, f"{where}.{key}")
        else:
            raise ValueError(f"{where}.{key}: a language file can only add words")


def _merge_records(
    records: list[dict[str, Any]], id_key: str, list_key: str, extra: dict[str, Any], where: str
) -> None:
    by_id: dict[str, dict[str, Any]] = {}
    for record in records:
        by_id.setdefault(str(record[id_key]), record)  # the first of a repeated id
    for record_id, added in extra.items():
        words = {list_key: added} if isinstance(added, list) else added
        if record_id in by_id:
            _merge(by_id[record_id], words, f"{where}.{record_id}")
        elif "name" in words:
            records.append({id_key: record_id, **words})
        else:
            raise ValueError(f"{where}: unknown {record_id!r} (give its name to add it)")


def taxonomy_files() -> list[Path]:
    return sorted([*TAXONOMY_DIR.glob("*.yaml"), *LANGUAGES_DIR.glob("*.yaml")])


def enrichment_version() -> str:
    """Hash of the taxonomy files and the code version: what produced a set of tags."""
    digest = hashlib.sha256(f"{chipwire.__version__}/{TAGGER_VERSION}".encode())
    for path in taxonomy_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@cache
def load_lexicon() -> Lexicon:
    lex = Lexicon(version=enrichment_version())
    _load_chips(lex, _read("chips.yaml"))
    _load_companies(lex, _read("companies.yaml"))
    _load_countries(lex, _read("countries.yaml"))
    _load_agencies(lex, _read("agencies.yaml"))
    _load_cues(lex, _read("cues.yaml"))
    _load_actions(lex, _read("actions.yaml"))
    _load_people(lex, _read("people.yaml"))
    _fold_marks(lex)
    return lex


def _fold_marks(lex: Lexicon) -> None:
    """The CJK marks are compared with folded text, so they are folded as the patterns
    are: a Japanese 工場 or 側は is read as 工场, 侧は (taxonomy/hant.yaml)."""

    def folded(words: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(fold(w) for w in words))

    lex.cjk_attributive = folded(lex.cjk_attributive)
    lex.subject_marks = folded(lex.subject_marks)
    lex.cjk_passive = folded(lex.cjk_passive)
    lex.receiving_after = folded(lex.receiving_after)
    lex.cjk_object_markers = folded(lex.cjk_object_markers)
    lex.cjk_target_prepositions = folded(lex.cjk_target_prepositions)
    lex.cjk_not_negating = folded(lex.cjk_not_negating)
    lex.hedges_after_verb = frozenset(folded(tuple(lex.hedges_after_verb)))
    lex.cjk_after_clause = (folded(lex.cjk_after_clause[0]), folded(lex.cjk_after_clause[1]))


def _load_people(lex: Lexicon, data: dict[str, Any]) -> None:
    for person in data["people"]:
        name = person["name"]
        if person.get("jurisdiction"):
            lex.person_jurisdiction[name] = person["jurisdiction"]
        if person.get("company"):
            lex.person_company[name] = person["company"]
        lex.add(person["aliases"], "person", name, exact=True)


def _load_chips(lex: Lexicon, data: dict[str, Any]) -> None:
    for chip in data["chips"]:
        chip_id = str(chip["id"])
        lex.chip_names[chip_id] = chip["name"]
        lex.chip_family[chip_id] = chip.get("family", "")
        lex.add([chip_id, *chip.get("aliases", [])], "chip", chip_id)
    for family in data["families"]:
        lex.chip_names[family["id"]] = family["name"]
        lex.add(family["aliases"], "family", family["id"], exact=True)


def _load_companies(lex: Lexicon, data: dict[str, Any]) -> None:
    for company in data["companies"]:
        name = company["name"]
        exact = [str(s) for s in company.get("exact", [])]
        lex.company_home[name] = company.get("home", "")
        bare = [name] if company.get("bare", True) else []
        loose = [str(s) for s in [*bare, *company.get("aliases", [])] if s not in exact]
        lex.add(loose, "company", name)
        lex.add(exact, "company", name, exact=True)


def _load_countries(lex: Lexicon, data: dict[str, Any]) -> None:
    for country in data["countries"]:
        code = country["code"]
        lex.country_names[code] = country["name"]
        lex.add(country.get("names", []), "country", code, extra="name")
        lex.add(country.get("demonyms", []), "country", code, extra="demonym")
        lex.add(country.get("targets", []), "country", code, extra="target")
        lex.add(country.get("exact", []), "country", code, exact=True, extra="name")
        lex.add(country.get("capitals", []), "country", code, exact=True, extra="capital")
        for capital in country.get("capitals", []):
            if capital.isascii():
                lex.dateline_capitals[capital.upper()] = code
        lex.add(country.get("in_names", []), "country_in_name", code, exact=True)
    lex.add(data.get("not_places", []), "ignore", "ignore")
    lex.outlet_marks = tuple(str(m) for m in data.get("outlet_marks", []))
    lex.prefix_abbreviations = {
        str(k): str(v) for k, v in data.get("prefix_abbreviations", {}).items()
    }
    lex.prefix_not = tuple(str(w) for w in data.get("prefix_not", []))
    place = data.get("capital_as_place", {})
    lex.capital_place = (
        frozenset(str(w).lower() for w in place.get("before", [])),
        tuple(str(w) for w in place.get("after", [])),
    )


def _load_agencies(lex: Lexicon, data: dict[str, Any]) -> None:
    lex.add(data.get("not_bodies", []), "ignore", "ignore")
    lex.add(data.get("not_bodies_customs", []), "ignore", "ignore")
    built = _body_types(data)
    lex.agency_type = Derived(lambda agency_id: built.get(agency_id.partition(":")[2]))
    for agency in data["agencies"]:
        agency_id = agency["id"]
        lex.agency_names[agency_id] = agency["name"]
        lex.agency_jurisdiction[agency_id] = agency["jurisdiction"]
        if (kind := agency.get("type")) is not None:
            if kind not in AGENCY_TYPES:
                raise ValueError(f"agencies {agency_id}: type {kind!r} not in {AGENCY_TYPES}")
            lex.agency_type[agency_id] = kind
        lex.add(agency.get("aliases", []), "agency", agency_id)
        lex.add(agency.get("exact", []), "agency", agency_id, exact=True)
    lex.add(data.get("anaphors", []), "anaphor", "anaphor")
    for index, rule in enumerate(data.get("contextual", [])):
        lex.context_rules.append(
            ContextRule(
                dict(rule["by_country"]),
                rule.get("default"),
                bool(rule.get("context")),
                rule.get("fallback"),
                rule.get("body"),
                frozenset(str(c) for c in rule.get("body_not", [])),
            )
        )
        lex.add(rule.get("aliases", []), "context_agency", str(index))
        lex.add(rule.get("exact", []), "context_agency", str(index), exact=True)


def _body_types(data: dict[str, Any]) -> dict[str, str | None]:
    """The kind of a built body by its initials (`body_types` and the contextual rules'
    `body`); initials given two kinds give none."""
    kinds: dict[str, set[str]] = {}
    types = data.get("body_types", {})
    listed = [(kind, body) for kind, bodies in types.items() for body in bodies]
    ruled = [(r["type"], r["body"]) for r in data.get("contextual", []) if r.get("body")]
    for kind, body in [*listed, *ruled]:
        if kind not in AGENCY_TYPES:
            raise ValueError(f"agencies body {body}: type {kind!r} not in {AGENCY_TYPES}")
        kinds.setdefault(str(body), set()).add(str(kind))
    return {body: next(iter(k)) if len(k) == 1 else None for body, k in kinds.items()}


def _load_cues(lex: Lexicon, data: dict[str, Any]) -> None:
    for direction in ("restrict", "ease"):
        for group in data[direction]:
            lex.add(group["forms"], "cue", direction, extra=group.get("action") or "")
            if group.get("aimed"):
                lex.aimed_cues |= {fold(str(form)) for form in group["forms"]}
    lex.capitalised_cues = _capitalised_nouns()
    lex.add(data["reversal"]["forms"], "reversal", "undo")
    lex.add(data["reversal"]["easing_forms"], "reversal", "easing")
    lex.add(data["reversal"]["losing_forms"], "reversal", "losing")
    lex.add(data["reversal"]["reducing_forms"], "reversal", "reducing")
    lex.reducing_window = int(data["reversal"]["reducing_window_words"])
    lex.add(data["reversal"]["following_forms"], "reversal", "following")
    lex.reversal_window = int(data["reversal"]["window_words"])
    lex.add(data["reversal"]["nouns"], "reversal_noun", "noun")
    lex.add(data["reversible_objects"], "reversible", "reversible")
    lex.add(data["requirement"]["forms"], "requirement", "requirement")
    lex.add(data["requirement"]["objects"], "required", "required")
    lex.add(data["receipt"]["forms"], "receipt", "receipt")
    lex.add(data["sale_order"]["forms"], "requirement", "sale")
    lex.add(data["sale_order"]["objects"], "required", "sale")
    lex.requirement_window = int(data["requirement"]["window_words"])
    lex.add(data["denial"], "denial", "denial")
    lex.add(data["reaction"], "reaction", "reaction")
    # languages that put the verb after its object list their reaction verbs apart
    lex.add(data.get("reaction_after", []), "reaction", "after")
    lex.add(data["lobbying"], "lobbying", "lobbying")
    lex.add(data["carve_out"], "carve_out", "carve_out")
    lex.add(data["privilege"]["nouns"], "privilege", "privilege")
    lex.add(data["privilege"]["withdrawing"], "withdrawing", "withdrawing")
    lex.add(data["ceiling"], "ceiling", "ceiling")
    lex.ceiling_window = int(data["ceiling_window_words"])
    support = data["support_objects"]
    lex.add(support["forms"], "support_object", "support")
    lex.support_reach = (
        int(support["window_words"]),
        int(support["before_words"]),
        frozenset(str(w).lower() for w in support["through"]),
    )
    lex.levying_verbs = frozenset(str(w).lower() for w in data["ceiling_levying_verbs"])
    away = data["away_from"]
    lex.away_from = (
        tuple(str(w) for w in away["from"]),
        tuple(str(w) for w in away["to"]),
        frozenset(str(w).lower() for w in away["change_verbs"]),
        int(away["window_words"]),
    )
    lex.cjk_attributive = tuple(data["cjk_attributive"])
    lex.subject_marks = tuple(data["subject_marks"])
    lex.negators = tuple(str(s) for s in data["negation"]["forms"])
    lex.negation_window = int(data["negation"]["window_words"])
    lex.state_prepositions = frozenset(data["negation"]["state_prepositions"])
    lex.cjk_not_negating = tuple(str(w) for w in data["negation"]["cjk_not_negating"])
    denied = data["denied_permission"]
    lex.denied_permission = tuple(
        tuple(str(w) for w in denied[key])
        for key in ("negators", "pending", "markers", "permissions", "cessation", "granting")
    )
    for level, words in data["hedges"].items():
        lex.add([w for w in words if w != "may"], "hedge", level)
    lex.add(data["hedges_sentence_wide"], "hedge", "speculative_wide")
    lex.hedges_after_verb = frozenset(str(w) for w in data["hedges_after_verb"])
    lex.add(data["conditional"], "conditional", "conditional")
    lex.add(data["speech"], "speech", "speech")
    lex.add(["may"], "hedge", "speculative", exact=True)
    lex.add(data["background"]["forms"], "background", "past")
    lex.add(data["background"]["recency"], "background", "recent")
    lex.add(data["concessive"]["forms"], "concessive", "concessive")
    for key, forms in data["framing"].items():
        lex.add(forms, "frame", key)
    for key, forms in data["talk"].items():
        lex.add([w for w in forms if w != "may"], "talk", key)
        lex.add([w for w in forms if w == "may"], "talk", key, exact=True)  # not "May"
    lex.authority_nouns = frozenset(s.lower() for s in data["authority_nouns"])
    lex.move_nouns = frozenset(data["move_nouns"])
    lex.target_prepositions = frozenset(data["target_prepositions"])
    lex.aimed_prepositions = frozenset(data["aimed_prepositions"])
    lex.agent_prepositions = frozenset(data["agent_prepositions"])
    lex.source_prepositions = frozenset(data["source_prepositions"])
    lex.determiners = frozenset(data["determiners"])
    lex.related_headers = frozenset(s.lower() for s in data["related_headers"])
    lex.add(data["ignore"], "ignore", "ignore")
    lex.relative_heads = frozenset(data["relative_heads"])
    lex.pluperfect = frozenset(data["background"]["pluperfect"])
    lex.company_nouns = frozenset(data["company_nouns"])
    lex.attributive_nouns = frozenset(data["attributive_nouns"])
    lex.directive_verbs = frozenset(data["directive_verbs"])
    lex.receiving_verbs = frozenset(data["receiving_verbs"])
    lex.passive_auxiliaries = frozenset(data["passive_auxiliaries"])
    lex.cjk_passive = tuple(str(w) for w in data["cjk_passive"])
    lex.receiving_after = tuple(str(w) for w in data["receiving_after"])
    after = data["cjk_after_clause"]
    lex.cjk_after_clause = (
        tuple(str(w) for w in after["forms"]),
        tuple(str(w) for w in after["not"]),
    )
    lex.captions = CaptionMarks(
        tuple(str(w) for w in data["captions"]["starts"]),
        tuple(str(w) for w in data["captions"]["ends"]),
    )
    lex.cjk_object_markers = tuple(str(w) for w in data["cjk_object_markers"])
    lex.cjk_target_prepositions = tuple(str(w) for w in data["cjk_target_prepositions"])
    lex.add(data["offtopic"], "topic", "offtopic")
    lex.add(data["policy"], "topic", "policy")
    lex.add(data.get("policy_review", []), "topic", "policy")


def _capitalised_nouns() -> frozenset[str]:
    """Cue forms a language file writes capitalised: nouns its language always capitalises
    ("Verbot", "Ausnahme"), not names. An English capitalised word in a body sentence
    stays a name ("Grant Shapps")."""
    nouns: set[str] = set()
    for path in sorted(LANGUAGES_DIR.glob("*.yaml")):
        cues = _load_yaml(path).get("cues", {})
        for direction in ("restrict", "ease"):
            for group in cues.get(direction, []):
                for form in map(str, group["forms"]):
                    if form[:1].isupper() and not form.isupper():
                        nouns.add(form.lower())
    return frozenset(nouns)


def _load_actions(lex: Lexicon, data: dict[str, Any]) -> None:
    lex.actions = list(data["actions"])
    for index, action in enumerate(lex.actions):
        lex.add(action["keywords"], "action_kw", str(index))
    generic = set()
    for subject in data["subjects"]:
        lex.add(
            subject["aliases"],
            "subject",
            subject["id"],
            extra="weak" if subject.get("weak") else "",
        )
        if subject.get("generic"):
            generic.add(subject["id"])
    lex.generic_subjects = frozenset(generic)
    for item in data["classifications"]:
        lex.add(item["aliases"], "classification", item["id"])
