"""Triage with NaN and infinities: a feature turned (mostly) null or NaN right after an upstream
schema change removed or renamed its source field is a schema_mismatch naming the feature and the
dataset; a healthy lake with a few NaNs stays quiet; invalid scores and latencies are left out,
counted and said, never a traceback or a numpy warning."""

from __future__ import annotations

import datetime as dt
import glob
import json
import warnings

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.synthetic import generate_lake


def _since(t: dt.datetime) -> dt.datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def _triage(root, since):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy warning escapes
        warnings.simplefilter("ignore", wb.exceptions.WorkbenchWarning)
        return wb.triage(wb.open_lake(root, mask_key="k"), since)


@pytest.mark.parametrize(("variant", "seed", "rows"), [(3, 3, 20_000), (3, 14, 30_000), (3, 27, 16_000),
                                                       (1, 5, 20_000), (1, 31, 26_000)])
def test_generated_field_removed_or_renamed_is_a_schema_mismatch(tmp_path, variant, seed, rows):
    truth = generate_lake(tmp_path / "lake", cause="schema_mismatch", variant=variant, seed=seed, rows=rows)
    feature = truth.subject["feature"]
    lf = wb.open_lake(tmp_path / "lake", mask_key="k").predictions([feature, "timestamp"])
    after = lf.filter(pl.col("timestamp") > truth.onset).select(
        pl.col(feature).is_nan().sum().alias("nan"), pl.col(feature).is_null().sum().alias("null"),
        pl.len().alias("n")).collect().row(0, named=True)
    # variant 3 writes NaN, variant 1 null: both must be read as missing
    assert after["nan" if variant == 3 else "null"] == after["n"] > 0
    res = _triage(tmp_path / "lake", _since(truth.onset))
    top = res.hypotheses[0]
    assert res.verdict["cause"] == "schema_mismatch", [(h.cause, h.score) for h in res.hypotheses[:3]]
    assert (top.subject["feature"], top.subject["dataset"]) == (feature, truth.subject["dataset"])
    assert any(e.check == "null_rate" for e in top.evidence)
    assert any(e.check == "schema_change" for e in top.evidence)


def _remove_field_then_blank(root, *, pick: int, share: float, nan: bool) -> dict:
    """Mutate a healthy generated lake: from one run of a feature's upstream dataset on, the
    schema facet lacks the feature's source field and ``share`` of the feature's values are NaN
    (or null)."""
    feats = pl.read_csv(root / "lineage" / "features.csv").sort("valid_from").unique("feature", keep="last")
    lines = (root / "lineage" / "openlineage.ndjson").read_text().splitlines()
    events = [json.loads(x) for x in lines]

    def fields_of(e, ds):
        for o in e.get("outputs", []):
            if f"{o['namespace']}/{o['name']}" == ds:
                return o.get("facets", {}).get("schema", {}).get("fields")
        return None

    lake = wb.open_lake(root, mask_key="k")
    manifest_numeric, ts = lake.numeric_features, lake.manifest.columns.timestamp
    cands = []
    for r in feats.sort("feature").iter_rows(named=True):
        if r["feature"] not in manifest_numeric:
            continue
        runs = [e for e in events if e["eventType"] == "COMPLETE" and fields_of(e, r["source_dataset"])
                and any(f["name"] == r["source_field"] for f in fields_of(e, r["source_dataset"]))]
        if len(runs) > 20:
            cands.append((r, runs))
    row, runs = cands[pick % len(cands)]
    at = sorted(runs, key=lambda e: e["eventTime"])[int(len(runs) * 0.8)]["eventTime"]
    t = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
    for e in events:
        fs = fields_of(e, row["source_dataset"])
        if fs is not None and e["eventTime"] >= at:
            fs[:] = [f for f in fs if f["name"] != row["source_field"]]
    (root / "lineage" / "openlineage.ndjson").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    rng = np.random.default_rng(pick)
    f = row["feature"]
    for path in glob.glob(str(root / "predictions" / "**" / "*.parquet"), recursive=True):
        df = pl.read_parquet(path, hive_partitioning=False)
        hit = (df[ts] >= t).to_numpy() & (rng.random(df.height) < share)
        if not hit.any():
            continue
        x = df[f].cast(pl.Float64)
        x = x.scatter(np.flatnonzero(hit), float("nan") if nan else None)
        df.with_columns(x).write_parquet(path)
    return {"feature": f, "dataset": row["source_dataset"], "at": t}


