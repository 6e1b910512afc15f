"""Benchmark: repeated request ids of a lake (``workbench.evidence.slis.duplicate_rows``, triage's
capture stage) against the grouping it replaced (a hash set of every id), time and peak memory.

Usage::

    python benchmarks/bench_duplicates.py LAKE [--repeat 2]

Each measurement runs in a fresh process (peak = its VmHWM) over every row of the lake's
predictions (``request_id``, ``timestamp``, ``route``), the two ways alternately.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, sys, time
import polars as pl
import workbench as wb
from workbench.evidence.slis import duplicate_rows

def by_hash_set(ids):  # the grouping duplicate_rows did before: n_unique, then group_by over every id
    h = pl.col("request_id").hash()
    dup = (ids.group_by(h.alias("__h"))
           .agg(pl.len().alias("k"), pl.col("timestamp").min().dt.truncate("1h").alias("bucket"),
                pl.col("route").sort_by("timestamp").first().alias("route"))
           .filter(pl.col("k") > 1)
           .group_by("bucket", "route").agg((pl.col("k") - 1).sum().cast(pl.Float64).alias("dup")))
    distinct, rows = ids.select(h.n_unique(), pl.len()).collect(engine="streaming").row(0)
    return pl.DataFrame(schema=dup.collect_schema()) if distinct == rows else dup.collect(engine="streaming")

how, lake = sys.argv[1], sys.argv[2]
lk = wb.open_lake(lake)
ids = lk.predictions(["request_id", "timestamp", "route"])
t0, c0 = time.perf_counter(), time.process_time()
d = duplicate_rows(ids) if how == "sorted" else by_hash_set(ids)
hwm = [int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
print(json.dumps({"how": how, "seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                  "peak_mb": hwm, "repeated_rows": float(d["dup"].sum()) if d.height else 0.0}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lake")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    for _ in range(args.repeat):
        for how in ("hash_set", "sorted"):
            r = subprocess.run([sys.executable, "-c", CHILD, how, args.lake], capture_output=True, text=True)
            if r.returncode:
                raise SystemExit(r.stderr[-3000:])
            print(json.dumps(json.loads(r.stdout.strip().splitlines()[-1])), flush=True)


if __name__ == "__main__":
    main()
