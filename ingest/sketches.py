"""datasketch (MinHash, LSH), loaded without scipy.

datasketch's LSH modules import `scipy.integrate.quad` when they load, for one job: to
choose an index's band parameters by integrating its false-positive and false-negative
curves. scipy then sits in every process that loads datasketch (~47 MiB resident each:
the crawler, the extraction forkserver and every extraction worker). A 64-point
Gauss-Legendre rule integrates those smooth curves closely enough that datasketch picks
the very same bands (checked for every threshold from 0.01 to 0.99 by the tests), so it
is handed that rule while it loads; a later `import scipy.integrate` gets the real one.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)


def quad(func: Callable[[Any], Any], a: float, b: float, **_: Any) -> tuple[float, float]:
    """∫ func from a to b, in `scipy.integrate.quad`'s shape (value, error estimate)."""
    half, middle = (b - a) / 2, (b + a) / 2
    values = np.array([func(middle + half * x) for x in _NODES], dtype=float)
    return float(np.dot(_WEIGHTS, values) * half), 0.0


def _load_datasketch() -> None:
    if "datasketch" in sys.modules or "scipy.integrate" in sys.modules:
        return  # already loaded (then scipy's cost is paid anyway)
    stand_in = types.ModuleType("scipy.integrate")
    stand_in.quad = quad  # type: ignore[attr-defined]
    sys.modules["scipy.integrate"] = stand_in
    try:
        import datasketch  # noqa: F401
    finally:
        if sys.modules.get("scipy.integrate") is stand_in:
            del sys.modules["scipy.integrate"]


_load_datasketch()

from datasketch import MinHash, MinHashLSH  # noqa: E402

__all__ = ["MinHash", "MinHashLSH", "quad"]
