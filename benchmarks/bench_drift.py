"""Benchmark: per-feature drift on 1M baseline + 1M window rows, against a bare polars scan and
Evidently's DataDriftPreset; and summaries of 1M / 3M / 10M-row lakes.

Usage::

    python benchmarks/bench_drift.py [--rows 1000000] [--skip-evidently] [--scaling 1000000,3000000,10000000]

Every measurement runs in a fresh subprocess; peak memory is its VmHWM. Each step is timed against
one polars scan of the same lake's feature columns (values read), run alternately in the same run,
as ratios of wall and of CPU time (all threads; steadier on a shared machine). Imports (polars for
the scan; workbench, polars, scipy for drift) happen before the clock starts and are reported as
``import_s``. Evidently runs in its own
virtual environment (benchmarks/out/evidently-venv, created on first use) so it never touches the
project's dependencies. Figures are recorded by hand in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import yaml

OUT = Path(__file__).parent / "out"
NUMERIC, CATEGORICAL = 20, 5

CHILD = r"""
import json, sys, time

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

step, lake, split = sys.argv[1], sys.argv[2], sys.argv[3]
import polars as pl
ti = time.perf_counter()
if step != "scan":  # imported before the clock starts, as polars is for the scan; timed on its own
    import workbench as wb
    from workbench.evidence import detect_drift
    from workbench.summaries import fit_lake_binning, summarize
    import scipy.stats  # noqa: F401 - workbench loads it on first use (evidence/_scipy.py): an import cost
out = {"import_s": time.perf_counter() - ti}
t0, c0 = time.perf_counter(), time.process_time()
if step == "scan":  # one polars scan of the lake's feature columns
    import yaml
    features = yaml.safe_load(open(lake + "/workbench.yaml"))["features"]
    num, cat = features.get("numeric", []), features.get("categorical", [])
    # values are read (sums, string lengths): null counts alone come from Parquet statistics
    res = pl.scan_parquet(lake + "/predictions/**/*.parquet", hive_partitioning=False).select(
        pl.len(), pl.col(num).sum(), pl.col(cat).cast(pl.String).str.len_bytes().sum()).collect(engine="streaming")
    out["rows"] = res.item(0, 0)
elif step == "drift":
    lk = wb.open_lake(lake)
    b = fit_lake_binning(lk, end=split)
    t1 = time.perf_counter()
    base, win = summarize(lk, b, end=split, bucket="1d"), summarize(lk, b, start=split, bucket="1d")
    t2 = time.perf_counter()
    res = detect_drift(base, win)
    out.update(binning_s=t1 - t0, summaries_s=t2 - t1, detect_s=time.perf_counter() - t2,
               drifted=[f.feature for f in res.drifted], rows=base.rows + win.rows)
elif step == "summaries":
    lk = wb.open_lake(lake)
    b = fit_lake_binning(lk, end=split)
    t1 = time.perf_counter()
    s = summarize(lk, b)
    out.update(binning_s=t1 - t0, summaries_s=time.perf_counter() - t1, rows=s.rows, groups=s.table.height,
               columns=s.table.width)
out["seconds"] = time.perf_counter() - t0
out["cpu_s"] = time.process_time() - c0  # all threads: steadier than wall time on a busy machine
out["peak_mb"] = hwm()
print(json.dumps(out))
"""

EVIDENTLY = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

import pandas as pd
lake, split = sys.argv[1], sys.argv[2]
df = pd.read_parquet(lake + "/predictions")
cols = [c for c in df.columns if c.startswith(("num_", "cat_"))]
ts = pd.Timestamp(split)
ref, cur = df.loc[df.timestamp < ts, cols], df.loc[df.timestamp >= ts, cols]
del df
t0 = time.perf_counter()
try:
    from evidently import Report
    from evidently.presets import DataDriftPreset
    report = Report([DataDriftPreset()])
    snap = report.run(current_data=cur, reference_data=ref)
    result = snap.dict()
except ImportError:  # evidently < 0.7
    from evidently.report import Report
    from evidently.metric_preset import DataDriftPreset
    report = Report(metrics=[DataDriftPreset()])
    report.run(reference_data=ref, current_data=cur)
    result = report.as_dict()
import evidently
print(json.dumps({"seconds": time.perf_counter() - t0, "peak_mb": hwm(), "version": evidently.__version__,
                  "rows": len(ref) + len(cur)}))
"""


