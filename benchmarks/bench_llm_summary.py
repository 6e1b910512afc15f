"""Benchmark: the one-pass LLM-call summary (``workbench.summaries.generation.summarize_calls``
with the text signals) over 1M calls with ~1 KB of text each.

Reads the Parquet calls ``bench_genai.py`` generates (``benchmarks/out/genai-<rows>/``; run that
first), adds the group keys a real lake carries (release, provider, requested and answering model,
prompt version, index version, finish reason, policy action — derived from a hash of the request id,
so the groups are realistic in number: 2 x 2 x 3 x 4 x 3) in the same lazy scan, and times the whole
summary in a fresh process under ``/usr/bin/time -v`` (wall time and peak RSS, imports included).

Usage::

    python benchmarks/bench_llm_summary.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import sys, time, datetime as dt
import polars as pl
from workbench.evidence.llm_text import signal_exprs
from workbench.summaries.generation import summarize_calls
t0 = time.perf_counter()
lf = pl.scan_parquet(sys.argv[1] + "/*.parquet")
h = pl.col("request_id").hash(3)
lf = lf.with_columns(
    pl.when(h % 2 == 0).then(pl.lit("app-1.4")).otherwise(pl.lit("app-1.5")).alias("model_version"),
    pl.lit("primary").alias("route"),
    pl.when(h % 5 == 0).then(pl.lit("anthropic")).otherwise(pl.lit("openai")).alias("provider"),
    pl.when(h % 3 == 0).then(pl.lit("gpt-4o")).otherwise(pl.lit("gpt-4o-mini")).alias("request_model"),
    pl.format("snap-{}", h % 3).alias("response_model"),
    pl.lit("answer").alias("prompt_template"), (h % 4).cast(pl.String).alias("prompt_version"),
    pl.format("kb@v{}", h % 3).alias("index_version"),
    pl.when(h % 20 == 0).then(pl.lit("length")).otherwise(pl.lit("stop")).alias("finish_reason"),
    pl.when(h % 50 == 0).then(pl.lit("blocked")).otherwise(pl.lit("allowed")).alias("policy_action"),
    ((h % 7).cast(pl.Float64) - 3).clip(-1, 1).alias("feedback"),
)
names = lf.collect_schema().names()
signals = signal_exprs(names) + [(pl.col("output_tokens") / pl.col("input_tokens")).alias("output_input_ratio")]
lo, hi = lf.select(pl.col("timestamp").min().alias("lo"), pl.col("timestamp").max().alias("hi")).collect().row(0)
t1 = time.perf_counter()
s = summarize_calls(lf, start=lo, end=hi + dt.timedelta(seconds=1), signals=signals)
t2 = time.perf_counter()
print(f"calls={s.calls} groups={s.frame.height} latency_rows={s.latency.height} summary_s={t2 - t1:.2f} "
      f"total_s={t2 - t0:.2f}")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data = Path(__file__).parent / "out" / f"genai-{args.rows}"
    if not data.exists():
        sys.exit(f"no data at {data}: run `python benchmarks/bench_genai.py --rows {args.rows}` first")
    for i in range(args.repeat):
        r = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", CHILD, str(data)], capture_output=True,
                           text=True)
        if r.returncode != 0:
            sys.exit(r.stderr[-2000:])
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
        wall = re.search(r"Elapsed \(wall clock\) time.*: (.+)", r.stderr)
        print(f"run {i + 1}: {r.stdout.strip()} wall={wall.group(1) if wall else '?'} "
              f"peak_rss_mb={int(rss.group(1)) / 1024:.0f}" if rss else "")


if __name__ == "__main__":
    main()
