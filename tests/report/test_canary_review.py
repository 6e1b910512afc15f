"""canary_review on a window without a canary says so instead of comparing a version with itself."""

from __future__ import annotations

import json

import polars as pl
import pytest

import workbench as wb
from workbench.report.sections import canary_review
from workbench.synthetic import generate_lake


@pytest.mark.parametrize(("seed", "rows", "version"), [(3, 10_000, "7.1.0"), (51, 8_000, "solo")])
def test_one_version_lake_says_there_is_no_canary(tmp_path, seed, rows, version):
    root = tmp_path / "lake"
    generate_lake(root, seed=seed, rows=rows)
    for f in sorted((root / "predictions").rglob("*.parquet")):
        df = pl.read_parquet(f, hive_partitioning=False)
        df.with_columns(pl.lit(version).alias("model_version"), pl.lit("primary").alias("route")).write_parquet(f)
    study = canary_review(wb.open_lake(root, mask_key="k"))
    assert study.verdict == "no canary"
    assert study.summary.startswith("**NO CANARY**") and f"only {version} served" in study.summary
    assert "GO" not in study.summary.replace("NO CANARY", "") and "against" not in study.summary
    assert study.checks.height == 0 and study.mismapping.detail
    json.dumps(study.to_dict())


def test_the_same_version_as_canary_and_primary_is_refused_politely(tmp_path):
    root = tmp_path / "lake"
    truth = generate_lake(root, cause="latency_regression", seed=52, rows=10_000)
    v = truth.versions["baseline"]
    since = (truth.start + (truth.end - truth.start) * 0.2).isoformat()  # a window several versions served
    study = canary_review(wb.open_lake(root, mask_key="k"), since=since, canary=v, primary=v)
    assert study.verdict == "no canary" and f"both {v}" in study.summary