def build_lake(root: Path, rows: int, seed: int = 0) -> str:
    """A plain lake: ``rows`` over 14 days, 20 numeric + 5 categorical features; drift in 3
    numeric and 1 categorical feature in the second week. Returns the split time."""
    start = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    split = start + dt.timedelta(days=7)
    if (root / "workbench.yaml").exists():
        return split.isoformat()
    rng = np.random.default_rng(seed)
    (root / "predictions").mkdir(parents=True)
    per_part = 250_000
    for part, lo in enumerate(range(0, rows, per_part)):
        n = min(per_part, rows - lo)
        t = (lo + np.arange(n)) / rows * 14 * 86400  # evenly spread over the 14 days
        late = t >= 7 * 86400
        cols = {"request_id": [f"r{lo + i}" for i in range(n)],
                "timestamp": pl.Series((start.timestamp() + t) * 1e6).cast(pl.Int64).cast(pl.Datetime("us", "UTC")),
                "model_version": ["1.0"] * n, "score": rng.uniform(0, 1, n)}
        for j in range(NUMERIC):
            x = rng.lognormal(3 + 0.1 * j, 0.6, n) if j % 2 else rng.normal(50 + j, 10, n)
            if j < 3:
                x = np.where(late, x * (1.2 + 0.1 * j), x)
            cols[f"num_{j:02d}"] = x
        for j in range(CATEGORICAL):
            p = np.array([0.4, 0.3, 0.15, 0.1, 0.05])
            c = rng.choice(5, size=n, p=p)
            if j == 0:
                c = np.where(late & (rng.random(n) < 0.3), 4, c)
            cols[f"cat_{j}"] = np.array(["a", "b", "c", "d", "e"])[c]
        pl.DataFrame(cols).write_parquet(root / "predictions" / f"part-{part:03d}.parquet")
    (root / "workbench.yaml").write_text(yaml.safe_dump({
        "name": "drift-bench", "features": {"numeric": [f"num_{j:02d}" for j in range(NUMERIC)],
                                             "categorical": [f"cat_{j}" for j in range(CATEGORICAL)]}}))
    return split.isoformat()


def run(code: str, *args, python: str = sys.executable) -> dict:
    r = subprocess.run([python, "-c", code, *map(str, args)], capture_output=True, text=True,
                       env={**os.environ, "WORKBENCH_MASK_KEY": "bench"})
    if r.returncode:
        raise SystemExit(r.stderr[-3000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows per side (baseline and window)")
    ap.add_argument("--skip-evidently", action="store_true")
    ap.add_argument("--scaling", default="", help="comma-separated lake sizes for the summaries scaling run")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    lake = OUT / f"drift-{args.rows}"
    split = build_lake(lake, 2 * args.rows)
    res: dict = {"rows_per_side": args.rows, "machine": machine()}
    res.update(against_scan(lake, split, "drift", args.repeat))
    if not args.skip_evidently:
        venv = OUT / "evidently-venv"
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            # evidently 0.7 does not run on pandas 3
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "evidently", "pyarrow", "pandas<3"], check=True)
        ev = run(EVIDENTLY, lake, split, python=str(venv / "bin" / "python"))
        res["evidently"] = ev
        res["evidently_over_workbench"] = ev["seconds"] / res["drift"]["seconds"]
    for size in [int(x) for x in args.scaling.split(",") if x]:
        from workbench.synthetic import generate_lake

        root = OUT / f"lake-{size}-30"
        if not (root / "workbench.yaml").exists():
            generate_lake(root, rows=size, n_numeric=30, seed=11, overwrite=True)
        mid = json.loads((root / "truth.json").read_text())["start"]
        split_s = (dt.datetime.fromisoformat(mid.replace("Z", "+00:00")) + dt.timedelta(days=7)).isoformat()
        res[f"lake_{size}"] = against_scan(root, split_s, "summaries", max(1, args.repeat - 1))
    if args.scaling:
        res["scaling"] = [{"rows": size, "scan_s": round(r["scan"]["seconds"], 2),
                           "summaries_s": round(r["summaries"]["seconds"], 2),
                           "over_scan": round(r["summaries_over_scan"], 2),
                           "cpu_over_scan": round(r["summaries_cpu_over_scan"], 2),
                           "peak_mb": round(r["summaries"]["peak_mb"])}
                          for size in [int(x) for x in args.scaling.split(",") if x] for r in [res[f"lake_{size}"]]]
    print(json.dumps(res, indent=2, default=str))


def against_scan(lake: Path, split: str, step: str, repeat: int) -> dict:
    """``step`` and one polars scan of the same feature columns, run alternately ``repeat`` times
    (so both see the same load), each best of its runs; the ratios of wall and CPU time."""
    runs: dict[str, list[dict]] = {"scan": [], step: []}
    for _ in range(repeat):
        for name in runs:
            runs[name].append(run(CHILD, name, lake, split))
    res = {}
    for name, rs in runs.items():
        best = min(rs, key=lambda r: r["seconds"])
        res[name] = best | {"seconds_all": [round(r["seconds"], 2) for r in rs],
                            "cpu_s_min": min(r["cpu_s"] for r in rs), "peak_mb": max(r["peak_mb"] for r in rs)}
    res[f"{step}_over_scan"] = res[step]["seconds"] / res["scan"]["seconds"]
    res[f"{step}_cpu_over_scan"] = res[step]["cpu_s_min"] / res["scan"]["cpu_s_min"]
    res[f"{step}_with_import_over_scan"] = (res[step]["seconds"] + res[step]["import_s"]) / res["scan"]["seconds"]
    return res


def machine() -> dict:
    """Cores and the load average when the run started (the machine may be shared)."""
    return {"cores": os.cpu_count(), "loadavg": os.getloadavg(), "polars": pl.__version__}


if __name__ == "__main__":
    main()
