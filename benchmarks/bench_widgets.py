"""Benchmark: Explorer responsiveness on a 1M-row lake — first load, then each control change.

Usage::

    python benchmarks/bench_widgets.py [--rows 1000000]
    python benchmarks/bench_widgets.py --generation [--rows 200000]   # the Explorer of an LLM lake

Runs outside Jupyter (the views render to SVG in the process, as in a kernel); a control change is
timed from setting the widget's value to the end of every redrawn view. Figures go to
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--generation", action="store_true", help="an LLM lake (task: generation)")
    args = ap.parse_args()
    if args.generation:
        return generation(args.rows or 200_000)
    args.rows = args.rows or 1_000_000
    import workbench as wb
    from workbench.synthetic import generate_lake

    root = OUT / f"widgets-{args.rows}"
    if not (root / "truth.json").exists():
        generate_lake(root, cause="latency_regression", rows=args.rows, seed=31, overwrite=True)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):  # Output widgets print outside a kernel
        t0 = time.perf_counter()
        ex = wb.Explorer(str(root))
        ex.widget  # the Explorer loads on first use
        first = time.perf_counter() - t0
        changes = []

        def timed(name, fn):
            t = time.perf_counter()
            fn()
            changes.append((name, time.perf_counter() - t))

        versions, routes, feats = ex.version.options, ex.route.options, ex.feature.options
        timed("version", lambda: setattr(ex.version, "value", versions[-1]))
        timed("route", lambda: setattr(ex.route, "value", routes[-1]))
        timed("feature", lambda: setattr(ex.feature, "value", feats[1]))
        timed("version back", lambda: setattr(ex.version, "value", versions[0]))
        lo, hi = ex.window.index
        timed("window", lambda: setattr(ex.window, "index", (lo + 12, hi)))
        timed("segment column (first use: one daily pass)", lambda: setattr(ex.segment, "value", ex.segment.options[1]))
        timed("segment value", lambda: setattr(ex.segment_value, "value", ex.segment_value.options[1]))
        timed("segment value 2", lambda: setattr(ex.segment_value, "value", ex.segment_value.options[2]))
    steady = [s for n, s in changes if "first use" not in n]
    print(json.dumps({"rows": args.rows, "first_load_s": round(first, 2), "model_load_s": round(ex.load_seconds, 2),
                      "changes_ms": {n: round(s * 1000) for n, s in changes},
                      "median_change_ms": round(statistics.median(steady) * 1000),
                      "max_change_ms": round(max(steady) * 1000),
                      "last_view_ms": {k: round(v * 1000) for k, v in ex.timings.items()}}, indent=1))


def generation(rows: int) -> None:
    """The Explorer of a generation lake: first load (one summary pass), then each control change."""
    import workbench as wb
    from workbench.synthetic.llm import generate_llm_lake

    root = OUT / f"widgets-llm-{rows}"
    if not (root / "truth.json").exists():
        generate_llm_lake(root, cause="prompt_regression", rows=rows, seed=31, overwrite=True)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        t0 = time.perf_counter()
        ex = wb.Explorer(str(root))
        ex.widget
        first = time.perf_counter() - t0
        changes = []

        def timed(name, fn):
            t = time.perf_counter()
            fn()
            changes.append((name, time.perf_counter() - t))

        proxies = [v for _, v in ex.proxy.options]
        splits = [v for _, v in ex.split.options]
        timed("metric", lambda: setattr(ex.proxy, "value", "cost_per_call" if "cost_per_call" in proxies
                                        else proxies[-1]))
        timed("metric (sampled proxy)", lambda: setattr(ex.proxy, "value", "grounded_share" if "grounded_share"
                                                        in proxies else proxies[0]))
        timed("split by response model", lambda: setattr(ex.split, "value", "response_model" if "response_model"
                                                         in splits else splits[-1]))
        timed("split by index build", lambda: setattr(ex.split, "value", "index_version" if "index_version"
                                                      in splits else splits[-1]))
        timed("release", lambda: setattr(ex.release, "value", ex.release.options[-1]))
        lo, hi = ex.window.index
        timed("time range", lambda: setattr(ex.window, "index", (lo + 24, hi)))
        timed("sample 25 calls (reads the lake)", lambda: ex.sample(25))
    steady = [s for n, s in changes if "reads the lake" not in n]
    print(json.dumps({"rows": rows, "task": "generation", "first_load_s": round(first, 2),
                      "model_load_s": round(ex.load_seconds, 2),
                      "changes_ms": {n: round(s * 1000) for n, s in changes},
                      "median_change_ms": round(statistics.median(steady) * 1000),
                      "max_change_ms": round(max(steady) * 1000),
                      "last_view_ms": {k: round(v * 1000) for k, v in ex.timings.items()}}, indent=1))


if __name__ == "__main__":
    main()