@pytest.mark.parametrize(("seed", "pick", "share", "nan"), [(41, 0, 1.0, True), (42, 1, 0.85, True),
                                                            (43, 2, 1.0, False), (44, 3, 0.9, True)])
def test_any_feature_whose_field_disappears_is_a_schema_mismatch(tmp_path, seed, pick, share, nan):
    root = tmp_path / "lake"
    truth = generate_lake(root, cause="none", seed=seed, rows=18_000 + 2_000 * pick)
    m = _remove_field_then_blank(root, pick=pick, share=share, nan=nan)
    res = _triage(root, _since(m["at"]))
    top = res.hypotheses[0]
    quality = {s["sli"]: (s["baseline"], s["current"]) for s in res.symptoms if s["sli"] in ("auc", "accuracy", "mae")}
    assert res.verdict["cause"] == "schema_mismatch", ([(h.cause, h.score, h.subject) for h in res.hypotheses[:3]],
                                                       quality, m)
    assert (top.subject["feature"], top.subject["dataset"]) == (m["feature"], m["dataset"]), (top.subject, m)
    assert "removed" in " ".join(e.detail or "" for e in top.evidence)
    assert truth.cause == "none"
    for base, cur in quality.values():  # the logged scores never saw the blanked values
        assert abs(cur - base) < 0.03, quality


@pytest.mark.parametrize("seed", [51, 52, 53])
def test_a_healthy_lake_with_a_few_nans_stays_quiet(tmp_path, seed):
    root = tmp_path / "lake"
    truth = generate_lake(root, cause="none", seed=seed, rows=20_000)
    lake = wb.open_lake(root, mask_key="k")
    rng = np.random.default_rng(seed)
    feats = rng.choice(lake.numeric_features, 2, replace=False).tolist()
    for path in glob.glob(str(root / "predictions" / "**" / "*.parquet"), recursive=True):
        df = pl.read_parquet(path, hive_partitioning=False)
        for f in feats:  # ~1 % NaN and a few ±inf, all along
            u = rng.random(df.height)
            x = df[f].cast(pl.Float64).to_numpy().copy()
            x[u < 0.01] = np.nan
            x[(u >= 0.01) & (u < 0.012)] = np.inf
            df = df.with_columns(pl.Series(f, x))
        df.write_parquet(path)
    since = truth.end - dt.timedelta(days=5)
    res = _triage(root, _since(since))
    assert res.verdict["cause"] == "none", [(h.cause, h.score, h.subject) for h in res.hypotheses[:3]]
    assert not res.meta["drifted_features"]


@pytest.mark.parametrize(("col", "value", "k"), [("score", float("nan"), 1), ("score", float("inf"), 3),
                                                 ("latency_ms", float("nan"), 2), ("latency_ms", -float("inf"), 1)])
def test_invalid_score_or_latency_rows_are_left_out_and_said(tmp_path, col, value, k):
    root = tmp_path / "lake"
    truth = generate_lake(root, cause="none", seed=60 + k, rows=12_000)
    files = sorted(glob.glob(str(root / "predictions" / "**" / "*.parquet"), recursive=True))
    path = files[-3]
    src = getattr(wb.open_lake(root, mask_key="k").manifest.columns, col)
    df = pl.read_parquet(path, hive_partitioning=False)
    df.with_columns(df[src].cast(pl.Float64).scatter(list(range(k)), value)).write_parquet(path)
    res = _triage(root, _since(truth.end - dt.timedelta(days=5)))
    assert res.meta["invalid_values"] == {col: k}
    assert any(f"{k:,} with a null, NaN or infinite {col}" in n for n in res.meta["notes"])
    with pytest.raises(wb.exceptions.InvalidValueError) as err:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb.open_lake(root, mask_key="k").validate()
    assert err.value.column == src and f"{k:,} row" in str(err.value)
