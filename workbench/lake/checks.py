"""Checks that count, name and go on: what ``Lake.validate()`` warns about beyond the contract's
errors, and what triage notes about reading the predictions.

Each check is one small function over an opened lake and returns a sentence, or None when all is
well. None of them shows a value of the data: only counts, file names, lines and column names.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import TYPE_CHECKING, Any

import polars as pl

from workbench.exceptions import LakeValidationWarning
from workbench.lake.cardinality import HIGH_CARDINALITY_SHARE, is_high_cardinality
from workbench.lake.files import describe_ragged, ragged_rows
from workbench.results import iso

if TYPE_CHECKING:  # pragma: no cover
    from workbench.lake.lake import Lake, LakeProfile

__all__ = ["contract_warnings", "read_notes", "lake_ragged_rows", "naive_times", "future_rows",
           "undeployed_versions", "id_like_features"]


def contract_warnings(lake: "Lake", profile: "LakeProfile") -> list[str]:
    """Warnings (also issued as :class:`LakeValidationWarning`): ragged CSV rows, files of naive
    timestamps among zoned ones, rows dated in the future, model versions the deployments table
    does not know, id-like categorical features."""
    found = [text for text in (describe_ragged(lake_ragged_rows(lake)), naive_times(lake), future_rows(lake),
                               undeployed_versions(lake, profile), id_like_features(lake)) if text]
    for text in found:
        warnings.warn(text, LakeValidationWarning, stacklevel=3)
    return found


def read_notes(lake: "Lake") -> list[str]:
    """What reading the predictions left out or assumed, for analyses that do not run
    ``validate()`` (triage): ragged CSV rows, tz-naive files read as UTC, rows without a readable
    timestamp (which no time window can hold)."""
    notes = [t for t in (describe_ragged(lake_ragged_rows(lake)), naive_times(lake)) if t]
    if lake.spark_lake is not None:  # counted where the rows are
        n = lake.spark_lake.null_timestamps()
        where = (lake._first_file_with_null_timestamps() if n and lake._preds.files.paths
                 else lake._preds.files.spec)
    else:
        n = lake._collect(lake._preds.frame.select(pl.col("timestamp").null_count()), "predictions").item()
        where = lake._first_file_with_null_timestamps() if n else ""
    if n:
        notes.append(f"{n:,} prediction rows have a missing or unparsable timestamp and are left out "
                     f"(first in {where}); `workbench lake-info` names them")
    return notes


def lake_ragged_rows(lake: "Lake") -> dict[str, Any]:
    """CSV prediction rows with fewer or more fields than their header (see
    :func:`workbench.lake.files.ragged_rows`); read once per lake and kept."""
    if "_ragged" not in lake.__dict__:
        lake.__dict__["_ragged"] = ragged_rows(lake._preds.files)
    return lake.__dict__["_ragged"]


def naive_times(lake: "Lake") -> str | None:
    naive = lake._preds.naive_time_files
    if not naive:
        return None
    names = ", ".join(naive[:3]) + (f" and {len(naive) - 3} more" if len(naive) > 3 else "")
    return (f"{len(naive)} predictions file{'s write' if len(naive) > 1 else ' writes'} timestamps without a zone "
            f"while the others carry one ({names}): read as UTC, as the contract says; check that "
            "the writer of those files really used UTC")


def future_rows(lake: "Lake") -> str | None:
    # later than the check itself: a clock is the only reference a lake has for "now" (an hour
    # of slack for clock skew between the writer and this machine)
    now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    if lake.time_range()[1] <= now:
        return None
    r = lake._collect(lake._preds.count_frame.select("timestamp").filter(pl.col("timestamp") > now)
                      .select(pl.len().alias("n"), pl.col("timestamp").max().alias("last")), "predictions")
    n, last = r["n"][0], r["last"][0]
    return (f"{n} prediction rows are dated in the future (after {iso(now.replace(microsecond=0))}, the "
            f"latest {iso(last)}): a clock or unit error in the writer; they stretch the time span "
            "and the default window")


def undeployed_versions(lake: "Lake", profile: "LakeProfile") -> str | None:
    deployed = set(lake.lineage.deployments["model_version"].to_list())
    if not deployed:
        return None  # no deployment lineage at all: said once by the lineage loader
    missing = {v: n for v, n in profile.versions.items() if v is not None and v not in deployed}
    if not missing:
        return None
    rows = sum(missing.values())
    names = ", ".join(f"{v} ({n:,} rows)" for v, n in sorted(missing.items())[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    return (f"{len(missing)} model version{'s' if len(missing) > 1 else ''} serving {rows:,} prediction rows "
            f"{'are' if len(missing) > 1 else 'is'} missing from the deployments table: {names}{more}; "
            "their rollout, artifact and training data are unknown")


def id_like_features(lake: "Lake") -> str | None:
    cats = list(lake.categorical_features)
    if not cats:
        return None
    # HyperLogLog counts (about 1% off): a distinct-share rule needs no exact count; counted on
    # the unmasked frame, and only counts leave it
    r = lake._collect(lake._preds.count_frame.select(
        *[pl.col(c).drop_nulls().approx_n_unique().alias(f"d:{c}") for c in cats],
        *[pl.col(c).is_not_null().sum().alias(f"n:{c}") for c in cats]), "predictions").row(0, named=True)
    ids = [(c, r[f"d:{c}"], r[f"n:{c}"]) for c in cats if is_high_cardinality(r[f"d:{c}"], r[f"n:{c}"])]
    if not ids:
        return None
    names = ", ".join(f"{c} (~{d:,} distinct in {n:,} rows)" for c, d, n in ids)
    return (f"{len(ids)} categorical feature{'s look' if len(ids) > 1 else ' looks'} id-like: {names}; "
            f"more than {HIGH_CARDINALITY_SHARE:.0%} of values are distinct, so triage tests only "
            "null rates there, not codes never seen before (an id is not a feature: consider leaving it "
            "out of `features`)")
