"""Where tagging's time goes, by stage of `tag_text`, on the tagging benchmark's texts.

A CPU-time interval timer (ITIMER_PROF) stops the tagging every `--interval` seconds; each
sample is charged to the line of `enrich.tag.tag_text` running at that moment (the stage:
matching, splitting, the per-sentence reading, the wording model, the decider ...) and
to the innermost Python function (the leaf). Sampling, unlike cProfile, does not charge
each call its own overhead, so many small calls are not made to look costly. Shares
only: under load the seconds stretch, the shares hold. For before/after figures count
instructions instead (bench/enrich_workload.py under cachegrind).

    python bench/profile_tagging.py [--copies 2] [--runs 3] [--top 25]
"""

from __future__ import annotations

import argparse
import inspect
import signal
from collections import Counter
from types import FrameType

import aeb
from bench_tagging import extract, variations

from enrich import tag
from enrich.tag import tag_text


class StageSampler:
    def __init__(self) -> None:
        self.stages: Counter[int] = Counter()  # line of tag_text -> samples
        self.leaves: Counter[tuple[str, str]] = Counter()  # (file, function) -> samples
        self._code = tag_text.__code__

    def sample(self, _signal: int, frame: FrameType | None) -> None:
        if frame is None:
            return
        code = frame.f_code
        self.leaves[(code.co_filename.rsplit("/", 1)[-1], code.co_name)] += 1
        while frame is not None:
            if frame.f_code is self._code:
                self.stages[frame.f_lineno] += 1
                return
            frame = frame.f_back


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=2, help="texts per extracted page")
    parser.add_argument("--runs", type=int, default=3, help="passes over the texts")
    parser.add_argument("--interval", type=float, default=0.0005, help="seconds of CPU")
    parser.add_argument("--top", type=int, default=25, help="rows of each table")
    args = parser.parse_args()
    corpus = aeb.corpus_dir()
    if corpus is None:
        print(aeb.missing_message())
        return 0
    extracted = [extract(html) for html in aeb.load_pages(corpus).values()]
    texts = [v for title, text in extracted for v in variations(title, text, args.copies)]
    tag_text(texts[0][1], texts[0][0])  # automaton and models built outside the samples
    sampler = StageSampler()
    signal.signal(signal.SIGPROF, sampler.sample)
    signal.setitimer(signal.ITIMER_PROF, args.interval, args.interval)
    try:
        for _ in range(args.runs):
            for title, text in texts:
                tag_text(text, title)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
    lines, first = inspect.getsourcelines(tag.tag_text)
    total = sum(sampler.stages.values()) or 1
    print(f"{len(texts)} texts x {args.runs} runs, {total} samples in tag_text, by its line:")
    for line, n in sampler.stages.most_common(args.top):
        print(f"{n / total:6.1%}  {line:4d}  {lines[line - first].strip()[:88]}")
    leaves = sum(sampler.leaves.values()) or 1
    print("innermost Python function:")
    for (file, function), n in sampler.leaves.most_common(args.top):
        print(f"{n / leaves:6.1%}  {file}:{function}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
