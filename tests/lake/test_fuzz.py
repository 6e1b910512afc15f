"""Property-based fuzzing: whatever the manifest or the lines of a text file hold,
nothing but a WorkbenchError escapes opening, validating and summarising a lake."""

from __future__ import annotations

import os
import shutil
import warnings

import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

import workbench as wb
from workbench.exceptions import WorkbenchError
from workbench.lake.info import lake_info
from handmade_lake import write_lake

SETTINGS = settings(max_examples=int(os.environ.get("WB_FUZZ_EXAMPLES", "100")), deadline=None, suppress_health_check=list(HealthCheck))

KEYS = ["name", "task", "predictions", "labels", "columns", "features", "segments", "sensitive", "slo",
        "lineage", "numeric", "categorical", "score", "request_id", "timestamp", "latency_p95_ms",
        "deployments", "openlineage", "amount", "country", "x"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["amount", "country", "predictions/", "labels/",
                                                            "lineage/*.csv", "binary_classification", "score"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)), max_leaves=12)
manifests = st.one_of(values, st.dictionaries(st.sampled_from(KEYS), values, max_size=8))


def _outcome(root):
    """Run the entry points; a WorkbenchError is an accepted outcome, anything else fails."""
    try:
        _exercise(root)
        event("loaded")
    except WorkbenchError as exc:
        event(type(exc).__name__)


def _exercise(root):
    from workbench.summaries import fit_lake_binning, summarize

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lake = wb.open_lake(root)
        s = summarize(lake, fit_lake_binning(lake))
        assert s.rows == lake.predictions(["request_id"]).select(pl.len()).collect().item()
        lake.validate()
        lake_info(lake).render()
        lake.timeline()


@pytest.fixture(scope="module")
def base_lake(tmp_path_factory):
    return {fmt: write_lake(tmp_path_factory.mktemp(fmt) / "lake", fmt=fmt) for fmt in ("parquet", "csv", "ndjson")}


@SETTINGS
@given(manifest=manifests)
def test_fuzz_manifest(tmp_path_factory, base_lake, manifest):
    root = tmp_path_factory.mktemp("m") / "lake"
    shutil.copytree(base_lake["parquet"], root)
    (root / "workbench.yaml").write_text(yaml.safe_dump(manifest) if not isinstance(manifest, str) else manifest)
    _outcome(root)


@SETTINGS
@given(text=st.text(max_size=300))
def test_fuzz_manifest_raw_text(tmp_path_factory, base_lake, text):
    root = tmp_path_factory.mktemp("t") / "lake"
    shutil.copytree(base_lake["parquet"], root)
    (root / "workbench.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    _outcome(root)


line_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(st.text(max_size=10), st.integers(), st.floats(), st.just(""),
                       st.just("2026-03-01T00:00:00"), st.just('"'), st.just("{")), max_size=25)
    .map(lambda xs: ",".join(map(str, xs))),
)


@SETTINGS
@given(lines=st.lists(st.tuples(st.integers(0, 300), line_text), min_size=1, max_size=4),
       fmt=st.sampled_from(["csv", "ndjson"]))
def test_fuzz_text_lines(tmp_path_factory, base_lake, lines, fmt):
    root = tmp_path_factory.mktemp("l") / "lake"
    shutil.copytree(base_lake[fmt], root)
    path = root / "predictions" / f"predictions.{fmt}"
    body = path.read_text().splitlines()
    for pos, line in lines:
        body.insert(min(pos, len(body)), line)
    path.write_text("\n".join(body) + "\n", encoding="utf-8", errors="surrogatepass")
    _outcome(root)


@SETTINGS
@given(lines=st.lists(st.tuples(st.integers(0, 12), line_text), min_size=1, max_size=3),
       table=st.sampled_from(["lineage/deployments.csv", "lineage/features.csv", "lineage/dependencies.csv",
                              "metrics/traffic.csv", "lineage/openlineage.ndjson", "labels/labels.csv"]))
