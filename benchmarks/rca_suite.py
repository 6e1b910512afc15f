"""The triage accuracy suite: every cause x variant x seed (plus healthy lakes) generated,
triaged from an analyst window starting 6-30 h before the onset, and scored against the truth.

Usage::

    python benchmarks/rca_suite.py [--seeds 3] [--rows 40000] [--out benchmarks/out/rca]

The same function backs tests/rca/test_accuracy.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np


TASKS = ("binary_classification", "multiclass", "regression")


def cases(seeds: int, *, first_seed: int = 1000, healthy: int | None = None, rows: int | None = None,
          lead: tuple[float, float] = (6, 30)) -> list[dict]:
    """(cause, variant, seed, rows, days, analyst lead hours) with sizes varied per seed."""
    from workbench.synthetic import CAUSES

    out = []
    k = 0
    for cause, variants in CAUSES.items():
        reps = (healthy or seeds * 2) if cause == "none" else seeds
        for variant in range(variants):
            for i in range(reps):
                seed = first_seed + k
                rng = np.random.default_rng(seed)
                out.append({"cause": cause, "variant": variant, "seed": seed,
                            "rows": rows or int(rng.choice([30_000, 50_000, 80_000])),
                            "days": int(rng.choice([18, 21, 28])),
                            "lead_h": float(np.round(rng.uniform(*lead), 1)),
                            "task": str(rng.choice(TASKS, p=[0.6, 0.2, 0.2]))})
                k += 1
    return out


def run_case(case: dict, root: Path) -> dict:
    import workbench as wb
    from workbench.synthetic import generate_lake

    path = root / f"{case['cause']}-{case['variant']}-{case['seed']}-{case['task'][:5]}-{case['rows']}"
    if (path / "truth.json").exists():
        from workbench.synthetic.truth import Truth
        truth = Truth.from_json(path / "truth.json")
    else:
        truth = generate_lake(path, cause=case["cause"], variant=case["variant"], seed=case["seed"],
                              rows=case["rows"], days=case["days"], task=case["task"], overwrite=True)
    anchor = truth.onset or (truth.start + (truth.end - truth.start) * 0.75)
    since = anchor - dt.timedelta(hours=case["lead_h"])
    t0 = time.perf_counter()
    f = wb.triage(path, since=since, mask_key="suite")
    secs = time.perf_counter() - t0
    top = f.top
    got = top.cause if top else "none"
    res = {**case, "got": got, "score": top.score if top else f.verdict["score"], "seconds": round(secs, 2),
           "cause_ok": got == truth.cause, "errors": f.meta["errors"],
           "ranking": [(h.cause, round(h.score, 3), h.culprit()) for h in f.hypotheses[:4]]}
    if truth.cause != "none":
        res["culprit_ok"] = top is not None and got == truth.cause and culprit_ok(top.subject, truth)
        tol = 8 if truth.cause == "data_drift" and truth.variant == 0 else 3
        res["onset_error_h"] = None if top is None or top.onset is None else round(
            abs((top.onset - truth.onset).total_seconds()) / 3600, 2)
        res["onset_ok"] = res["onset_error_h"] is not None and res["onset_error_h"] <= tol and res["cause_ok"]
        res["truth_subject"] = {k: v for k, v in truth.subject.items() if v is not None}
    return res


def culprit_ok(sub: dict, truth) -> bool:
    """Every subject field the truth names must match (the contract's culprit fields)."""
    need = {"data_drift": ["feature"], "schema_mismatch": ["feature"], "latency_regression": ["model_version"],
            "bias_regression": ["segment", "model_version"], "third_party_change": ["dependency"],
            "telemetry_loss": ["model_version", "route"], "retrain_regression": ["model_version"],
            "pii_leak": ["column"], "serving_bug": ["model_version"]}[truth.cause]
    for k in need:
        want = truth.subject.get(k)
        if want is None and truth.cause != "telemetry_loss":
            continue
        if sub.get(k) != want:
            return False
    return True


def summarise(results: list[dict]) -> dict:
    inc = [r for r in results if r["cause"] != "none"]
    healthy = [r for r in results if r["cause"] == "none"]
    causes = sorted({r["cause"] for r in results} | {r["got"] for r in results})
    matrix = {c: {g: 0 for g in causes} for c in causes}
    for r in results:
        matrix[r["cause"]][r["got"]] += 1
    return {"cases": len(results), "top1": sum(r["cause_ok"] for r in inc) / max(len(inc), 1),
            "culprit": sum(r["culprit_ok"] for r in inc) / max(len(inc), 1),
            "onset": sum(r["onset_ok"] for r in inc) / max(len(inc), 1),
            "healthy_false_alarms": sum(not r["cause_ok"] for r in healthy), "healthy": len(healthy),
            "matrix": matrix, "seconds_max": max(r["seconds"] for r in results),
            "errors": [r for r in results if r["errors"]]}


def render_matrix(matrix: dict) -> str:
    causes = list(matrix)
    short = {c: c[:8] for c in causes}
    lines = ["truth \\ got".ljust(20) + " ".join(short[c].rjust(8) for c in causes)]
    for c in causes:
        lines.append(c.ljust(20) + " ".join(str(matrix[c][g] or ".").rjust(8) for g in causes))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--out", default=str(Path(__file__).parent / "out" / "rca"))
    ap.add_argument("--only", default="", help="comma-separated causes")
    ap.add_argument("--rows", type=int, default=None, help="rows per lake (default: 30k/50k/80k by seed)")
    ap.add_argument("--lead", default="6,30", help="analyst lead before the onset, hours: min,max")
    args = ap.parse_args()
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    lead = tuple(float(x) for x in args.lead.split(","))
    todo = [c for c in cases(args.seeds, first_seed=args.first_seed, rows=args.rows, lead=lead)
            if not args.only or c["cause"] in args.only.split(",")]
    results = []
    for c in todo:
        r = run_case(c, root)
        results.append(r)
        flag = "ok " if r["cause_ok"] and r.get("culprit_ok", True) and r.get("onset_ok", True) else "BAD"
        print(f"{flag} {c['cause']}/{c['variant']}/{c['seed']}/{c['task'][:5]}: got {r['got']} ({r['score']:.2f}) "
              f"onset_err={r.get('onset_error_h')} {r['ranking'][:3]} truth={r.get('truth_subject')}", flush=True)
    s = summarise(results)
    print(render_matrix(s["matrix"]))
    print(json.dumps({k: v for k, v in s.items() if k not in ("matrix", "errors")}, indent=1))
    (root / "results.json").write_text(json.dumps(results, indent=1, default=str))
    sys.exit(0)


if __name__ == "__main__":
    main()
