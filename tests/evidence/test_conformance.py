"""One conformance suite for every detector: JSON-safe results, deterministic, inputs untouched,
and a false-alarm rate of at most 1 % on healthy lakes at the default thresholds."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import workbench as wb
from workbench import evidence as ev
from workbench.summaries import fit_lake_binning, summarize, window
from workbench.synthetic import generate_lake

SEEDS = [201, 202, 203, 204, 205, 206, 207, 208]


def _detectors(lake, truth):
    """Every detector on a healthy lake: (name, result, number of checks, number of alarms)."""
    end = truth.end - dt.timedelta(days=4, hours=truth.seed % 11)
    b0, b1, w1 = end - dt.timedelta(days=8), end - dt.timedelta(days=1), end + dt.timedelta(days=2)
    binning = fit_lake_binning(lake, start=b0, end=b1)
    base = summarize(lake, binning, start=b0, end=b1)
    win = summarize(lake, binning, start=end, end=w1)
    whole = summarize(lake, binning)
    out = []
    drift = ev.detect_drift(base, win)
    out.append(("drift", drift, len(drift.features), len(drift.drifted), (base, win)))
    slis = ev.compute_slis(win, slo=lake.manifest.slo, traffic=lake.lineage.traffic)
    out.append(("slis", slis, len(slis.groups) * 3 + 3,
                sum(len(g["breached"]) for g in slis.groups) + len(slis.alerts), (win,)))
    q = ev.assess_quality(whole)
    out.append(("quality", q, 0, 0, (whole,)))
    old, new = truth.versions["baseline"], truth.versions["benign"]
    cmp = ev.compare_versions(whole, old, new)
    out.append(("versions", cmp, len(cmp.checks), len(cmp.worse), (whole,)))
    mm = ev.detect_output_mismapping(whole, new, previous=old)
    out.append(("mismapping", mm, 1, int(mm.inverted), (whole,)))
    for seg in lake.segments:
        sd = ev.segment_deltas(summarize(lake, binning, segment=seg), seg, a=old, b=new)
        out.append((f"segments:{seg}", sd, len(sd.rows), len(sd.regressed), ()))
    pii = ev.scan_pii(window(lake.predictions(), end, w1), sensitive=lake.sensitive)
    out.append(("pii", pii, len(pii.columns), len(pii.flagged), ()))
    lf = lake.predictions(["request_id", "timestamp", "embedding"])
    emb = ev.detect_embedding_drift(ev.sample_embeddings(window(lf, b0, b1), 400),
                                    ev.sample_embeddings(window(lf, end, w1), 400), permutations=100)
    out.append(("embedding", emb, 1, int(emb.drifted), ()))
    est = ev.estimate_performance(base, win)
    out.append(("estimate", est, 0, 0, (base, win)))
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    res = []
    for seed in SEEDS:
        root = tmp_path_factory.mktemp(f"c{seed}") / "lake"
        truth = generate_lake(root, seed=seed, rows=40_000)
        lake = wb.open_lake(root, mask_key="k")
        res.append((lake, truth, _detectors(lake, truth)))
    return res


def test_false_alarm_rate_on_healthy_lakes(runs):
    checks = alarms = 0
    where = []
    for _, truth, results in runs:
        for name, _, n, k, _ in results:
            checks += n
            alarms += k
            if k:
                where.append((truth.seed, name, k))
    print(f"healthy lakes: {alarms} alarms in {checks} checks")
    assert checks > 300
    assert alarms / checks <= 0.01, where


def test_results_are_json_safe_and_deterministic(runs):
    lake, truth, results = runs[0]
    again = _detectors(lake, truth)
    for (name, r, *_), (_, r2, *_) in zip(results, again):
        d = r.to_dict()
        assert json.loads(json.dumps(d)) == d, name
        assert d == r2.to_dict(), name
        back = type(r).from_dict(json.loads(json.dumps(d)))
        assert type(back) is type(r) and back.to_dict() == d, name
        assert type(r).__name__ in repr(r) and "\n" not in repr(r), name
        assert r._repr_html_().startswith("<"), name


def test_inputs_are_not_mutated(runs):
    lake, truth, _ = runs[1]
    binning = fit_lake_binning(lake)
    s = summarize(lake, binning)
    before = (s.table.clone(), s.latency.clone(), binning.to_dict())
    ev.detect_drift(s, s)
    ev.compute_slis(s, slo=lake.manifest.slo, traffic=lake.lineage.traffic)
    ev.assess_quality(s)
    ev.compare_versions(s, truth.versions["baseline"], truth.versions["benign"])
    ev.estimate_performance(s, s)
    assert s.table.equals(before[0]) and s.latency.equals(before[1]) and binning.to_dict() == before[2]


def test_summary_round_trips_through_json(runs):
    lake, truth, _ = runs[2]
    s = summarize(lake, fit_lake_binning(lake), bucket="6h")
    back = type(s).from_dict(json.loads(json.dumps(s.to_dict())))
    assert back.table.equals(s.table) and back.latency.equals(s.latency) and back.confusion.equals(s.confusion)
    assert back.binning == s.binning and back.keys == s.keys and back.to_dict() == s.to_dict()
    assert (back + back).rows == 2 * s.rows
