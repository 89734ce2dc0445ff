"""Readable terminal output for `chipwire tag` and `chipwire eval` (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from enrich.tag import TagResult


def print_summary(console: Console, result: TagResult) -> None:
    tags = result.tags
    console.print(
        f"[bold]stance[/] {result.stance}   [bold]acting[/] {result.acting_jurisdiction or '-'}"
        f"   [bold]relevance[/] {result.relevance:.2f}"
    )
    for label, refs in (
        ("chips", tags.chips),
        ("companies", tags.companies),
        ("agencies", tags.agencies),
        ("countries", tags.countries),
    ):
        console.print(f"[bold]{label}[/] " + (", ".join(f"{r.name} ({r.id})" for r in refs) or "-"))
    if not result.signals:
        console.print("[dim]no policy signals[/]")
        return
    console.print("[bold]policy signals[/]")
    for s in result.signals:
        agency = f" ({s.agency})" if s.agency else ""
        evidence = s.evidence if len(s.evidence) <= 200 else s.evidence[:197] + "..."
        console.print(
            f"  [bold]{s.direction}[/] {s.jurisdiction}{agency} on {s.subject}: "
            f"{s.action}, {s.certainty}, confidence {s.confidence:.2f}"
        )
        console.print(f"    [dim][{s.evidence_start}:{s.evidence_end}][/] {evidence}")


def print_explanation(console: Console, result: TagResult) -> None:
    explained = result.explanation.to_json()
    if explained["related_block_cut_at"] is not None:
        console.print(
            f"[yellow]related-links block dropped from offset "
            f"{explained['related_block_cut_at']}[/]"
        )
    for sentence in explained["sentences"]:
        where = "headline" if sentence["headline"] else f"weight {sentence['weight']:.1f}"
        console.print(
            f"\n[bold]#{sentence['index']}[/] [{sentence['start']}:{sentence['end']}] "
            f"({where}) {sentence['text']}"
        )
        for match in sentence["matches"]:
            console.print(
                f"   {match['kind']:<14} {match['alias']!r} -> {match['id']} "
                f"[{match['start']}:{match['end']}]"
            )
        for cue in sentence["cues"]:
            notes = "; ".join(cue["notes"])
            console.print(
                f"   [cyan]cue[/] {cue['cue']!r} {cue['direction']} -> "
                f"[bold]{cue['outcome']}[/] {notes}"
            )
    console.print(f"\n[bold]weights[/] {explained['weights']}")
    console.print(f"[bold]stance[/] {explained['stance_reason']}")
    console.print(f"[bold]relevance[/] {explained['relevance_reason']}")


def print_eval(console: Console, results: dict[str, Any]) -> None:
    for name, report in results.items():
        if name != "seeds":
            _print_labelled(console, name, report)
    if "seeds" in results:
        seeds = results["seeds"]
        console.print(
            f"\n[bold]seeds[/]: all labels found: {seeds['all_labels_found']}, "
            f"primary stance+government right: {seeds['primary_right']}/{seeds['seeds']}"
        )
        for seed, verdict in seeds["per_seed"].items():
            console.print(
                f"  {seed}: {verdict['stance']} {verdict['acting_jurisdiction']} "
                f"right={verdict['primary_right']} missing={verdict['missing']}"
            )


def _shown(report: dict[str, Any], key: str) -> str:
    """A class recall over no labelled items of that class is no figure (the JSON keeps the
    number for scripts; the per-class support beside it says there was nothing to score)."""
    of_class = {"ease_recall": "ease", "mixed_recall": "mixed"}.get(key)
    if of_class is not None and report["stance_per_class"][of_class]["support"] == 0:
        return f"-  (no {of_class} items labelled)"
    return f"{report[key]:.3f}"


def _print_labelled(console: Console, name: str, report: dict[str, Any]) -> None:
    table = Table(title=f"{name} set ({report['items']} texts)")
    for column in ("field", "precision", "recall", "F1"):
        table.add_column(column)
    for field_name in ("chips", "companies", "agencies", "countries", "signals"):
        s = report[field_name]
        table.add_row(field_name, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}")
    console.print(table)
    for key in (
        "stance_accuracy",
        "ease_recall",
        "mixed_recall",
        "acting_jurisdiction_accuracy",
        "relevance_precision",
        "relevance_recall",
        "offtopic_rejection",
    ):
        console.print(f"  {key:<30} {_shown(report, key)}")
    confusion = Table(title="stance confusion (rows gold, columns predicted)")
    confusion.add_column("gold")
    stances = list(report["stance_confusion"])
    for stance in stances:
        confusion.add_column(stance)
    for gold in stances:
        confusion.add_row(gold, *(str(report["stance_confusion"][gold][p]) for p in stances))
    console.print(confusion)
    for error in report.get("errors", []):
        console.print(f"  [red]{escape(str(error))}[/]")
