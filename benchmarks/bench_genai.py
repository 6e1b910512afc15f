"""Benchmark: the per-row LLM text signals in one streaming summary pass over 1M calls.

Builds (once, cached under benchmarks/out/) a Parquet table of ``--rows`` LLM calls with about
1 KB of text each (prompt ~150 chars, response ~400, retrieved context ~500, made of sentences over
a 3,000-word vocabulary, with refusals and ``[doc-id]`` citations mixed in), retrieved ids and
scores, tokens, cost and latency. Then, each step in a fresh subprocess under ``/usr/bin/time -v``
(wall time and peak RSS of the whole process, imports included):

- ``signals``: ``scan_parquet(...).with_columns(signal_exprs(...)).group_by(hour).agg(sums)``, the
  shape of the lead's one-pass summary (every signal summed or counted per hour, plus tokens, cost
  and latency sums);
- ``grounded_all``: the same with ``grounded_share`` on every row (``grounded_sample=1.0``; the
  default computes it on a hashed eighth of the rows);
- ``no_grounded``: the same without ``grounded_share`` (its word sets are the costly part);
- ``detectors`` (not in the default steps): the sampled row detectors of
  :mod:`workbench.evidence.llm_rows` and :mod:`~workbench.evidence.llm_topics` with days 1-3 as
  the baseline and days 5-7 as the window (each samples <= 20k rows a side from the scan);
- ``floor``: the same group-by over the same columns with only string lengths and list lengths
  (what reading and decoding the text costs, no regex);

Usage::

    python benchmarks/bench_genai.py [--rows 1000000] [--repeat 3] [--steps signals,grounded_all,no_grounded,floor]

Figures are recorded by hand in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import polars as pl
from workbench.evidence.llm_text import GROUNDED_SAMPLE, signal_exprs
step, path = sys.argv[1], sys.argv[2]
lf = pl.scan_parquet(path + "/*.parquet")
names = lf.collect_schema().names()
hour = pl.col("timestamp").dt.truncate("1h").alias("hour")
base = [pl.len().alias("n"), pl.col("input_tokens").sum(), pl.col("output_tokens").sum(),
        pl.col("cost").sum(), pl.col("latency_ms").sum()]
if step in ("signals", "no_grounded", "grounded_all"):
    exprs = signal_exprs(names, grounded_sample=1.0 if step == "grounded_all" else GROUNDED_SAMPLE)
    if step == "no_grounded":
        exprs = [e for e in exprs if e.meta.output_name() != "grounded_share"]
    outs = [e.meta.output_name() for e in exprs]
    aggs = base + [pl.col(c).sum().alias(c + "_sum") for c in outs] + [pl.col(c).count().alias(c + "_n") for c in outs]
    q = lf.with_columns(exprs).group_by(hour).agg(aggs)
elif step == "detectors":
    from workbench.evidence.llm_rows import leaked_pii, reask_rate, refusal_similarity, unsupported_sentence_rate
    from workbench.evidence.llm_topics import new_topics
    day = pl.col("timestamp").dt.day()
    base, win = lf.filter(day <= 3), lf.filter(day >= 5)
    times = {}
    for name, run in [("refusal_similarity", lambda: refusal_similarity(win, base)),
                      ("unsupported_sentence_rate", lambda: unsupported_sentence_rate(win, base)),
                      ("reask_rate", lambda: reask_rate(win, base)), ("leaked_pii", lambda: leaked_pii(win)),
                      ("new_topics", lambda: new_topics(base, win))]:
        t1 = time.perf_counter()
        r = run()
        times[name] = round(time.perf_counter() - t1, 2)
        times[name + "_flagged"] = bool(r.flagged)
    print(json.dumps({"seconds": time.perf_counter() - t0, "hours": 0, "rows": 0, **times}))
    sys.exit(0)
else:
    exprs = [pl.col(c).str.len_bytes().alias(c + "_len") for c in ("prompt_text", "response_text", "context_text")]
    exprs += [pl.col("retrieved_ids").list.len().alias("ids_len"), pl.col("retrieval_scores").list.max().alias("top")]
    outs = [e.meta.output_name() for e in exprs]
    q = lf.with_columns(exprs).group_by(hour).agg(base + [pl.col(c).sum() for c in outs])
res = q.collect(engine="streaming")
print(json.dumps({"seconds": time.perf_counter() - t0, "hours": res.height, "rows": int(res["n"].sum())}))
"""


