"""Benchmark: open a large lake and make one full scan of its columns.

Builds (once, cached under benchmarks/out/) a lake of ``--rows`` prediction rows with
``--numeric`` numeric features using the synthetic generator, then measures in fresh
subprocesses, so each peak RSS is that step's alone:

- ``open``: ``wb.open_lake`` (manifest, schemas, lineage, timestamp sample);
- ``scan``: open + one streaming pass over every column of ``lake.predictions()``
  (null counts of every column: timestamps parsed, sensitive columns masked);
- ``scan_plain``: the same without the sensitive columns (no masking);
- ``masked``: open + one pass reading only the sensitive columns of ``lake.predictions()``,
  masked (``anon:`` + HMAC-SHA256), summing their values' byte lengths so every value is made;
- ``unmasked``: the same columns read raw from the same files (``pl.scan_parquet``), the same sum:
  the cost of scanning them without masking. ``masked / unmasked`` is masking's price;
- ``profile``: open + ``lake.profile()``, the full validation (row counts per version and
  route, distinct request ids, null counts of every column, label coverage and lag);
- ``polars``: a bare ``pl.scan_parquet(...).select(pl.all().null_count())`` on the same files,
  the floor any loader pays;
- ``collect``: the in-memory size of the full table, computed from the schema and row count
  (what a non-streaming load would hold), to compare peaks against.

Usage::

    python benchmarks/bench_lake_scan.py [--rows 10000000] [--numeric 30] [--out benchmarks/out]

Steps run interleaved (each repeat runs every step once), so a machine whose load changes during
the run biases no step; the best of ``--repeat`` is kept. The ratios printed at the end (each step
over the bare polars scan, and masked over unmasked) are the figures to compare across machines;
each step's CPU seconds (all threads) are given too, steadier than wall time on a loaded machine.
Figures are recorded by hand in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, sys, time

def hwm_mb():
    # VmHWM, not ru_maxrss: ru_maxrss survives exec and would report the parent's peak.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

t0 = time.perf_counter()
import polars as pl
import workbench as wb
t_import = time.perf_counter() - t0
step, lake_path = sys.argv[1], sys.argv[2]
rss0 = hwm_mb()
import resource
ru = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = ru.ru_utime + ru.ru_stime
t0 = time.perf_counter()
out = {}
if step == "open":
    lake = wb.open_lake(lake_path)
elif step == "scan":
    lake = wb.open_lake(lake_path)
    res = lake.predictions().select(pl.len(), pl.all().null_count()).collect(engine="streaming")
    out["rows"] = res.item(0, 0)
    out["columns"] = res.width - 1
elif step == "scan_plain":
    lake = wb.open_lake(lake_path)
    lf = lake.predictions().select(pl.all().exclude(list(lake.sensitive)))
    res = lf.select(pl.len(), pl.all().null_count()).collect(engine="streaming")
    out["rows"] = res.item(0, 0)
    out["columns"] = res.width - 1
elif step in ("masked", "unmasked"):
    lake = wb.open_lake(lake_path)
    cols = sorted(lake.sensitive)
    if step == "masked":
        lf = lake.predictions(cols)
    else:
        lf = pl.scan_parquet(lake_path + "/predictions/**/*.parquet", hive_partitioning=True).select(cols)
    res = lf.select(pl.col(c).cast(pl.String).str.len_bytes().sum() for c in cols).collect(engine="streaming")
    out["columns"] = res.width
elif step == "profile":
    lake = wb.open_lake(lake_path)
    prof = lake.profile()
    out["rows"] = prof.rows
    out["columns"] = len(prof.null_counts)
elif step == "polars":
    res = pl.scan_parquet(lake_path + "/predictions/**/*.parquet", hive_partitioning=True).select(
        pl.len(), pl.all().null_count()).collect(engine="streaming")
    out["rows"] = res.item(0, 0)
elif step == "memsize":
    lake = wb.open_lake(lake_path)
    sample = lake.predictions().head(100_000).collect()
    n = lake.profile().rows
    out["bytes"] = sample.estimated_size() / sample.height * n
out["seconds"] = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
out["cpu_s"] = ru.ru_utime + ru.ru_stime - cpu0  # every thread's CPU: steadier than wall on a shared machine
out["peak_rss_mb"] = hwm_mb()
out["rss_before_mb"] = rss0
out["import_s"] = t_import
print(json.dumps(out))
"""


def _child(step: str, lake: Path) -> dict:
    env = {**os.environ, "WORKBENCH_MASK_KEY": "bench"}
    r = subprocess.run([sys.executable, "-c", CHILD, step, str(lake)], capture_output=True, text=True, env=env)
    if r.returncode:
        raise SystemExit(f"{step} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--numeric", type=int, default=30)
    ap.add_argument("--out", default=str(Path(__file__).parent / "out"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", default="open,scan,scan_plain,masked,unmasked,profile,polars",
                    help="comma-separated steps to measure")
    args = ap.parse_args()

    lake = Path(args.out) / f"lake-{args.rows}-{args.numeric}"
    if not (lake / "workbench.yaml").exists():
        from workbench.synthetic import generate_lake

        t0 = time.perf_counter()
        generate_lake(lake, rows=args.rows, n_numeric=args.numeric, seed=11, overwrite=True)
        print(f"generated {lake} in {time.perf_counter() - t0:.0f}s")
    disk = sum(p.stat().st_size for p in (lake / "predictions").rglob("*.parquet"))

    res = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
           "rows": args.rows, "numeric_features": args.numeric, "parquet_mb": disk / 2**20}
    steps = args.steps.split(",")
    all_runs: dict[str, list[dict]] = {step: [] for step in steps}
    for _ in range(args.repeat):
        for step in steps:
            all_runs[step].append(_child(step, lake))
    for step, runs in all_runs.items():
        best = min(runs, key=lambda r: r["seconds"])
        res[step] = {"seconds_best": best["seconds"], "seconds_all": [round(r["seconds"], 3) for r in runs],
                     "cpu_s_best": min(r["cpu_s"] for r in runs),
                     "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                     "rss_after_import_mb": best["rss_before_mb"]}
        if "columns" in best:
            res[step]["columns"] = best["columns"]
    res["in_memory_table_mb"] = _child("memsize", lake)["bytes"] / 2**20
    best = {step: res[step]["seconds_best"] for step in steps}
    if "polars" in best:
        res["ratio_to_polars_scan"] = {s: round(v / best["polars"], 2) for s, v in best.items()}
    if "masked" in best and "unmasked" in best:
        res["masked_over_unmasked"] = round(best["masked"] / best["unmasked"], 2)
        res["masked_over_unmasked_paired"] = [round(m["seconds"] / u["seconds"], 2)  # same repeat: same load
                                              for m, u in zip(all_runs["masked"], all_runs["unmasked"])]
        res["masked_over_unmasked_cpu"] = round(res["masked"]["cpu_s_best"] / res["unmasked"]["cpu_s_best"], 2)
    if "scan" in best and "scan_plain" in best:
        res["scan_over_scan_plain"] = round(best["scan"] / best["scan_plain"], 2)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