def test_fuzz_lineage_lines(tmp_path_factory, base_lake, lines, table):
    root = tmp_path_factory.mktemp("g") / "lake"
    shutil.copytree(base_lake["csv"], root)
    path = root / table
    body = path.read_text().splitlines()
    for pos, line in lines:
        body.insert(min(pos, len(body)), line)
    path.write_text("\n".join(body) + "\n", encoding="utf-8", errors="surrogatepass")
    _outcome(root)


BASE = {
    "name": "tiny-scorer", "task": "binary_classification", "predictions": "predictions/", "labels": "labels/",
    "features": {"numeric": ["amount", "account_age_days"], "categorical": ["country", "device"]},
    "segments": ["region"], "sensitive": ["email", "phone"], "slo": {"latency_p95_ms": 250},
}
FIELDS = [("task",), ("predictions",), ("labels",), ("features", "numeric"), ("features", "categorical"),
          ("segments",), ("sensitive",), ("slo", "capture_rate"), ("columns", "score"), ("columns", "timestamp"),
          ("columns", "request_id"), ("columns", "embedding"), ("lineage", "deployments"), ("lineage", "traffic")]
columns = st.sampled_from(["amount", "account_age_days", "country", "device", "region", "email", "score",
                           "timestamp", "request_id", "embedding", "client_tag", "is_fallback", "nope"])
mutation_values = st.one_of(scalars, columns, st.lists(columns, max_size=4),
                            st.sampled_from(["multiclass", "regression", "predictions/*.parquet",
                                             "lineage/openlineage.ndjson", "metrics/traffic.csv", "labels/*.parquet"]))


@SETTINGS
@given(changes=st.lists(st.tuples(st.sampled_from(FIELDS), mutation_values), min_size=1, max_size=3))
def test_fuzz_manifest_mutations(tmp_path_factory, base_lake, changes):
    import copy

    m = copy.deepcopy(BASE)
    for path, value in changes:
        d = m
        for k in path[:-1]:
            d = d.setdefault(k, {})
        d[path[-1]] = value
    root = tmp_path_factory.mktemp("mm") / "lake"
    shutil.copytree(base_lake["parquet"], root)
    (root / "workbench.yaml").write_text(yaml.safe_dump(m))
    _outcome(root)


# -- NaN, ±inf and null in every numeric role -----------------------------------------------------

special = st.one_of(st.sampled_from([float("nan"), float("inf"), -float("inf"), None]),
                    st.floats(allow_nan=True, allow_infinity=True))
ROLES = ["amount", "account_age_days", "score", "latency_ms", "label"]
cells = st.lists(st.tuples(st.sampled_from(ROLES), st.integers(0, 287), special), min_size=1, max_size=40)
whole = st.lists(st.tuples(st.sampled_from(ROLES), st.integers(0, 287), special), max_size=2)


