"""The one pass (workbench/summaries/rowpass.py) gives the tables of the passes it replaced.

The reference below is the previous engine's code, kept verbatim: the row tallies, then the score
and label tallies over the predictions joined with their labels (``lake.predictions(...,
with_labels=True)``), the latency histogram and the confusion counts, each a polars pass of its
own. The lakes mix tasks (binary with text labels, multiclass, regression), labels in their own
table (requests labelled twice, NaN labels, requests never labelled), inline labels and none,
invalid scores and latencies, fallbacks, null routes and segments, several Parquet files.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

import workbench as wb
from workbench.summaries import fit_lake_binning, summarize
from workbench.summaries.binning import latency_bin_expr
from workbench.summaries.engine import (_classes, _invalid_tallies, _key_exprs, _label_tallies, _row_tallies,
                                        _score_tallies, screen)
from workbench.summaries.lake import window

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


# -- the previous engine (workbench/summaries/engine.py before the one pass), verbatim ---------------
def _tally_table(frame, labelled, keys, key_prep, prep, aggs, lprep, laggs):
    if labelled is None:
        table = frame.with_columns(prep + lprep).group_by(keys).agg(aggs + laggs).collect(engine="streaming")
    else:
        table = frame.with_columns(prep).group_by(keys).agg(aggs).collect(engine="streaming")
        if laggs:
            lab = labelled.with_columns(key_prep + lprep).group_by(keys).agg(laggs).collect(engine="streaming")
            table = table.join(lab, on=keys, how="left", nulls_equal=True)
    table = table.sort(keys, nulls_last=True)
    count_cols = [c for c in table.columns if c not in keys and not c.endswith(("|sum", "|sumsq", "|min", "|max",
                                                                               "abs_err", "sq_err"))
                  and not c.startswith("score|s|")]
    return table.with_columns(pl.col(count_cols).cast(pl.Int64))


def _latency_counts(frame, schema, keys, key_prep, table):
    if "latency_ms" not in schema:
        return pl.DataFrame(schema={**{k: table.schema[k] for k in keys}, "bin": pl.Int32, "n": pl.Int64})
    return (frame.select(*key_prep, "model_version", "route", latency_bin_expr().alias("bin"))
            .group_by([*keys, "bin"]).agg(pl.len().cast(pl.Int64).alias("n")).collect(engine="streaming")
            .sort([*keys, "bin"], nulls_last=True))


def _confusion(src, task, keys, key_prep, segs, has_label):
    if not has_label:
        src = src.with_columns(pl.lit(None, dtype=pl.String).alias("label"))
    return (src.select(*key_prep, *[k for k in keys if k not in ("bucket", *segs)], *_classes(task))
            .group_by([*keys, "prediction", "label"]).agg(pl.len().cast(pl.Int64).alias("n"))
            .collect(engine="streaming").sort([*keys, "prediction", "label"], nulls_last=True))


def _reference(lake, binning, *, start=None, end=None, bucket="1h", segment=None):
    """The previous ``summarize`` without its feature tallies: (table, latency, confusion)."""
    segs = [segment] if isinstance(segment, str) else list(segment or ())
    wanted = {"timestamp", "model_version", "route", "fallback", "latency_ms", "score", "prediction", "label",
              *segs}
    frame = lake.predictions()
    schema = frame.collect_schema()
    cols = [c for c in schema.names() if c in wanted]
    labelled = None
    if lake.has_labels and "label" not in cols:
        keys = ["timestamp", "model_version", "route", *segs]
        lab_cols = [c for c in (*keys, "score", "prediction") if c in schema] + ["label"]
        labelled = window(lake.predictions(lab_cols, with_labels=True), start, end)
    frame = window(frame.select(cols), start, end)
    schema = {c: schema[c] for c in cols}
    task = lake.task
    frame = screen(frame, schema)
    keys = ["bucket", "model_version", "route"] + segs
    key_prep = _key_exprs(bucket, segs)
    aggs = _row_tallies(schema)
    lschema = dict(labelled.collect_schema()) if labelled is not None else schema
    if labelled is not None:
        labelled = screen(labelled, lschema)
    has_label = "label" in lschema
    lprep, laggs = _score_tallies(task, schema, has_label)
    laggs = _invalid_tallies(schema, lschema) + laggs + _label_tallies(task, schema, has_label)
    table = _tally_table(frame, labelled, keys, key_prep, key_prep, aggs, lprep, laggs)
    latency = _latency_counts(frame, schema, keys, key_prep, table)
    confusion = None
    if task != "regression" and "prediction" in schema:
        src = labelled if labelled is not None else frame
        confusion = _confusion(src, task, keys, key_prep, segs, has_label)
    return table, latency, confusion


# -- generated lakes ---------------------------------------------------------------------------------
def _write(root, task: str, labels: str, seed: int, n: int = 6_000):
    """A lake of ``task`` with labels ``"table"`` (own table), ``"inline"`` or ``"none"``."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 3 * 86400, n))
    score = rng.random(n)
    score[rng.random(n) < 0.02] = np.nan
    lat = rng.lognormal(3, 0.7, n)
    lat[rng.random(n) < 0.02] = np.inf
    f = rng.normal(0, 1, n)
    f[rng.random(n) < 0.05] = np.nan
    if task == "binary_classification":
        pred = pl.Series(rng.choice(["yes", "no", " Yes", None], n, p=[0.45, 0.45, 0.05, 0.05]).tolist())
        truth = rng.choice(["1", "0", "true", "no"], n).astype(object)
    elif task == "multiclass":
        pred = pl.Series(rng.choice(["cat", "dog", "bird"], n).tolist())
        truth = rng.choice(["cat", "dog", "bird", "fish"], n).astype(object)
    else:
        pred = pl.Series(rng.normal(10, 3, n))
        truth = rng.normal(10, 3, n)
    preds = pl.DataFrame({
        "request_id": [f"r{i}" for i in range(n)],
        "timestamp": pl.Series((T0.timestamp() + t) * 1e6).cast(pl.Int64).cast(pl.Datetime("us", "UTC")),
        "model_version": rng.choice(["1.0", "1.1"], n),
        "route": pl.Series(rng.choice(["primary", "canary", None], n, p=[0.7, 0.2, 0.1]).tolist(), dtype=pl.String),
        "region": pl.Series(rng.choice(["eu", "us", None], n, p=[0.5, 0.4, 0.1]).tolist(), dtype=pl.String),
        "latency_ms": pl.Series(np.where(rng.random(n) < 0.01, None, lat).tolist(), dtype=pl.Float64),
        "is_fallback": rng.random(n) < 0.03,
        "score": score, "prediction": pred, "f": f,
        "c": pl.Series(rng.choice(["a", "b", "c", None], n).tolist(), dtype=pl.String),
    })
    if task == "regression":
        preds = preds.drop("score")
    (root / "predictions").mkdir(parents=True)
    half = n // 2
    preds[:half].write_parquet(root / "predictions" / "part-0.parquet", row_group_size=1000)
    preds[half:].write_parquet(root / "predictions" / "part-1.parquet", row_group_size=1000)
    m = {"name": "one-pass", "task": task, "predictions": "predictions/",
         "columns": {"fallback": "is_fallback"},
         "features": {"numeric": ["f"], "categorical": ["c"]}, "segments": ["region"]}
    if labels == "table":
        lab_idx = rng.choice(n, int(0.8 * n), replace=False)  # a fifth never labelled
        twice = rng.choice(lab_idx, int(0.1 * n), replace=False)  # relabelled: the later label wins
        ids = np.concatenate([lab_idx, twice, twice[:50]])
        lab = truth[ids] if task != "regression" else truth[ids].astype(float)
        if task == "regression":
            lab[rng.random(len(ids)) < 0.03] = np.nan
        at = T0 + dt.timedelta(days=4)
        when = [at + dt.timedelta(hours=int(h)) for h in np.r_[np.zeros(len(lab_idx)), np.ones(len(twice)),
                                                              np.ones(50)]]  # ties: the greatest valid label
        labels_df = pl.DataFrame({"request_id": [f"r{i}" for i in ids],
                                  "label": pl.Series(lab.tolist()), "labeled_at": when})
        (root / "labels").mkdir()
        labels_df.write_parquet(root / "labels" / "labels.parquet")
        m["labels"] = "labels/"
    elif labels == "inline":
        pl.concat([pl.read_parquet(p) for p in sorted((root / "predictions").glob("*.parquet"))])
        for i, p in enumerate(sorted((root / "predictions").glob("*.parquet"))):
            part = pl.read_parquet(p)
            lo = i * half
            part.with_columns(pl.Series("label", truth[lo:lo + part.height].tolist())).write_parquet(p)
    (root / "workbench.yaml").write_text(yaml.safe_dump(m, sort_keys=False))
    return root


