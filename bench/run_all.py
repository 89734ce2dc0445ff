"""Run every bench/bench_*.py in turn, each in its own process (`make bench`).

    python bench/run_all.py [--quick]

--quick passes --quick to each script: a small smoke run that checks the harness
works, not figures to quote. A script that fails does not stop the others; the exit
status is non-zero when any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run of each bench")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    failed = []
    for script in scripts:
        command = [sys.executable, str(script), *(["--quick"] if args.quick else [])]
        print(f"\n== {script.name} {'(quick)' if args.quick else ''}", flush=True)
        started = time.perf_counter()
        code = subprocess.run(command, cwd=HERE.parent, check=False).returncode
        print(
            f"== {script.name}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True
        )
        if code != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
