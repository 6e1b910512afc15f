"""The triage accuracy suite: every cause x variant x seed (plus healthy lakes) generated,
triaged from an analyst window starting 6-30 h before the onset, and scored against the truth.

Usage::

    python benchmarks/rca_suite.py [--seeds 3] [--rows 40000] [--out benchmarks/out/rca]
    python benchmarks/rca_suite.py --coincident 2      # two causes in one hour, and a cause + a benign change
    python benchmarks/rca_suite.py --llm [--seeds 3]   # LLM applications (task: generation)

The same functions back tests/rca/test_accuracy.py and tests/rca/test_coincident.py.
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


def llm_cases(seeds: int, *, first_seed: int = 100_000, healthy: int | None = None, rows: int | None = None,
              lead: tuple[float, float] = (6, 30)) -> list[dict]:
    """Like :func:`cases` for LLM lakes (``task: generation``, :func:`workbench.synthetic.generate_llm_lake`):
    every cause x variant of :data:`LLM_CAUSES`, the app chosen by the seed unless the cause needs one."""
    from workbench.synthetic import LLM_CAUSES

    out = []
    k = 0
    for cause, variants in LLM_CAUSES.items():
        reps = (healthy or seeds * 2) if cause == "none" else seeds
        for variant in range(variants):
            for _ in range(reps):
                seed = first_seed + k
                rng = np.random.default_rng(seed)
                out.append({"cause": cause, "variant": variant, "seed": seed,
                            "rows": rows or int(rng.choice([30_000, 40_000, 60_000])),
                            "days": int(rng.choice([14, 18, 21])),
                            "lead_h": float(np.round(rng.uniform(*lead), 1)), "task": "generation"})
                k += 1
    return out


#: pairs of real causes injected in the same hour: (cause rolling out a version or not, another cause)
PAIRS = (("retrain_regression", "schema_mismatch"), ("latency_regression", "third_party_change"),
         ("serving_bug", "data_drift"), ("retrain_regression", "pii_leak"), ("latency_regression", "schema_mismatch"),
         ("bias_regression", "telemetry_loss"), ("retrain_regression", "third_party_change"),
         ("serving_bug", "schema_mismatch"), ("latency_regression", "data_drift"), ("schema_mismatch", "pii_leak"),
         ("data_drift", "telemetry_loss"), ("retrain_regression", "data_drift"))
#: a real cause with a routine change in its onset hour
BENIGN = (("schema_mismatch", "rollout"), ("data_drift", "rollout"), ("third_party_change", "rollout"),
          ("pii_leak", "rollout"), ("retrain_regression", "dependency_bump"), ("latency_regression", "dependency_bump"),
          ("schema_mismatch", "dependency_bump"), ("data_drift", "schema_change"), ("retrain_regression", "schema_change"),
          ("telemetry_loss", "dependency_bump"), ("serving_bug", "schema_change"), ("bias_regression", "dependency_bump"))


def coincident_cases(seeds: int, *, first_seed: int = 50_000, rows: int | None = None,
                     lead: tuple[float, float] = (6, 30)) -> list[dict]:
    """Each pair of :data:`PAIRS` and each of :data:`BENIGN`, ``seeds`` times, variants and sizes
    drawn per seed (variants that need a categorical feature are avoided: worlds may have none)."""
    from workbench.synthetic import CAUSES

    no_categorical = {("data_drift", 1), ("schema_mismatch", 2)}
    telemetry_release = ("telemetry_loss", 1)
    out, k = [], 0
    for kind, items in (("pair", PAIRS), ("benign", BENIGN)):
        for a, b in items:
            for _ in range(seeds):
                seed = first_seed + k
                k += 1
                rng = np.random.default_rng(seed)

                def variant(cause, avoid=()):
                    ok = [v for v in range(CAUSES[cause]) if (cause, v) not in no_categorical and (cause, v) not in avoid]
                    return int(rng.choice(ok))
                case = {"cause": a, "variant": variant(a, (telemetry_release,) if kind == "benign" else ()),
                        "seed": seed, "rows": rows or int(rng.choice([40_000, 60_000, 80_000])),
                        "days": int(rng.choice([18, 21, 28])), "lead_h": float(np.round(rng.uniform(*lead), 1)),
                        "task": str(rng.choice(TASKS, p=[0.6, 0.2, 0.2])),
                        "ingress_by_route": bool(rng.random() < 0.5)}
                if kind == "pair":
                    # the second cause may not roll out a version when the first does
                    case["also"] = (b, variant(b, (telemetry_release,)))
                else:
                    case["benign_at_onset"] = b
                out.append(case)
    return out


def run_case(case: dict, root: Path) -> dict:
    import workbench as wb
    from workbench.synthetic import generate_lake

    tag = (f"-{case['also'][0]}{case['also'][1]}" if case.get("also") else "") + \
        (f"-{case['benign_at_onset']}" if case.get("benign_at_onset") else "") + \
        ("-total" if case.get("ingress_by_route") is False else "")
    path = root / f"{case['cause']}-{case['variant']}-{case['seed']}-{case['task'][:5]}-{case['rows']}{tag}"
    if (path / "truth.json").exists():
        from workbench.synthetic.truth import Truth
        truth = Truth.from_json(path / "truth.json")
    elif case["task"] == "generation":
        from workbench.synthetic import generate_llm_lake

        truth = generate_llm_lake(path, cause=case["cause"], variant=case["variant"], seed=case["seed"],
                                  rows=case["rows"], days=case["days"], overwrite=True)
    else:
        extra = {k: case[k] for k in ("also", "benign_at_onset", "ingress_by_route") if case.get(k) is not None}
        truth = generate_lake(path, cause=case["cause"], variant=case["variant"], seed=case["seed"],
                              rows=case["rows"], days=case["days"], task=case["task"], overwrite=True, **extra)
    anchor = truth.onset or (truth.start + (truth.end - truth.start) * 0.75)
    since = anchor - dt.timedelta(hours=case["lead_h"])
    t0 = time.perf_counter()
    f = wb.triage(path, since=since, mask_key="suite")
    secs = time.perf_counter() - t0
    top = f.top
    got = top.cause if top else "none"
    res = {**case, "got": got, "score": top.score if top else f.verdict["score"], "seconds": round(secs, 2),
           "cause_ok": got == truth.cause, "errors": f.meta["errors"],
           "ranking": [(h.cause, round(h.score, 3), h.culprit(), h.explains) for h in f.hypotheses[:4]]}
    if case.get("also") or case.get("benign_at_onset"):
        res.update(_coincident(f, truth))
        return res
    if truth.cause != "none":
        res["culprit_ok"] = top is not None and got == truth.cause and culprit_ok(top.subject, truth)
        # a gradual drift's onset is fuzzy: the classic variant 0 and the LLM ramp (variant 1)
        ramp = truth.variant == (1 if case["task"] == "generation" else 0)
        tol = 8 if truth.cause == "data_drift" and ramp else 3
        res["onset_error_h"] = None if top is None or top.onset is None else round(
            abs((top.onset - truth.onset).total_seconds()) / 3600, 2)
        res["onset_ok"] = res["onset_error_h"] is not None and res["onset_error_h"] <= tol and res["cause_ok"]
        res["truth_subject"] = {k: v for k, v in truth.subject.items() if v is not None}
    return res


def _coincident(f, truth) -> dict:
    """Both real causes above the threshold with their culprits, or no false second cause."""
    from types import SimpleNamespace

    causes = [truth] + [SimpleNamespace(cause=a["cause"], subject=a["subject"]) for a in truth.also]
    confident = [h for h in f.hypotheses if h.score >= f.threshold]

    def found(t):
        return next((h for h in confident if h.cause == t.cause and culprit_ok(h.subject, t)), None)
    hits = [found(t) for t in causes]
    false = [h for h in confident if not any(h.cause == t.cause and culprit_ok(h.subject, t) for t in causes)]
    out = {"found": [h is not None for h in hits], "false_causes": [(h.cause, h.culprit(), h.score) for h in false],
           "explains": [None if h is None else h.explains for h in hits]}
    if truth.also:
        out["all_found"] = all(out["found"])
        top = f.top
        shares = [e for e in out["explains"] if e is not None]
        # the verdict names the larger cause: the one explaining more of the quality drop, when both
        # account for a share of it (causes with other symptoms are not comparable)
        out["verdict_ok"] = top is not None and any(top is h for h in hits) and (
            len(shares) < 2 or top.explains == max(shares))
    else:
        out["all_found"] = out["found"][0]
        out["verdict_ok"] = f.top is not None and f.top is hits[0]
    return out


def summarise_coincident(results: list[dict]) -> dict:
    pairs = [r for r in results if r.get("also")]
    benign = [r for r in results if r.get("benign_at_onset")]
    return {"pairs": len(pairs), "both_found": sum(r["all_found"] for r in pairs) / max(len(pairs), 1),
            "pair_verdict_ok": sum(r["verdict_ok"] for r in pairs) / max(len(pairs), 1),
            "pair_false_extra": sum(bool(r["false_causes"]) for r in pairs),
            "benign": len(benign), "benign_found": sum(r["all_found"] for r in benign) / max(len(benign), 1),
            "benign_false_second": sum(bool(r["false_causes"]) for r in benign),
            "errors": [r for r in results if r["errors"]]}


def culprit_ok(sub: dict, truth) -> bool:
    """Every subject field the truth names must match (the contract's culprit fields)."""
    need = {"data_drift": ["feature"], "schema_mismatch": ["feature"], "latency_regression": ["model_version"],
            "bias_regression": ["segment", "model_version"], "third_party_change": ["dependency"],
            "telemetry_loss": ["model_version", "route"], "retrain_regression": ["model_version"],
            "pii_leak": ["column"], "serving_bug": ["model_version"],
            # LLM causes (task: generation): the truth names one of these per variant
            "prompt_regression": ["prompt"], "provider_model_change": ["dependency"],
            "retrieval_regression": ["index"], "safety_regression": ["model_version", "prompt"],
            "cost_regression": ["model_version", "prompt", "dependency"],
            "routing_regression": ["route", "model_version"]}[truth.cause]
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
    ap.add_argument("--llm", action="store_true", help="run the LLM (task: generation) cases instead")
    ap.add_argument("--coincident", type=int, default=0,
                    help="run the coincident-changes suite with this many seeds per pair instead")
    args = ap.parse_args()
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    lead = tuple(float(x) for x in args.lead.split(","))
    if args.coincident:
        results = []
        for c in coincident_cases(args.coincident, first_seed=args.first_seed if args.first_seed != 1000 else 50_000,
                                  rows=args.rows, lead=lead):
            r = run_case(c, root)
            results.append(r)
            what = f"+{c['also'][0]}/{c['also'][1]}" if c.get("also") else f"+benign {c['benign_at_onset']}"
            flag = "ok " if r["all_found"] and not r["false_causes"] and r["verdict_ok"] else "BAD"
            print(f"{flag} {c['cause']}/{c['variant']}{what} seed {c['seed']} {c['task'][:5]} "
                  f"{'total-ingress ' if not c['ingress_by_route'] else ''}found={r['found']} "
                  f"explains={r['explains']} false={r['false_causes']} verdict={r['got']} {r['ranking'][:3]}", flush=True)
        s = summarise_coincident(results)
        print(json.dumps({k: v for k, v in s.items() if k != "errors"}, indent=1))
        (root / "coincident.json").write_text(json.dumps(results, indent=1, default=str))
        sys.exit(0)
    if args.llm:
        todo = llm_cases(args.seeds, first_seed=args.first_seed if args.first_seed != 1000 else 100_000,
                         rows=args.rows, lead=lead)
    else:
        todo = cases(args.seeds, first_seed=args.first_seed, rows=args.rows, lead=lead)
    todo = [c for c in todo if not args.only or c["cause"] in args.only.split(",")]
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
