"""Does a change to the tagger's speed leave every decision as it was?

Tags the synthetic sets (enrich/evalsets), the seed articles, the cached real-set
excerpts and the tagging benchmark's texts, and writes one digest per text of everything
a reader, the decider and the explanation see (tags, signals, stance, jurisdiction,
relevance, features, moves, the per-sentence trace). Run it with `--save` on the
starting commit and with `--against` on the change: any text whose digest differs is
listed.

    python bench/check_tagging_identity.py --save /tmp/before.json
    python bench/check_tagging_identity.py --against /tmp/before.json

To digest another commit's tagger, put its `enrich` first on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import aeb
from bench_tagging import extract, variations

from enrich.realset import DEFAULT_CACHE
from enrich.tag import tag_text

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "seeds"  # ../shared/seeds, as the seed tests read them


def texts(copies: int, real: Path) -> Iterator[tuple[str, str, str]]:
    """(name, title, text) of every text to digest."""
    for path in sorted((REPO / "enrich" / "evalsets").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            yield f"{path.stem}/{item['id']}", item.get("title", ""), item["text"]
    if not SEEDS.is_dir():
        print(f"the seed articles are not at {SEEDS}: checked without them", file=sys.stderr)
    for path in sorted(SEEDS.glob("*.txt")):
        yield f"seed/{path.name}", "", path.read_text(encoding="utf-8")
    for path in sorted(real.glob("*.txt")):
        yield f"real/{path.stem}", "", path.read_text(encoding="utf-8")
    corpus = aeb.corpus_dir()
    if corpus is not None:
        for name, html in sorted(aeb.load_pages(corpus).items()):
            title, text = extract(html)
            for copy, (t, x) in enumerate(variations(title, text, copies)):
                yield f"bench/{name}/{copy}", t, x


def digest(title: str, text: str) -> str:
    result = tag_text(text, title)
    seen = {
        "json": result.to_json(),
        "features": result.features,
        "read_stance": result.read_stance,
        "moves": repr(result.moves),
        "explanation": repr(result.explanation),
    }
    encoded = json.dumps(seen, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha1(encoded.encode("utf-8"), usedforsecurity=False).hexdigest()


def main() -> int:
    return run_check(__doc__, lambda _name, title, text: digest(title, text), "texts")


def run_check(doc: str | None, digest_of: Callable[[str, str, str], str], noun: str) -> int:
    """The command line both identity checks share: digest every text with `digest_of`
    (name, title, text), then save the digests or compare them."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the digests here")
    group.add_argument("--against", type=Path, help="compare with digests saved before")
    parser.add_argument("--copies", type=int, default=2, help="benchmark texts per page")
    parser.add_argument(
        "--real", type=Path, default=DEFAULT_CACHE, help="the real-set excerpts (a fixed copy)"
    )
    args = parser.parse_args()
    digests = {name: digest_of(name, t, x) for name, t, x in texts(args.copies, args.real)}
    return save_or_compare(digests, args.save, args.against, noun)


def save_or_compare(digests: dict[str, str], save: Path | None, against: Path, noun: str) -> int:
    """Write the digests to `save`, or list every name whose digest differs from `against`'s
    (exit status 1 when any does)."""
    if save is not None:
        save.write_text(json.dumps(digests, indent=0, sort_keys=True), encoding="utf-8")
        print(f"{len(digests)} {noun} digested into {save}")
        return 0
    before = json.loads(against.read_text(encoding="utf-8"))
    changed = sorted(n for n in before.keys() | digests.keys() if before.get(n) != digests.get(n))
    for name in changed:
        print(f"changed: {name}")
    print(f"{len(digests)} {noun}, {len(changed)} changed")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
