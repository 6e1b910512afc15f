"""Benchmark: `triage` on a 200k-row and a 10M-row generated lake (time and peak memory).

Usage::

    python benchmarks/bench_triage.py [--sizes 200000,10000000] [--cause schema_mismatch]

Each triage runs in a fresh subprocess; peak memory is its VmHWM. The lakes are generated once
into benchmarks/out/ (git-ignored). Figures are recorded by hand in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).parent / "out"

CHILD = r"""
import json, sys, time
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
t0 = time.perf_counter()
import workbench as wb
steps = []
f = wb.triage(sys.argv[1], since=sys.argv[2], progress=lambda m: steps.append((round(time.perf_counter() - t0, 2), m)))
print(json.dumps({"seconds": time.perf_counter() - t0, "peak_mb": hwm(), "verdict": f.verdict,
                  "rows": f.window["rows"] + f.baseline["rows"], "steps": steps}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="200000,10000000")
    ap.add_argument("--cause", default="schema_mismatch")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    from workbench.synthetic import generate_lake
    from workbench.synthetic.truth import Truth

    res = {}
    for size in [int(x) for x in args.sizes.split(",") if x]:
        root = OUT / f"triage-{args.cause}-{size}"
        if not (root / "truth.json").exists():
            generate_lake(root, cause=args.cause, rows=size, seed=21, overwrite=True)
        truth = Truth.from_json(root / "truth.json")
        since = (truth.onset - dt.timedelta(hours=12)).isoformat()
        runs = []
        for _ in range(args.repeat):
            r = subprocess.run([sys.executable, "-c", CHILD, str(root), since], capture_output=True, text=True,
                               env={**os.environ, "WORKBENCH_MASK_KEY": "bench"})
            if r.returncode:
                raise SystemExit(r.stderr[-3000:])
            runs.append(json.loads(r.stdout.strip().splitlines()[-1]))
        best = min(runs, key=lambda r: r["seconds"])
        res[size] = best | {"seconds_all": [round(r["seconds"], 2) for r in runs],
                            "peak_mb": max(r["peak_mb"] for r in runs), "truth": truth.cause}
    print(json.dumps(res, indent=2, default=str))


if __name__ == "__main__":
    main()
