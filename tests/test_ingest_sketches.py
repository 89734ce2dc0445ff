"""datasketch without scipy: the crawler's processes stay lean, and near-duplicate
detection chooses the very same LSH bands as with scipy's integrator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from datasketch import lsh

from ingest import sketches

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("num_perm", [64, 128])
def test_the_bands_chosen_are_scipys_for_every_threshold(num_perm: int) -> None:
    from scipy.integrate import quad as scipy_quad

    thresholds = [t / 100 for t in range(1, 100)]
    chosen = []
    loaded_with = lsh.integrate
    for integrate in (scipy_quad, sketches.quad):
        lsh.integrate = integrate
        try:
            chosen.append([lsh._optimal_param(t, num_perm, 0.5, 0.5) for t in thresholds])
        finally:
            lsh.integrate = loaded_with
    assert chosen[0] == chosen[1]


def test_the_crawler_process_loads_neither_scipy_nor_trafilatura() -> None:
    """~47 MiB (scipy) and ~40 MiB (trafilatura) resident in every process that loads
    them: the crawling process needs neither; only extraction workers load trafilatura."""
    probe = (
        "import sys; import chipwire.runner, ingest.crawl, ingest.dedupe; "
        "print(sorted(m for m in ('scipy.integrate', 'trafilatura') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
