"""Summaries: one pass, mergeable, and equal to direct computations on the rows."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import workbench as wb
from workbench.summaries import fit_lake_binning, summarize, summarize_frame, window
from workbench.synthetic import generate_lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("s") / "lake"
    truth = generate_lake(root, cause="data_drift", variant=1, rows=30_000, days=14, seed=12)
    lk = wb.open_lake(root, mask_key="k")
    return lk, truth


@pytest.fixture(scope="module")
def binning(lake):
    lk, truth = lake
    return fit_lake_binning(lk, end=truth.onset)


def _rows(lk, start=None, end=None):
    return window(lk.predictions(with_labels=True), start, end).collect()


@pytest.mark.parametrize("segment", [None, "region"])
def test_merge_of_two_halves_equals_the_whole(lake, binning, segment):
    lk, _ = lake
    if segment and segment not in lk.segments:
        segment = lk.segments[0]
    frame = lk.predictions(with_labels=True)
    schema = dict(frame.collect_schema())
    half = pl.col("request_id").hash(7) % 2 == 0  # rows of every bucket land in both halves
    whole = summarize_frame(frame, binning, task=lk.task, segment=segment, schema=schema)
    a = summarize_frame(frame.filter(half), binning, task=lk.task, segment=segment, schema=schema)
    b = summarize_frame(frame.filter(~half), binning, task=lk.task, segment=segment, schema=schema)
    merged = a + b
    assert_frame_equal(merged.table.select(whole.table.columns), whole.table, check_exact=False, rel_tol=1e-9)
    assert_frame_equal(merged.latency, whole.latency)
    assert_frame_equal(merged.confusion, whole.confusion)
    # and by time: two windows add up to their union
    t = _rows(lk)["timestamp"]
    mid = t.sort()[t.len() // 2]
    first = summarize(lk, binning, end=mid, segment=segment)
    second = summarize(lk, binning, start=mid, segment=segment)
    assert (first + second).rows == whole.rows == t.len()


def test_numeric_tallies_match_the_rows(lake, binning):
    lk, _ = lake
    s = summarize(lk, binning)
    df = _rows(lk)
    for f in lk.numeric_features:
        x = df[f].drop_nulls().drop_nans().to_numpy()
        edges = np.array(binning.numeric[f])
        expected = np.bincount(np.searchsorted(edges, x, side="left"), minlength=len(edges) + 1)
        assert s.histogram(f).tolist() == expected.tolist(), f
        tot = s.collapse().table.row(0, named=True)
        assert tot[f"{f}|null"] == df[f].null_count()
        assert tot[f"{f}|sum"] == pytest.approx(x.sum(), rel=1e-9)
        assert tot[f"{f}|sumsq"] == pytest.approx((x * x).sum(), rel=1e-9)
        assert (tot[f"{f}|min"], tot[f"{f}|max"]) == (x.min(), x.max())


def test_bins_come_from_baseline_quantiles(lake, binning):
    lk, truth = lake
    base = _rows(lk, end=truth.onset)
    s = summarize(lk, binning, end=truth.onset)
    continuous = 0
    for f in lk.numeric_features:
        h = s.histogram(f)
        if base[f].n_unique() > base.height / 2:  # a continuous feature: baseline bins hold ~5 % each
            continuous += 1
            share = h / h.sum()
            assert np.all(np.abs(share[1:-1] - 0.05) < 0.02), (f, share)
        assert h.sum() == base[f].drop_nulls().drop_nans().len()
    assert continuous >= 1


def test_categorical_tallies_and_unseen(lake, binning):
    lk, truth = lake
    df = _rows(lk)
    s = summarize(lk, binning)
    for c in lk.categorical_features:
        counts = s.category_counts(c)
        vc = dict(df[c].value_counts().rows())
        for v in binning.categorical[c]:
            assert counts[v] == vc.get(v, 0)
        assert counts["(null)"] == df[c].null_count()
        assert sum(counts.values()) == df.height
        unseen = df.filter(pl.col(c).is_not_null() & ~pl.col(c).is_in(binning.seen[c])).height
        assert s.collapse().table[f"{c}|unseen"][0] == unseen


def test_score_tallies_by_label(lake, binning):
    lk, _ = lake
    df = _rows(lk)
    s = summarize(lk, binning).collapse().table.row(0, named=True)
    pos = df.filter(pl.col("label").cast(pl.Int64) == 1)
    neg = df.filter(pl.col("label").cast(pl.Int64) == 0)
    assert sum(s[f"score|y1|h{i}"] for i in range(20)) == pos.height
    assert sum(s[f"score|y0|h{i}"] for i in range(20)) == neg.height
    assert sum(s[f"score|yna|h{i}"] for i in range(20)) == df["label"].null_count()
    top = pos.filter(pl.col("score") >= 0.95).height
    assert s["score|y1|h19"] == top
    assert s["labelled"] == df["label"].is_not_null().sum()
    assert s["correct"] == (df["prediction"].cast(pl.String) == df["label"].cast(pl.String)).sum()
    assert s["n"] == df.height and s["fallback"] == df["fallback"].sum()


def test_confusion_matches_sklearn(lake, binning):
    from sklearn.metrics import confusion_matrix

    lk, _ = lake
    df = _rows(lk).filter(pl.col("label").is_not_null())
    s = summarize(lk, binning)
    classes, m = s.confusion_matrix()
    y = df["label"].cast(pl.Int64).cast(pl.String).to_list()
    p = df["prediction"].cast(pl.Int64).cast(pl.String).to_list()
    # sklearn: rows are true labels, columns predictions; ours: rows predictions
    np.testing.assert_array_equal(m.T, confusion_matrix(y, p, labels=classes))
    assert sum(s.predicted_classes().values()) == s.rows
    assert int(np.trace(m)) == s.collapse().table["correct"][0]


def test_latency_quantiles_within_one_percent(lake, binning):
    lk, _ = lake
    df = _rows(lk)
    q = summarize(lk, binning).latency_quantiles((0.5, 0.95, 0.99), by=("model_version",))
    for row in q.iter_rows(named=True):
        x = df.filter(pl.col("model_version") == row["model_version"])["latency_ms"].drop_nulls().to_numpy()
        for p in (0.5, 0.95, 0.99):
            exact = np.quantile(x, p, method="inverted_cdf")
            assert abs(row[f"p{p * 100:g}"] / exact - 1) <= 0.01, (row, p, exact)


def test_summary_is_compact(lake, binning):
    lk, _ = lake
    s = summarize(lk, binning, bucket="1d")
    assert s.table.height <= 14 * 2 * 3 + 6  # days x routes x versions, at most
    assert s.rows == lk.profile().rows


@pytest.mark.parametrize(("seed", "n", "sigma"), [(31, 3_000, 0.4), (32, 20_000, 1.2), (33, 7, 0.8)])
def test_latency_quantile_of_a_histogram_is_the_summarys(seed, n, sigma):
    """One definition of a latency quantile: the histogram function (used on resampled
    histograms) and the summary's per-group method agree, and both are within 1 % of the exact."""
    import datetime as dt

    import numpy as np

    from workbench.summaries.binning import fit_binning, latency_quantile

    rng = np.random.default_rng(seed)
    lat = rng.lognormal(3, sigma, n)
    t0 = dt.datetime(2026, 8, 1, tzinfo=dt.timezone.utc)
    df = pl.DataFrame({"timestamp": [t0 + dt.timedelta(seconds=i) for i in range(n)], "route": "primary",
                       "model_version": rng.choice(["a", "b"], n), "latency_ms": lat})
    s = summarize_frame(df.lazy(), fit_binning(df.lazy(), numeric=(), categorical=()))
    table = s.latency_quantiles((0.5, 0.95, 0.99), by=("model_version",))
    for r in table.iter_rows(named=True):
        h = s.latency.filter(pl.col("model_version") == r["model_version"]).group_by("bin").agg(pl.col("n").sum())
        hist = dict(zip(h["bin"].to_list(), h["n"].to_list()))
        exact = df.filter(pl.col("model_version") == r["model_version"])["latency_ms"].to_numpy()
        for q in (0.5, 0.95, 0.99):
            assert latency_quantile(hist, q) == pytest.approx(r[f"p{q * 100:g}"], rel=1e-12)
            k = max(1, int(np.ceil(q * exact.size)))
            assert latency_quantile(hist, q) == pytest.approx(np.sort(exact)[k - 1], rel=0.011)
    assert latency_quantile({}, 0.5) is None


def test_score_counts_reads_labelled_and_unlabelled_summaries():
    import numpy as np

    from workbench.summaries.binning import SCORE_BINS
    from workbench.summaries.summary import score_counts

    row = {f"score|{k}|h{i}": (i + 1) * m for k, m in (("y1", 1), ("y0", 2), ("yna", 3)) for i in range(SCORE_BINS)}
    sc = score_counts(row)
    assert sc.has_labels and sc.positives.sum() == sum(range(1, SCORE_BINS + 1))
    assert np.array_equal(sc.all, sc.labelled + sc.unlabelled) and np.array_equal(sc.labelled, 3 * sc.positives)
    bare = score_counts({f"score|h{i}": 2 for i in range(SCORE_BINS)})
    assert not bare.has_labels and bare.all.sum() == 2 * SCORE_BINS and bare.labelled.sum() == 0
