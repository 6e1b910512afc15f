"""Benchmark: the polars engine vs Spark local[2] on one generated lake: rows/s of the summary
pass (binning + one summary) and of triage, each also as a ratio to one polars scan of the same
columns measured in the same run (the machine is shared; the ratio travels, seconds do not).

Usage::

    PYTHONPATH=. python benchmarks/bench_spark.py [--rows 10000000] [--master local[2]] [--no-triage]
    PYTHONPATH=. python benchmarks/bench_spark.py --llm [--rows 200000]   # an LLM call lake: summarize_llm

With ``--llm`` the lake is a generated LLM call lake (``generate_llm_lake``, support assistant with
retrieval, 14 days) and the pass is :func:`workbench.evidence.summarize_llm` (tallies and the text
signals of every call), polars against Spark, and triage on each.

The lake is generated once into benchmarks/out/ (git-ignored). Spark's session start is timed
apart; its first summary pass includes compiling the query (Spark caches the generated code, so
a second pass with the same bins is timed too). Figures go to docs/spark.md / benchmarks/README.md
by hand, with the command and the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"


def timed(fn, name=""):
    t0 = time.perf_counter()
    out = fn()
    took = time.perf_counter() - t0
    if name:
        print(f"{name}: {took:.1f} s", flush=True)
    return took, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--cause", default="data_drift")
    ap.add_argument("--no-triage", action="store_true")
    ap.add_argument("--llm", action="store_true", help="an LLM call lake (task: generation) and its summary")
    ap.add_argument("--shuffle-partitions", type=int, default=4,
                    help="spark.sql.shuffle.partitions (the groups are thousands: a few per core suffice)")
    args = ap.parse_args()
    if args.llm:
        return llm(args)

    import polars as pl

    from workbench.lake import open_lake
    from workbench.rca import triage
    from workbench.spark import spark_session
    from workbench.summaries import fit_lake_binning, summarize
    from workbench.synthetic import generate_lake
    from workbench.synthetic.truth import Truth

    root = OUT / f"spark-{args.cause}-{args.rows}"
    if not (root / "truth.json").exists():
        print(f"generating {args.rows:,} rows into {root} ...", flush=True)
        generate_lake(root, cause=args.cause, rows=args.rows, seed=7, n_numeric=4, n_categorical=2, overwrite=True)
    truth = Truth.from_dict(json.loads((root / "truth.json").read_text()))
    anchor = truth.onset or truth.start + (truth.end - truth.start) * 0.75
    since = anchor - dt.timedelta(hours=12)
    os.environ.setdefault("WORKBENCH_MASK_KEY", "bench")

    lp = open_lake(root)
    cols = [c for c in lp.schema if c in {"timestamp", "model_version", "route", "fallback", "latency_ms", "score",
                                          "prediction", *lp.numeric_features, *lp.categorical_features}]
    n = lp.profile().rows
    scan, _ = timed(lambda: lp.predictions(cols).select(pl.all().null_count()).collect(engine="streaming"), "scan")
    res: dict[str, float] = {"rows": n, "polars_scan_s": scan}
    res["polars_summary_s"], b = timed(lambda: summarize(lp, fit_lake_binning(lp)), "polars bins + summary")
    res["spark_session_s"], spark = timed(lambda: spark_session(args.master,
                                                                shuffle_partitions=args.shuffle_partitions), "session")
    spark.sparkContext.setLogLevel("ERROR")
    ls = open_lake(root, engine="spark", spark=spark)
    res["spark_summary_s"], bs = timed(lambda: summarize(ls, fit_lake_binning(ls)), "spark bins + summary")
    binning = bs.binning
    res["spark_summary_warm_s"], _ = timed(lambda: summarize(ls, binning), "spark summary again")
    res["polars_summary_only_s"], _ = timed(lambda: summarize(lp, binning), "polars summary again")
    if not args.no_triage:
        res["polars_triage_s"], fp = timed(lambda: triage(lp, since=since), "polars triage")
        res["spark_triage_s"], fs = timed(lambda: triage(ls, since=since), "spark triage")
        res["same_verdict"] = fp.verdict["cause"] == fs.verdict["cause"]
    print(f"\n{n:,} rows, {args.master}, one polars scan of the {len(cols)} summary columns: {scan:.2f} s")
    print(f"{'step':34} {'seconds':>9} {'rows/s':>12} {'x scan':>7}")
    for k, v in res.items():
        if k.endswith("_s"):
            print(f"{k[:-2]:34} {v:9.2f} {n / v:12,.0f} {v / scan:7.1f}")
    print(json.dumps(res))


def llm(args) -> None:
    """polars vs Spark on an LLM call lake: the LLM summary (first and warm) and triage."""
    import polars as pl

    from workbench.evidence.llm_calls import summarize_llm
    from workbench.lake import open_lake
    from workbench.rca import triage
    from workbench.spark import spark_session
    from workbench.synthetic import generate_llm_lake
    from workbench.synthetic.truth import Truth

    root = OUT / f"spark-llm-{args.rows}"
    if not (root / "truth.json").exists():
        print(f"generating {args.rows:,} LLM calls into {root} ...", flush=True)
        generate_llm_lake(root, cause="prompt_regression", rows=args.rows, seed=7, days=14, overwrite=True)
    truth = Truth.from_dict(json.loads((root / "truth.json").read_text()))
    since = (truth.onset or truth.end - dt.timedelta(days=2)) - dt.timedelta(hours=12)
    os.environ.setdefault("WORKBENCH_MASK_KEY", "bench")
    lp = open_lake(root)
    text = [c for c in ("prompt_text", "response_text", "context_text") if c in lp.schema]
    scan, _ = timed(lambda: lp.predictions(text).select(pl.col(text).str.len_bytes().sum())
                    .collect(engine="streaming"), "scan of the text columns")
    res: dict[str, float] = {"polars_scan_s": scan}
    res["polars_llm_summary_s"], a = timed(lambda: summarize_llm(lp), "polars LLM summary")
    n = a.calls
    res["spark_session_s"], spark = timed(lambda: spark_session(args.master,
                                                                shuffle_partitions=args.shuffle_partitions), "session")
    spark.sparkContext.setLogLevel("ERROR")
    ls = open_lake(root, engine="spark", spark=spark)
    res["spark_llm_summary_s"], _ = timed(lambda: summarize_llm(ls), "spark LLM summary")
    res["spark_llm_summary_warm_s"], _ = timed(lambda: summarize_llm(ls), "spark LLM summary again")
    if not args.no_triage:
        res["polars_triage_s"], fp = timed(lambda: triage(lp, since=since), "polars triage")
        res["spark_triage_s"], fs = timed(lambda: triage(ls, since=since), "spark triage")
        res["same_verdict"] = fp.verdict["cause"] == fs.verdict["cause"]
    print(f"\n{n:,} LLM calls, {args.master}, one polars scan of the {len(text)} text columns: {scan:.2f} s")
    print(f"{'step':34} {'seconds':>9} {'calls/s':>12} {'x scan':>7}")
    for k, v in res.items():
        if k.endswith("_s"):
            print(f"{k[:-2]:34} {v:9.2f} {n / v:12,.0f} {v / scan:7.1f}")
    print(json.dumps(res | {"calls": n}))


if __name__ == "__main__":
    main()
