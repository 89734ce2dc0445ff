"""Taxonomy YAML read with YAML 1.2 booleans: only true/false are booleans.

PyYAML follows YAML 1.1, where a bare ``no``, ``on``, ``off`` or ``yes`` becomes a
boolean, so the English negator "no" and the preposition "on" silently left the
word lists they were written in.

Parsed by libyaml (PyYAML's C loader, which resolves tags with the same Python table): the
taxonomy's ~20 files take a tenth of the pure-Python parser's time, and every process that
tags reads them once at start.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

TAXONOMY_DIR = Path(__file__).parent / "taxonomy"
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


# PyYAML's wheels ship libyaml; a build without it falls back to the Python parser
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Yaml12Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    pass


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))


def load_text(text: str) -> Any:
    return yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 - a SafeLoader subclass


def load_file(path: Path) -> Any:
    return load_text(path.read_text(encoding="utf-8"))
