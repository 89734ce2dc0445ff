"""Taxonomy word lists keep the words they were written with (YAML 1.2 booleans)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrich.lexicon import load_lexicon, taxonomy_files
from enrich.yaml12 import load_file, load_text


@pytest.mark.parametrize("word", ["no", "No", "on", "On", "off", "yes", "y", "n", "NO"])
def test_yaml_1_1_boolean_words_stay_words(word: str) -> None:
    assert load_text(f"[{word}]") == [word]


@pytest.mark.parametrize(("text", "value"), [("true", True), ("False", False), ("TRUE", True)])
def test_true_and_false_are_still_booleans(text: str, value: bool) -> None:
    assert load_text(f"flag: {text}") == {"flag": value}


@given(st.lists(st.text(alphabet=st.characters(categories=("L",)), min_size=1, max_size=8)))
def test_any_list_of_words_round_trips(words: list[str]) -> None:
    reserved = {"true", "false", "null"}
    flow = "[" + ", ".join(f'"{w}"' if w.lower() in reserved else w for w in words) + "]"
    assert load_text(flow) == words


def _booleans_in_lists(node: Any, where: str) -> list[str]:
    if isinstance(node, dict):
        return [
            b for key, value in node.items() for b in _booleans_in_lists(value, f"{where}.{key}")
        ]
    if isinstance(node, list):
        found = [f"{where}[{i}]" for i, item in enumerate(node) if isinstance(item, bool)]
        return found + [
            b for i, item in enumerate(node) for b in _booleans_in_lists(item, f"{where}[{i}]")
        ]
    return []


def test_no_taxonomy_word_list_holds_a_boolean() -> None:
    found = [b for path in taxonomy_files() for b in _booleans_in_lists(load_file(path), path.name)]
    assert found == []


def test_english_no_negates_and_on_marks_a_target() -> None:
    lexicon = load_lexicon()
    assert "no" in lexicon.negators
    assert "on" in lexicon.target_prepositions