def generate(path: Path, rows: int, *, seed: int = 7, files: int = 10) -> None:
    """Write ``rows`` synthetic LLM calls as ``files`` Parquet files under ``path``."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, size=rng.integers(3, 10))) for _ in range(3000)]
    zipf = 1 / np.arange(1, len(vocab) + 1) ** 0.9
    zipf /= zipf.sum()

    def sentences(k: int) -> pl.Series:
        words = np.array(vocab)[rng.choice(len(vocab), size=(k, 15), p=zipf)]
        lengths = rng.integers(8, 16, k)
        return pl.Series([" ".join(w[:m]).capitalize() + "." for w, m in zip(words, lengths)])

    pool = sentences(20_000)
    refusals = pl.Series(["I'm sorry, but I can't help with that request.",
                          "I cannot help with account deletion for other users.",
                          "Unfortunately that is something I won't be able to do for you."])
    path.mkdir(parents=True, exist_ok=True)
    per = rows // files
    t0 = np.datetime64("2026-03-01T00:00:00", "us")
    for f in range(files):
        n = per if f < files - 1 else rows - per * (files - 1)

        def pick(k: int) -> pl.Expr:
            return pl.concat_str([pl.lit(pool.gather(rng.integers(0, len(pool), n))) for _ in range(k)],
                                 separator=" ")

        ndocs = rng.integers(0, 6, n)
        ids = [[f"doc-{d}" for d in rng.integers(0, 50_000, k)] for k in ndocs]
        scores = [sorted(rng.random(k).round(4).tolist(), reverse=True) for k in ndocs]
        shared = pl.Series(pool.gather(rng.integers(0, len(pool), n)))
        cite = np.where(rng.random(n) < 0.3, [" [" + (i[0] if i else "doc-0") + "]" for i in ids], "")
        refuse = rng.random(n) < 0.02
        frame = pl.DataFrame({
            "request_id": [f"r{f:02d}-{i:07d}" for i in range(n)],
            "conversation_id": [f"c{f:02d}-{i // 3:07d}" for i in range(n)],
            "timestamp": (t0 + np.sort(rng.integers(0, 7 * 86400, n)).astype("timedelta64[s]")).astype("datetime64[us]"),
            "input_tokens": rng.integers(50, 2000, n), "output_tokens": rng.integers(10, 600, n),
            "cost": rng.random(n) / 100, "latency_ms": rng.gamma(2.0, 400.0, n),
            "retrieved_ids": pl.Series(ids, dtype=pl.List(pl.String)),
            "retrieval_scores": pl.Series(scores, dtype=pl.List(pl.Float64)),
            "shared": shared, "cite": cite, "refuse": refuse,
        }).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))
        frame = frame.with_columns(
            prompt_text=pick(1),
            response_text=pl.when(pl.col("refuse")).then(pl.lit(refusals.gather(rng.integers(0, 3, n))))
            .otherwise(pl.concat_str([pick(2), pl.col("shared"), pick(1), pl.col("cite")], separator=" ")),
            context_text=pl.concat_str([pick(2), pl.col("shared"), pick(3)], separator=" "),
        ).drop("shared", "cite", "refuse")
        frame.write_parquet(path / f"part-{f:02d}.parquet")


def _child(step: str, path: Path) -> dict:
    cmd = ["/usr/bin/time", "-v", sys.executable, "-c", CHILD, step, str(path)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode:
        raise SystemExit(f"{step} failed:\n{r.stderr}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", r.stderr)
    parts = [float(x) for x in wall.group(1).split(":")]
    out["wall_s"] = sum(x * 60 ** i for i, x in enumerate(reversed(parts)))
    out["peak_rss_mb"] = int(rss.group(1)) / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", default=str(Path(__file__).parent / "out"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", default="signals,grounded_all,no_grounded,floor")
    args = ap.parse_args()

    path = Path(args.out) / f"genai-{args.rows}"
    if not any(path.glob("*.parquet")):
        t0 = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    import polars as pl

    lf = pl.scan_parquet(str(path / "*.parquet"))
    text = lf.select(*(pl.col(c).str.len_bytes().sum() for c in ("prompt_text", "response_text", "context_text")),
                     pl.len()).collect()
    res = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                      f"polars {pl.__version__}",
           "rows": text["len"][0], "text_bytes_per_row": sum(text.row(0)[:3]) / text["len"][0],
           "parquet_mb": sum(p.stat().st_size for p in path.glob("*.parquet")) / 2**20}
    for step in args.steps.split(","):
        runs = [_child(step, path) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["wall_s"])
        res[step] = {"wall_s_best": best["wall_s"], "wall_s_all": [r["wall_s"] for r in runs],
                     "query_s_best": min(r["seconds"] for r in runs),
                     "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "hours": best["hours"],
                     **{k: v for k, v in best.items() if k not in ("seconds", "hours", "rows", "wall_s", "peak_rss_mb")}}
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
