"""Benchmark: Explorer responsiveness on a 1M-row lake — first load, then each control change.

Usage::

    python benchmarks/bench_widgets.py [--rows 1000000] [--cycles 5]
    python benchmarks/bench_widgets.py --generation [--rows 200000] [--cycles 5]   # an LLM lake

Runs outside Jupyter, in one process as in a kernel. A control change is timed from setting the
widget's value to the end of every redrawn view: frames from the cached summaries, charts built,
specs handed to the JupyterChart widgets and JSON-encoded as a kernel would send them (the comm
here encodes every message; the browser then draws). The changes run ``--cycles`` times, each cycle
with other values (another version, route, window ...), and the figures are the median, 95th
percentile and maximum over every change (wall clock and this process's CPU time), with the
load average of the machine before and after: the machine is shared, so the CPU time says what
the change itself costs. ``cold`` counts only changes to a selection not seen before in the run.
Figures go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"


def _json_comm() -> None:
    """Outside a kernel ipywidgets' comm drops messages; this one JSON-encodes them, as the kernel
    does before sending, so the cost of sending a spec is counted."""
    import comm

    class JsonComm(comm.DummyComm):
        def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
            json.dumps(data, default=str)

    comm.create_comm = lambda *a, **k: JsonComm(*a, **k)


class Timer:
    """Times control changes: wall clock and process CPU per change, and whether the selection
    was seen before in the run."""

    def __init__(self, ex, skip_word: str) -> None:
        self.ex, self.skip_word, self.changes, self.seen = ex, skip_word, [], {repr(ex.selection)}

    def __call__(self, name: str, fn) -> None:
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        sel = repr(self.ex.selection)
        self.changes.append((name, wall, cpu, sel not in self.seen))
        self.seen.add(sel)

    def report(self, **head) -> dict:
        steady = [c for c in self.changes if self.skip_word not in c[0]]

        def stats(xs):
            xs = sorted(x * 1000 for x in xs)
            if not xs:
                return {}
            p95 = xs[min(len(xs) - 1, max(0, round(0.95 * len(xs) + 0.5) - 1))]  # nearest rank
            return {"n": len(xs), "median": round(statistics.median(xs)), "p95": round(p95), "max": round(xs[-1])}

        first = {}
        for name, wall, cpu, _ in self.changes:
            first.setdefault(name, (round(wall * 1000), round(cpu * 1000)))
        return {**head, "load_average_1m": [round(x, 1) for x in self.load],
                "first_cycle_ms_wall_cpu": first,
                "wall_ms": stats([c[1] for c in steady]), "cpu_ms": stats([c[2] for c in steady]),
                "cold_wall_ms": stats([c[1] for c in steady if c[3]]),
                "last_view_ms": {k: round(v * 1000) for k, v in self.ex.timings.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--cycles", type=int, default=5, help="how many times to run the control changes")
    ap.add_argument("--generation", action="store_true", help="an LLM lake (task: generation)")
    args = ap.parse_args()
    _json_comm()
    if args.generation:
        return generation(args.rows or 200_000, args.cycles)
    rows = args.rows or 1_000_000
    import workbench as wb
    from workbench.synthetic import generate_lake

    root = OUT / f"widgets-{rows}"
    if not (root / "truth.json").exists():
        generate_lake(root, cause="latency_regression", rows=rows, seed=31, overwrite=True)
    load0 = os.getloadavg()[0]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):  # Output widgets print outside a kernel
        t0 = time.perf_counter()
        ex = wb.Explorer(str(root))
        ex.widget  # the Explorer loads on first use
        first = time.perf_counter() - t0
        timed = Timer(ex, "first use")
        versions, routes, feats = ex.version.options, ex.route.options, ex.feature.options
        lo, hi = ex.window.index
        for i in range(args.cycles):
            timed("version", lambda: setattr(ex.version, "value", versions[1 + i % (len(versions) - 1)]))
            timed("route", lambda: setattr(ex.route, "value", routes[1 + i % (len(routes) - 1)]))
            timed("feature", lambda: setattr(ex.feature, "value", feats[1 + i % (len(feats) - 1)]))
            timed("version back", lambda: setattr(ex.version, "value", versions[0]))
            timed("route back", lambda: setattr(ex.route, "value", routes[0]))
            timed("window", lambda: setattr(ex.window, "index", (lo + 6 * (i + 1), hi - i)))
            timed("baseline", lambda: setattr(ex.baseline, "index", (ex.baseline.index[0] + 1, ex.baseline.index[1])))
            if i == 0:
                timed("segment column (first use: one daily pass)",
                      lambda: setattr(ex.segment, "value", ex.segment.options[1]))
            vals = ex.segment_value.options
            timed("segment value", lambda: setattr(ex.segment_value, "value", vals[1 + i % (len(vals) - 1)]))
            timed("segment value 2", lambda: setattr(ex.segment_value, "value", vals[1 + (i + 1) % (len(vals) - 1)]))
            timed("segment value all", lambda: setattr(ex.segment_value, "value", vals[0]))
    timed.load = (load0, os.getloadavg()[0])
    print(json.dumps(timed.report(rows=rows, cycles=args.cycles, first_load_s=round(first, 2),
                                  model_load_s=round(ex.load_seconds, 2)), indent=1))


def generation(rows: int, cycles: int) -> None:
    """The Explorer of a generation lake: first load (one summary pass), then each control change."""
    import workbench as wb
    from workbench.synthetic.llm import generate_llm_lake

    root = OUT / f"widgets-llm-{rows}"
    if not (root / "truth.json").exists():
        generate_llm_lake(root, cause="prompt_regression", rows=rows, seed=31, overwrite=True)
    load0 = os.getloadavg()[0]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        t0 = time.perf_counter()
        ex = wb.Explorer(str(root))
        ex.widget
        first = time.perf_counter() - t0
        timed = Timer(ex, "reads the lake")
        proxies = [v for _, v in ex.proxy.options]
        splits = [v for _, v in ex.split.options]
        releases = ex.release.options
        lo, hi = ex.window.index

        def pick(options, preferred, i):
            return preferred if i == 0 and preferred in options else options[i % len(options)]

        for i in range(cycles):
            timed("metric", lambda: setattr(ex.proxy, "value", pick(proxies, "cost_per_call", i)))
            timed("metric (sampled proxy)", lambda: setattr(ex.proxy, "value", pick(proxies, "grounded_share", i + 1)))
            timed("split", lambda: setattr(ex.split, "value", pick(splits, "response_model", i + 2)))
            timed("split 2", lambda: setattr(ex.split, "value", pick(splits, "index_version", i + 3)))
            timed("release", lambda: setattr(ex.release, "value", releases[1 + i % (len(releases) - 1)]))
            timed("release back", lambda: setattr(ex.release, "value", releases[0]))
            timed("time range", lambda: setattr(ex.window, "index", (lo + 24 + 6 * i, hi - i)))
            if i == 0:
                timed("sample 25 calls (reads the lake)", lambda: ex.sample(25))
    timed.load = (load0, os.getloadavg()[0])
    print(json.dumps(timed.report(rows=rows, task="generation", cycles=cycles, first_load_s=round(first, 2),
                                  model_load_s=round(ex.load_seconds, 2)), indent=1))


if __name__ == "__main__":
    main()
