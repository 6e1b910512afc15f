"""Benchmark: how long `workbench report` takes to refuse bad inputs (they are checked before any kernel
starts or any triage runs, so a refusal should cost an import and a manifest read, not a report).

Usage::

    python benchmarks/bench_report_refusal.py [--runs 5]

Generates a small lake into benchmarks/out/ (git-ignored) and times, in fresh subprocesses, the CLI
refusing an --out that is inside the lake and a --param that is not a date. Prints the median seconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    lake = OUT / "refusal-lake"
    if not lake.exists():
        from workbench.synthetic import generate_lake

        generate_lake(lake, cause="none", rows=20_000, seed=11)
    cases = {"out inside the lake": ["--param", "since=2026-03-02T00:00Z", "--out", str(lake / "report")],
             "ill-typed since": ["--param", "since=yesterday-ish", "--out", str(OUT / "refusal-out")]}
    for name, extra in cases.items():
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "workbench", "report", "incident-triage", "--lake", str(lake),
                                *extra], capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            assert r.returncode == 2, (name, r.returncode, r.stderr[-500:])
        print(f"{name}: refused (exit 2) in a median {statistics.median(times):.2f} s over {args.runs} runs "
              f"(process start and imports included)")


if __name__ == "__main__":
    main()
