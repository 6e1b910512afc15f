"""Stress: does replay's verdict ever change on a rerun? (not CI; run by hand)

Usage::

    python benchmarks/stress_replay.py [--runs 20] [-k test_replay_verdicts]
    python benchmarks/stress_replay.py --fast [--runs 20]

Default mode runs ``pytest tests/explain/test_replay.py`` ``--runs`` times, each in a fresh
process (fresh lakes in fresh temporary directories, fresh object ids, fresh thread scheduling),
and reports per test how often it passed; a *flip* is a test that did not give the same outcome in
every run. ``--fast`` generates the verdict tests' lakes once into benchmarks/out/ and calls
``replay`` on all of them in ``--runs`` fresh processes, comparing the full results; a flip is a
lake whose result was not identical in every run. The figure is recorded by hand in
benchmarks/README.md; it must be 0.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).parent / "out" / "stress-replay"

# the cases of tests/explain/test_replay.py::test_replay_verdicts
CASES = [
    ("retrain_regression", 0, "binary_classification", 601, "model"),
    ("retrain_regression", 1, "regression", 602, "model"),
    ("serving_bug", 0, "binary_classification", 603, "serving"),
    ("serving_bug", 0, "multiclass", 604, "serving"),
    ("serving_bug", 1, "binary_classification", 608, "serving"),
    ("schema_mismatch", 0, "regression", 605, "data"),
    ("none", 0, "binary_classification", 606, "none"),
]

CHILD = r"""
import json, sys
import workbench as wb
from workbench.explain import replay
from workbench.synthetic import Truth
out = {}
for root in sys.argv[1:]:
    truth = Truth.from_json(root + "/truth.json")
    v = truth.versions
    new, old = (v["incident"], v["benign"]) if v.get("incident") else (v["benign"], v["baseline"])
    start = truth.onset or truth.start + (truth.end - truth.start) * 0.75
    out[root] = replay(wb.open_lake(root, mask_key="k"), new, old, start=start).to_dict()
print(json.dumps(out, sort_keys=True))
"""


def _pytest_mode(runs: int, select: str | None) -> int:
    outcomes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    cmd = [sys.executable, "-m", "pytest", "tests/explain/test_replay.py", "-q", "-rA", "-p", "no:cacheprovider"]
    if select:
        cmd += ["-k", select]
    t0 = time.perf_counter()
    for i in range(runs):
        res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        for status, test in re.findall(r"^(PASSED|FAILED|ERROR) (\S+)", res.stdout, re.M):
            outcomes[test][status] += 1
        print(f"run {i + 1}/{runs}: exit {res.returncode} ({time.perf_counter() - t0:.0f} s)", flush=True)
    flips = [t for t, c in outcomes.items() if len(c) > 1 or sum(c.values()) != runs]
    failed = [t for t, c in outcomes.items() if c["FAILED"] or c["ERROR"]]
    for t, c in sorted(outcomes.items()):
        print(f"{dict(c)}  {t}")
    print(f"\n{len(outcomes)} tests x {runs} runs: {len(flips)} flipped, {len(failed)} failed at least once "
          f"({time.perf_counter() - t0:.0f} s)")
    return 1 if flips or failed else 0


def _fast_mode(runs: int) -> int:
    from workbench.synthetic import generate_lake

    roots = []
    for cause, variant, task, seed, _ in CASES:
        root = OUT / f"{cause}-{variant}-{task}-{seed}"
        if not (root / "truth.json").exists():
            generate_lake(root, cause=cause, variant=variant, seed=seed, rows=30_000, task=task, artifacts=True,
                          overwrite=True)
        roots.append(str(root))
    t0 = time.perf_counter()
    results = []
    for i in range(runs):
        res = subprocess.run([sys.executable, "-c", CHILD, *roots], capture_output=True, text=True, check=True)
        results.append(json.loads(res.stdout))
        so_far = sum(len({json.dumps(r[root], sort_keys=True) for r in results}) > 1 for root in roots)
        verdicts = " ".join(results[-1][root]["verdict"] for root in roots)
        print(f"run {i + 1}/{runs} ({time.perf_counter() - t0:.0f} s): {verdicts}; lakes flipped so far: {so_far}",
              flush=True)
    flips = 0
    for (cause, variant, task, seed, expected), root in zip(CASES, roots):
        docs = {json.dumps(r[root], sort_keys=True) for r in results}
        verdicts = collections.Counter(r[root]["verdict"] for r in results)
        flips += len(docs) > 1
        print(f"{cause}/{variant}/{task}/{seed}: expected {expected}, verdicts {dict(verdicts)}, "
              f"{len(docs)} distinct result(s)")
    print(f"\n{len(CASES)} lakes x {runs} runs: {flips} flipped ({time.perf_counter() - t0:.0f} s)")
    return 1 if flips else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("-k", dest="select", help="pytest -k expression (default: every test of the file)")
    ap.add_argument("--fast", action="store_true", help="replay pre-generated lakes instead of running pytest")
    args = ap.parse_args()
    return _fast_mode(args.runs) if args.fast else _pytest_mode(args.runs, args.select)


if __name__ == "__main__":
    sys.exit(main())
