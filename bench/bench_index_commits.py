"""What an index commit costs: CPU per document of our tantivy indexer by commit size.

The indexer commits every `index_commit_interval_s` or `index_commit_docs` articles; at a
pipeline's rate the interval decides the batch. This indexes the same synthetic articles
(bench_index.py's, without a language, as crawled ones are) through `TantivyBackend`,
committing every N documents, and reports the process's CPU time per document (tantivy's
indexing and merging threads included) and the fixed cost per commit that follows.

    python bench/bench_index_commits.py [--docs 600] [--runs 2] [--sizes 12,50,200,600]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import bench_index
import common

from index.tantivy_backend import TantivyBackend


def cpu_ms_per_doc(docs: list, batch: int) -> float:  # type: ignore[type-arg]
    path = Path(tempfile.mkdtemp(prefix="chipwire-commits-"))
    started = time.process_time()
    backend = TantivyBackend(path)
    for i in range(0, len(docs), batch):
        backend.upsert(docs[i : i + batch])
        backend.commit()
    backend.close()
    cpu = time.process_time() - started
    shutil.rmtree(path, ignore_errors=True)
    return 1000 * cpu / len(docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--sizes", default="12,50,200,600")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    docs = [
        d.model_copy(update={"language": None})
        for d in bench_index.synthetic(bench_index.texts(), args.docs)
    ]
    figures: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(args.runs):  # sizes alternate within each run
        for size in sizes:
            figures[size].append(cpu_ms_per_doc(docs, size))
    largest = statistics.median(figures[max(sizes)])
    rows = []
    for size in sizes:
        median = statistics.median(figures[size])
        fixed = "—"
        if size < max(sizes):  # cost(n) = per doc + F / n, against the largest n
            fixed = f"{(median - largest) * size / (1 - size / max(sizes)):.0f}"
        rows.append([size, f"{median:.2f}", fixed])
    print(f"{args.docs} documents, {args.runs} run(s), load {common.machine()['load_avg_1m']:.1f}")
    print(common.table(["docs per commit", "CPU ms per doc", "fixed CPU ms per commit"], rows))
    common.write_result("index-commits", {"docs": args.docs, "cpu_ms_per_doc": figures})


if __name__ == "__main__":
    main()