def _mixed_lake(root, cells, whole, *, task: str, fmt: str):
    """The small lake with NaN/inf/null written into numeric roles: single cells, and a role that
    turns into one value from a row on (a feature that becomes NaN after some hour)."""
    import numpy as np
    import polars as pl
    from handmade_lake import labels_frame, predictions_frame

    preds = predictions_frame()
    labels = labels_frame(preds)
    if task == "regression":
        preds = preds.with_columns((pl.col("score") * 40).alias("prediction"))
        labels = labels.with_columns((pl.col("label") * 40.0 + 1.5).alias("label"))
    cols = {c: (preds if c != "label" else labels)[c].cast(pl.Float64).to_numpy().copy() for c in ROLES}
    nulls = {c: np.zeros(len(v), bool) for c, v in cols.items()}
    for col, i, v in [*cells, *[(c, j, v) for c, i, v in whole for j in range(i, 288)]]:
        i = i % len(cols[col])
        if v is None:
            nulls[col][i] = True
        else:
            cols[col][i], nulls[col][i] = v, False
    series = {c: pl.Series(c, v, nan_to_null=False).scatter(np.flatnonzero(nulls[c]), None)
              if nulls[c].any() else pl.Series(c, v, nan_to_null=False) for c, v in cols.items()}
    preds = preds.with_columns([series[c] for c in ROLES if c != "label"])
    labels = labels.with_columns(series["label"])
    root = write_lake(root, fmt=fmt, preds=preds, manifest={"task": task})
    lab = root / "labels"
    if fmt == "parquet":
        labels.write_parquet(lab / "labels.parquet")
    else:
        labels.with_columns(pl.col("labeled_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_csv(lab / "labels.csv")
    return root, preds, labels


def _reference_counts(preds, labels) -> dict[str, int]:
    """What the summary must count, from the frames as written (numpy): per feature its missing
    (null or NaN) and ±inf values; per role its invalid rows (null, NaN or ±inf for score and
    latency_ms; NaN or ±inf for a label that joins a prediction)."""
    import numpy as np

    def arr(df, c):
        return df[c].cast(pl.Float64).to_numpy()  # null -> NaN

    out = {}
    for f in ("amount", "account_age_days"):
        x, null = arr(preds, f), preds[f].is_null().to_numpy()
        out[f"{f}|null"] = int(np.sum(null | np.isnan(x)))
        out[f"{f}|inf"] = int(np.sum(np.isinf(x)))
    for c in ("score", "latency_ms"):
        out[f"{c}|invalid"] = int(np.sum(~np.isfinite(arr(preds, c))))
    joined = labels.filter(pl.col("request_id").is_in(preds["request_id"].implode()))
    y, null = arr(joined, "label"), joined["label"].is_null().to_numpy()
    out["label|invalid"] = int(np.sum(~null & ~np.isfinite(y)))
    return out


def _exercise_values(root, reference: dict[str, int]):
    import datetime as dt

    from handmade_lake import T0

    from workbench.evidence import assess_quality, detect_drift
    from workbench.summaries import fit_lake_binning, summarize

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a numpy warning is a failure too
        warnings.simplefilter("ignore", wb.exceptions.WorkbenchWarning)
        lake = wb.open_lake(root, mask_key="k")
        prof = lake.validate(strict=False)
        info = lake_info(lake).render()
        if prof.invalid_counts:
            assert "Validation  ok" not in info
            with pytest.raises(wb.exceptions.InvalidValueError):
                lake.validate()
        cut = T0 + dt.timedelta(hours=30)
        b = fit_lake_binning(lake, end=cut)
        base, win = summarize(lake, b, end=cut), summarize(lake, b, start=cut)
        assert base.rows + win.rows == prof.rows
        # the summaries engine counts every missing, infinite and invalid value as written
        totals = (base + win).collapse().table.row(0, named=True)
        got = {k: int(totals.get(k) or 0) for k in reference}
        assert got == reference
        assert {c: k for c, k in (base + win).invalid_counts().items() if c != "prediction"} == \
            {k.split("|")[0]: v for k, v in reference.items() if k.endswith("|invalid") and v}
        detect_drift(base, win)
        assess_quality(win)
        res = wb.triage(lake, cut)
        assert res.meta["invalid_values"] == (base + win).invalid_counts()
        assert res.meta["errors"] == []  # no hypothesis broke on the values


@settings(max_examples=int(os.environ.get("WB_FUZZ_EXAMPLES", "100")) // 4, deadline=None,
          suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
@given(cells=cells, whole=whole, task=st.sampled_from(["binary_classification", "regression"]),
       fmt=st.sampled_from(["parquet", "csv"]))
def test_fuzz_nan_inf_null_in_numeric_roles(tmp_path_factory, cells, whole, task, fmt):
    root, preds, labels = _mixed_lake(tmp_path_factory.mktemp("nan") / "lake", cells, whole, task=task, fmt=fmt)
    try:
        _exercise_values(root, _reference_counts(preds, labels))
        event("analysed")
    except WorkbenchError as exc:
        event(type(exc).__name__)