def _close(a: pl.DataFrame, b: pl.DataFrame, keys: list[str]) -> None:
    """Equal tables: counts exactly, float sums within 1e-12 relative."""
    assert a.columns == b.columns and a.schema == b.schema
    assert_frame_equal(a.select(keys), b.select(keys))
    for c in a.columns:
        if c in keys:
            continue
        if a.schema[c].is_float():
            x, y = a[c].to_numpy(), b[c].to_numpy()
            assert np.array_equal(np.isnan(x), np.isnan(y)), c
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12 * max(1.0, np.nanmax(np.abs(y), initial=0)),
                                       err_msg=c)
        else:
            assert_frame_equal(a.select(c), b.select(c))


CASES = [("binary_classification", "table"), ("binary_classification", "inline"),
         ("binary_classification", "none"), ("multiclass", "table"),
         ("multiclass", "none"), ("regression", "table"), ("regression", "inline")]


@pytest.mark.parametrize(("task", "labels"), CASES)
@pytest.mark.parametrize("segment", [None, "region"])
def test_one_pass_equals_the_previous_passes(tmp_path, task, labels, segment):
    lake = wb.open_lake(_write(tmp_path / "lake", task, labels, seed=hash((task, labels)) % 1000))
    mid = T0 + dt.timedelta(days=1, hours=7)
    binning = fit_lake_binning(lake, end=mid)
    empty = T0 + dt.timedelta(days=30)  # no rows: the same empty tables, columns and types
    for start, end, bucket in ((None, None, "1h"), (mid, None, "6h"), (None, mid, "1d"), (empty, None, "1h")):
        s = summarize(lake, binning, start=start, end=end, bucket=bucket, segment=segment)
        ref_table, ref_latency, ref_confusion = _reference(lake, binning, start=start, end=end, bucket=bucket,
                                                           segment=segment)
        keys = list(s.keys)
        feats = [c for c in s.table.columns if c.startswith(("f|", "c|"))]
        n_rows = len([c for c in ("n", "fallback", "latency_ms|invalid") if c in ref_table.columns])
        # the columns in the previous order: keys, row tallies, feature tallies, score and label tallies
        assert s.table.columns == [*ref_table.columns[:len(keys) + n_rows], *feats,
                                   *ref_table.columns[len(keys) + n_rows:]]
        _close(s.table.drop(feats), ref_table, keys)
        assert_frame_equal(s.latency, ref_latency)
        if ref_confusion is None:
            assert s.confusion is None
        else:
            assert_frame_equal(s.confusion, ref_confusion)
        bins = s.table.select(pl.sum_horizontal(pl.col(r"^f\|(null|inf|h\d+)$"))).to_series()
        assert (bins == s.table["n"]).all()
        if labels == "table" and start != empty:
            assert s.table["labelled"].sum() > 0


