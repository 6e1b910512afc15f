"""Row samples taken by Spark: stable (a hash of the request id, not row positions: the same rows
across calls and partitionings), bounded (never more than asked reaches the driver), and the
embedding checks read the same hourly norms as polars."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workbench.lake import open_lake
from workbench.spark.samples import embedding_norms_hourly_spark, sample_embeddings_spark, window_sample_spark
from workbench.summaries import window
from workbench.synthetic import generate_lake


@pytest.fixture(scope="module")
def emb_lake(tmp_path_factory):
    path = tmp_path_factory.mktemp("samples") / "lake"
    generate_lake(path, cause="none", seed=23, rows=5_000, days=7, n_numeric=2, n_categorical=1, embedding_dim=8)
    return path


def _halves(lake):
    lo, hi = lake.time_range()
    return lo, lo + (hi - lo) / 2


def test_embedding_sample_is_stable_and_bounded(emb_lake, spark):
    lake = open_lake(emb_lake, mask_key="k", engine="spark", spark=spark)
    lo, mid = _halves(lake)
    a = sample_embeddings_spark(lake, lo, mid, 300)
    b = sample_embeddings_spark(lake, lo, mid, 300)
    assert a.shape == (300, 8) and np.array_equal(a, b)
    # another partitioning of the same rows (reversed, 5 partitions) picks the same vectors
    sl = lake.spark_lake
    sl._raw_preds = sl.raw_predictions.repartition(5).orderBy("timestamp", ascending=False)
    c = sample_embeddings_spark(lake, lo, mid, 300)
    assert np.array_equal(a, c)
    assert not np.array_equal(a, sample_embeddings_spark(lake, lo, mid, 300, seed=1))


def test_small_window_gives_every_vector_as_polars(emb_lake, spark):
    lake_s = open_lake(emb_lake, mask_key="k", engine="spark", spark=spark)
    lake_p = open_lake(emb_lake, mask_key="k")
    lo, _ = _halves(lake_p)
    hi = lo + (lake_p.time_range()[1] - lo) / 20  # a few hundred rows
    rows = window(lake_p.predictions(["timestamp", "embedding"]), lo, hi).drop_nulls("embedding").collect()
    got = sample_embeddings_spark(lake_s, lo, hi, rows.height + 50)
    want = np.asarray(rows["embedding"].to_list(), dtype=np.float64)
    assert got.shape == want.shape
    assert np.allclose(np.sort(got, axis=0), np.sort(want, axis=0))


def test_hourly_norms_equal_polars(emb_lake, spark):
    lake_s = open_lake(emb_lake, mask_key="k", engine="spark", spark=spark)
    lake_p = open_lake(emb_lake, mask_key="k")
    lo, mid = _halves(lake_p)
    norm = pl.col("embedding").list.eval(pl.element().cast(pl.Float64) ** 2).list.sum().sqrt()
    want = (window(lake_p.predictions(["timestamp", "embedding"]), lo, mid)
            .select(pl.col("timestamp").dt.truncate("1h").alias("bucket"), norm.alias("x"))
            .group_by("bucket").agg(pl.len().cast(pl.Int64).alias("n"), pl.col("x").sum().alias("s"),
                                    (pl.col("x") ** 2).sum().alias("ss")).sort("bucket").collect())
    got = embedding_norms_hourly_spark(lake_s, lo, mid)
    assert got["bucket"].to_list() == want["bucket"].to_list() and got["n"].to_list() == want["n"].to_list()
    assert np.allclose(got["s"].to_numpy(), want["s"].to_numpy()) and np.allclose(got["ss"], want["ss"])


def test_window_sample_of_a_version_is_stable_bounded_and_filtered(emb_lake, spark):
    lake = open_lake(emb_lake, mask_key="k", engine="spark", spark=spark)
    lo, mid = _halves(lake)
    version = next(iter(lake.profile().versions))
    a = window_sample_spark(lake, 200, start=lo, end=mid, version=version, with_labels=True, labelled=True,
                            served=True)
    b = window_sample_spark(lake, 200, start=lo, end=mid, version=version, with_labels=True, labelled=True,
                            served=True)
    assert a.height == 200 and a.equals(b)
    assert set(a["model_version"]) == {version} and a["label"].null_count() == 0
    assert not a["fallback"].fill_null(False).any()
    assert a["timestamp"].min() >= lo and a["timestamp"].max() < mid
    assert a["request_id"].n_unique() == 200


def test_window_within_the_read_budget_gives_polars_own_sample(emb_lake, spark):
    """Up to the read budget (the rows the polars engine reads), the window comes whole and is
    sampled by the polars engine's own rule: the same vectors; above it Spark samples."""
    from workbench.evidence import sample_embeddings

    lake_s = open_lake(emb_lake, mask_key="k", engine="spark", spark=spark)
    lake_p = open_lake(emb_lake, mask_key="k")
    lo, mid = _halves(lake_p)
    want = sample_embeddings(window(lake_p.predictions(["request_id", "timestamp", "embedding"]), lo, mid), 300)
    assert np.array_equal(sample_embeddings_spark(lake_s, lo, mid, 300, read_budget=10_000), want)
    over = sample_embeddings_spark(lake_s, lo, mid, 300, read_budget=100)
    assert np.array_equal(over, sample_embeddings_spark(lake_s, lo, mid, 300))