def test_label_lookup_matches_the_join(tmp_path):
    """Labels attached batch by batch are those of ``lake.predictions(with_labels=True)``, row for row."""
    from workbench.summaries.rowpass import LabelLookup

    lake = wb.open_lake(_write(tmp_path / "lake", "multiclass", "table", seed=5))
    joined = lake.predictions(["request_id", "label"], with_labels=True).collect()
    lookup = LabelLookup.from_labels(lake.labels())
    h = joined.select(pl.col("request_id").hash()).to_series().to_numpy()  # (the join may reorder rows)
    assert_frame_equal(lookup.attach(h).to_frame(), joined.select("label"))
    assert lookup.attach(h[:0]).len() == 0
    empty = LabelLookup.from_labels(lake.labels().head(0))
    assert empty.attach(h[:10]).null_count() == 10


@pytest.mark.parametrize("task", ["binary_classification", "regression"])
def test_a_labelled_frame_gives_the_same_summary(tmp_path, task):
    """``summarize_frame(..., labelled=...)`` (labels joined by the caller, a second pass) gives
    the summary of the one pass with labels attached per batch."""
    from workbench.summaries import summarize_frame

    lake = wb.open_lake(_write(tmp_path / "lake", task, "table", seed=9))
    binning = fit_lake_binning(lake)
    s = summarize(lake, binning, bucket="6h", segment="region")
    schema = lake.predictions().collect_schema()
    cols = [c for c in schema.names() if c in {"timestamp", "model_version", "route", "fallback", "latency_ms",
                                              "score", "prediction", "region", "f", "c"}]
    lab_cols = [c for c in ("timestamp", "model_version", "route", "region", "score", "prediction") if c in schema]
    t = summarize_frame(lake.predictions(cols), binning, task=task, bucket="6h", segment="region",
                        schema={c: schema[c] for c in cols},
                        labelled=lake.predictions([*lab_cols, "label"], with_labels=True))
    _close(t.table, s.table, list(s.keys))
    assert_frame_equal(t.latency, s.latency)
    if s.confusion is not None:
        assert_frame_equal(t.confusion, s.confusion)
