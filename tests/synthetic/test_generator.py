"""Tests of the synthetic lake generator: layout, determinism, realism and every injected effect.

Lakes are small (tens of thousands of rows over two weeks) and cached per module; every check reads
the files back with polars, as a loader would, and asserts on what an analyst would see.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from scipy.stats import ks_2samp
from sklearn.metrics import log_loss, roc_auc_score

from workbench.synthetic import CAUSES, Truth, generate_lake

ROWS = 30_000
DAYS = 14
TAXONOMY = {"none", "data_drift", "schema_mismatch", "latency_regression", "bias_regression",
            "third_party_change", "telemetry_loss", "retrain_regression", "pii_leak", "serving_bug"}
# the subject field a correct diagnosis must name, per findings.md
SUBJECT_FIELD = {"data_drift": "feature", "schema_mismatch": "feature", "latency_regression": "model_version",
                 "bias_regression": "segment", "third_party_change": "dependency",
                 "retrain_regression": "model_version", "pii_leak": "column", "serving_bug": "model_version"}
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE = re.compile(r"\+\d{1,3}[ -]\d{1,4}[ -]?\d{2,4}[ -]?\d{2,7}")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{12,30}\b")
DIGITS16 = re.compile(r"\b(?:\d[ -]?){15}\d\b")


# --------------------------------------------------------------------------- helpers

class Lake:
    """A generated lake read back with polars."""

    def __init__(self, root: Path, truth: Truth):
        self.root, self.truth = root, truth
        self.manifest = yaml.safe_load((root / "workbench.yaml").read_text())
        self.cols = self.manifest["columns"]
        self.fmt = truth.params["fmt"]
        self.predictions = self._read("predictions")
        self.labels = self._read("labels")

    def _read(self, table: str) -> pl.DataFrame:
        if self.fmt == "parquet":
            files = sorted((self.root / table).rglob("*.parquet"))
            return pl.concat([pl.read_parquet(f) for f in files])
        files = sorted((self.root / table).glob(f"*.{self.fmt}"))
        if self.fmt == "csv":
            frame = pl.concat([pl.read_csv(f, infer_schema=False) for f in files])
        else:
            frame = pl.concat([pl.read_ndjson(f) for f in files], how="diagonal_relaxed")
        stamps = [c for c in (self.cols["timestamp"], "labeled_at") if c in frame.columns]
        return frame.with_columns(pl.col(stamps).str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%.fZ"))

    @property
    def joined(self) -> pl.DataFrame:
        rid = self.cols["request_id"]
        return self.predictions.join(self.labels, on=rid, how="inner")

    def csv(self, path: str) -> pl.DataFrame:
        return pl.read_csv(self.root / path, infer_schema=False)

    def events(self) -> list[dict]:
        text = (self.root / "lineage" / "openlineage.ndjson").read_text().splitlines()
        return [json.loads(line) for line in text]

    def col(self, role: str) -> pl.Expr:
        return pl.col(self.cols[role])

    def before(self, frame: pl.DataFrame | None = None) -> pl.DataFrame:
        frame = self.predictions if frame is None else frame
        return frame.filter(self.col("timestamp") < self.truth.onset)

    def after(self, frame: pl.DataFrame | None = None, *, hours: float = 0.0) -> pl.DataFrame:
        frame = self.predictions if frame is None else frame
        return frame.filter(self.col("timestamp") >= self.truth.onset + timedelta(hours=hours))

    def auc(self, frame: pl.DataFrame) -> float:
        label, score = frame[self.cols["label"]].cast(pl.Int64), frame[self.cols["score"]].cast(pl.Float64)
        assert label.n_unique() == 2, "need both classes to compute an AUC"
        return float(roc_auc_score(label.to_numpy(), score.to_numpy()))


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def make(tmp_path_factory):
    cache: dict[tuple, Lake] = {}

    def build(cause: str = "none", variant: int = 0, *, seed: int = 0, **kwargs) -> Lake:
        key = (cause, variant, seed, tuple(sorted(kwargs.items())))
        if key not in cache:
            root = tmp_path_factory.mktemp(f"{cause}-{variant}-{seed}") / "lake"
            options = {"rows": ROWS, "days": DAYS, **kwargs}
            truth = generate_lake(root, cause=cause, variant=variant, seed=seed, **options)
            cache[key] = Lake(root, truth)
        return cache[key]

    return build


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _ece(frame: pl.DataFrame, cols: dict) -> float:
    """Expected calibration error over ten equal-count score bins."""
    score = frame[cols["score"]].cast(pl.Float64).to_numpy()
    label = frame[cols["label"]].cast(pl.Float64).to_numpy()
    bins = np.array_split(np.argsort(score, kind="stable"), 10)
    return float(sum(abs(score[b].mean() - label[b].mean()) * b.size for b in bins) / score.size)


def _log_loss(frame: pl.DataFrame, cols: dict) -> float:
    score = frame[cols["score"]].cast(pl.Float64).clip(1e-6, 1 - 1e-6).to_numpy()
    return float(log_loss(frame[cols["label"]].cast(pl.Int64).to_numpy(), score))


def _luhn(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()][::-1]
    total = sum(d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d) for i, d in enumerate(digits))
    return total % 10 == 0


# --------------------------------------------------------------------------- API and layout

def test_causes_cover_the_taxonomy_with_variants():
    assert set(CAUSES) == TAXONOMY
    assert CAUSES["none"] >= 1
    assert all(n >= 2 for cause, n in CAUSES.items() if cause != "none")


@pytest.mark.parametrize(("cause", "variant"), [(c, v) for c, n in CAUSES.items() for v in range(n)])
def test_every_cause_and_variant_writes_a_valid_lake(make, cause, variant):
    lake = make(cause, variant, seed=1)
    root, truth, cols = lake.root, lake.truth, lake.cols
    for path in ("workbench.yaml", "truth.json", "lineage/deployments.csv", "lineage/features.csv",
                 "lineage/openlineage.ndjson", "lineage/dependencies.csv", "metrics/traffic.csv"):
        assert (root / path).is_file(), path
    assert len(list((root / "predictions").glob("date=*/part-0.parquet"))) == DAYS

    # the manifest names columns that exist, and features/segments/sensitive are all logged
    frame = lake.predictions
    named = list(cols.values()) + lake.manifest["features"]["numeric"] + lake.manifest["features"]["categorical"]
    named += lake.manifest["segments"] + lake.manifest["sensitive"]
    missing = [c for c in named if c not in frame.columns and c not in (cols["label"],)]
    assert not missing
    assert cols["label"] in lake.labels.columns and "labeled_at" in lake.labels.columns

    # truth round-trips and says something about the right subject
    assert Truth.from_json(root / "truth.json") == truth
    assert json.loads(json.dumps(truth.to_dict())) == truth.to_dict()
    assert Truth.from_dict(truth.to_dict()) == truth
    assert set(truth.subject) == {"feature", "column", "model_version", "segment", "dependency", "dataset", "route"}
    assert abs(truth.rows - ROWS) <= 0.1 * ROWS and truth.rows == frame.height
    assert truth.description.endswith(".") and "\n" not in truth.description
    if cause == "none":
        assert truth.onset is None and all(v is None for v in truth.subject.values())
    else:
        span = truth.end - truth.start
        assert truth.start + span * 2 / 3 <= truth.onset < truth.end - timedelta(days=2)
        assert (truth.onset.hour, truth.onset.minute) != (0, 0)
        if cause in SUBJECT_FIELD:
            assert truth.subject[SUBJECT_FIELD[cause]] is not None
    assert {c["kind"] for c in truth.confounders} == {"rollout", "dependency_bump", "schema_change", "feature_version"}


def test_to_dict_uses_iso_utc_strings(make):
    data = make("schema_mismatch", 0, seed=1).truth.to_dict()
    for key in ("start", "end", "onset"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data[key]), data[key]
    assert all(c["at"].endswith("Z") for c in data["confounders"])


def test_ids_are_unique_and_trace_ids_are_hex(make):
    lake = make("none")
    ids = lake.predictions[lake.cols["request_id"]]
    assert ids.n_unique() == ids.len()
    assert lake.predictions[lake.cols["trace_id"]].str.contains(r"^[0-9a-f]{32}$").all()


def test_same_seed_gives_identical_bytes(tmp_path):
    options = {"cause": "bias_regression", "variant": 1, "seed": 5, "rows": 8_000, "days": 8}
    first = generate_lake(tmp_path / "a", **options)
    second = generate_lake(tmp_path / "b", **options)
    assert first == second
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_different_seeds_give_different_lakes(make):
    seen = set()
    for seed in range(4):
        truth = make("data_drift", 0, seed=seed, rows=2_000).truth
        seen.add((truth.name, truth.onset, truth.subject["feature"]))
    assert len(seen) == 4
    assert len({t[1] for t in seen}) == 4  # onsets move with the seed


def test_existing_directory_is_protected(tmp_path):
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        generate_lake(precious, rows=2_000, days=7)
    with pytest.raises(FileExistsError, match="workbench.yaml"):
        generate_lake(precious, rows=2_000, days=7, overwrite=True)
    assert (precious / "keep.txt").read_text() == "mine"

    lake = tmp_path / "lake"
    generate_lake(lake, rows=2_000, days=7, seed=1)
    truth = generate_lake(lake, rows=2_000, days=7, seed=2, overwrite=True)
    assert Truth.from_json(lake / "truth.json") == truth


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"cause": "meteor"}, "unknown cause"),
    ({"cause": "pii_leak", "variant": 3}, "variant"),
    ({"fmt": "xlsx"}, "fmt"),
    ({"days": 3}, "days"),
    ({"task": "ranking"}, "task"),
    ({"rows": 10}, "rows"),
    ({"n_numeric": 1}, "n_numeric"),
])
def test_bad_arguments_raise_value_error(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_lake(tmp_path / "lake", **kwargs)
    assert not (tmp_path / "lake").exists()


# --------------------------------------------------------------------------- realism of healthy data

def test_traffic_has_a_night_trough(make):
    lake = make("none")
    hourly = lake.predictions.group_by(lake.col("timestamp").dt.hour()).len()["len"].to_numpy()
    assert hourly.min() / hourly.max() < 0.5


def test_ingress_counts_every_logged_row(make):
    lake = make("none")
    traffic = lake.csv("metrics/traffic.csv").with_columns(pl.col("requests").cast(pl.Int64))
    ratio = lake.predictions.height / traffic["requests"].sum()
    assert 0.995 <= ratio <= 1.0  # natural loss is at most 0.3%
    assert set(traffic["route"].unique()) <= {"primary", "canary"}


def test_labels_arrive_one_to_three_days_late(make):
    lake = make("none")
    joined = lake.joined
    lag = (joined["labeled_at"] - joined[lake.cols["timestamp"]]).dt.total_seconds() / 86_400
    assert lag.min() >= 1.0 and lag.max() <= 3.0
    assert (joined["labeled_at"] <= lake.truth.end).all()
    ts = lake.col("timestamp")
    rid = lake.cols["request_id"]
    labelled = lake.predictions.with_columns(pl.col(rid).is_in(lake.labels[rid].implode()).alias("has"))
    old = labelled.filter(ts < lake.truth.end - timedelta(days=3))["has"].mean()
    recent = labelled.filter(ts >= lake.truth.end - timedelta(days=3))["has"].mean()
    last_day = labelled.filter(ts >= lake.truth.end - timedelta(days=1))["has"].mean()
    assert 0.85 <= old <= 1.0
    assert 0.0 < recent < old and last_day == 0.0


def test_healthy_lake_keeps_its_quality(make):
    lake = make("none")
    joined = lake.joined
    cut = lake.truth.start + (lake.truth.end - lake.truth.start) * 2 / 3
    early = lake.auc(joined.filter(lake.col("timestamp") < cut))
    late = lake.auc(joined.filter(lake.col("timestamp") >= cut))
    assert 0.75 <= early <= 0.9
    assert abs(early - late) < 0.04
    fallback = lake.predictions[lake.cols["fallback"]].mean()
    assert 0.001 <= fallback <= 0.015


def test_deployments_show_a_canary_then_a_promotion(make):
    lake = make("retrain_regression", 0, seed=2)
    incident = lake.truth.versions["incident"]
    steps = lake.csv("lineage/deployments.csv").filter(pl.col("model_version") == incident)
    assert steps["route"].to_list()[0] == "canary" and 5 <= float(steps["traffic_pct"][0]) <= 10
    assert _iso(steps["deployed_at"][0]) == lake.truth.onset
    promotion = steps.filter((pl.col("route") == "primary") & (pl.col("traffic_pct").cast(pl.Float64) == 100))
    closing = steps.filter((pl.col("route") == "canary") & (pl.col("traffic_pct").cast(pl.Float64) == 0))
    assert promotion["deployed_at"].to_list() == closing["deployed_at"].to_list()
    promoted = _iso(promotion["deployed_at"][0])
    assert promoted > lake.truth.onset
    rows = lake.predictions.filter(lake.col("model_version") == incident)
    early = rows.filter(lake.col("timestamp") < promoted)
    assert early.height > 0 and (early[lake.cols["route"]] == "canary").all()
    assert rows.filter(lake.col("timestamp") >= promoted)[lake.cols["route"]].eq("primary").mean() > 0.99
    assert lake.before()[lake.cols["model_version"]].ne(incident).all()


def test_about_half_the_seeds_place_confounders_near_the_onset(make):
    near_seeds = 0
    for seed in range(12):
        truth = make("data_drift", 0, seed=seed, rows=2_000).truth
        near = [c for c in truth.confounders if c["near"]]
        near_seeds += bool(near)
        for c in near:
            assert timedelta(hours=6) <= abs(c["at"] - truth.onset) <= timedelta(hours=36), c
        for c in truth.confounders:
            if not c["near"]:
                assert abs(c["at"] - truth.onset) > timedelta(hours=36), c
    assert 3 <= near_seeds <= 9


# --------------------------------------------------------------------------- injected effects

def test_gradual_drift_moves_one_feature_only(make):
    lake = make("data_drift", 0, seed=3)
    feature = lake.truth.subject["feature"]
    ramp = lake.truth.details["ramp_hours"]
    before, after = lake.before(), lake.after(hours=ramp)
    numeric = lake.manifest["features"]["numeric"]
    ks = {f: ks_2samp(before[f].drop_nulls().to_numpy(), after[f].drop_nulls().to_numpy()).statistic for f in numeric}
    assert ks[feature] > 0.12
    assert max(v for f, v in ks.items() if f != feature) < 0.06


def test_sudden_mix_shift_raises_one_category_share(make):
    lake = make("data_drift", 1, seed=3)
    feature, category = lake.truth.subject["feature"], lake.truth.details["category"]
    share = [frame[feature].eq(category).mean() for frame in (lake.before(), lake.after())]
    assert share[1] - share[0] > 0.12


def test_unit_change_multiplies_the_feature_and_changes_the_schema_facet(make):
    lake = make("schema_mismatch", 0, seed=4)
    truth = lake.truth
    feature, factor = truth.subject["feature"], truth.details["factor"]
    ratio = lake.after()[feature].median() / lake.before()[feature].median()
    assert factor / 1.3 < ratio < factor * 1.3

    runs = [e for e in lake.events() if e["eventType"] == "COMPLETE"
            and f"{e['outputs'][0]['namespace']}/{e['outputs'][0]['name']}" == truth.subject["dataset"]]
    types = [{f["name"]: f["type"] for f in e["outputs"][0]["facets"]["schema"]["fields"]}[truth.details["field"]]
             for e in runs]
    first_new = next(i for i, t in enumerate(types) if t == truth.details["new_type"])
    assert types[first_new - 1] == truth.details["old_type"]
    assert _iso(runs[first_new]["eventTime"]) == truth.onset
    assert runs[first_new]["run"]["runId"] == truth.details["run_id"]
    assert feature in lake.csv("lineage/features.csv").filter(
        pl.col("source_dataset") == truth.subject["dataset"])["feature"].to_list()


def test_rename_nulls_the_feature_from_the_run_that_renamed_it(make):
    lake = make("schema_mismatch", 1, seed=4)
    truth = lake.truth
    feature = truth.subject["feature"]
    assert lake.before()[feature].null_count() / lake.before().height < 0.05
    assert lake.after()[feature].null_count() == lake.after().height
    fields = [{f["name"] for f in e["outputs"][0]["facets"]["schema"]["fields"]} for e in lake.events()
              if e["eventType"] == "COMPLETE" and e["run"]["runId"] == truth.details["run_id"]]
    assert truth.details["new_field"] in fields[0] and truth.details["field"] not in fields[0]


def test_code_set_change_brings_unseen_categories(make):
    lake = make("schema_mismatch", 2, seed=4)
    feature = lake.truth.subject["feature"]
    known = set(lake.before()[feature].drop_nulls().unique())
    after = lake.after()[feature].drop_nulls()
    assert after.is_in(list(known)).mean() < 0.02


@pytest.mark.parametrize("variant", [0, 1])
def test_latency_regression_slows_the_new_version(make, variant):
    lake = make("latency_regression", variant, seed=5)
    truth, cols = lake.truth, lake.cols
    version = truth.subject["model_version"]
    after = lake.after()
    p95 = after.group_by(cols["model_version"]).agg(pl.col(cols["latency_ms"]).quantile(0.95))
    p95 = dict(p95.iter_rows())
    older = lake.before().filter(lake.col("timestamp") >= truth.onset - timedelta(days=2))
    baseline = older[cols["latency_ms"]].quantile(0.95)
    assert p95[version] / baseline > 0.8 * truth.details["p95_factor"]
    routes = set(after.filter(lake.col("model_version") == version)[cols["route"]].unique())
    assert routes == ({"canary"} if variant == 1 else {"canary", "primary"})


@pytest.mark.parametrize("variant", [0, 1])
def test_bias_regression_hurts_one_segment_only(make, variant):
    lake = make("bias_regression", variant, seed=6, rows=60_000)
    truth = lake.truth
    segment = truth.subject["segment"]
    in_segment = pl.col(segment["column"]) == segment["value"]
    old = lake.before(lake.joined)
    new = lake.joined.filter(lake.col("model_version") == truth.subject["model_version"])
    segment_drop = lake.auc(old.filter(in_segment)) - lake.auc(new.filter(in_segment))
    overall_drop = lake.auc(old) - lake.auc(new)
    assert segment_drop > 0.05
    assert overall_drop < 0.04 and segment_drop > overall_drop + 0.05


def test_embedding_api_change_rotates_and_rescales_embeddings(make):
    lake = make("third_party_change", 0, seed=7)
    truth, cols = lake.truth, lake.cols
    norm = pl.col(cols["embedding"]).list.eval(pl.element() ** 2).list.sum().sqrt()
    before = lake.before().select(norm)[cols["embedding"]]
    after = lake.after().select(norm)[cols["embedding"]]
    assert abs(before.mean() - 1.0) < 1e-3
    assert abs(after.mean() - truth.details["norm"]) < 0.02
    deps = lake.csv("lineage/dependencies.csv").filter(pl.col("dependency") == truth.subject["dependency"])
    bump = deps.filter(pl.col("changed_at") == truth.to_dict()["onset"])
    assert bump.height == 1 and bump["version"][0].endswith(".0.0") and bump["consumers"][0] == cols["embedding"]
    assert lake.auc(lake.after(lake.joined)) < lake.auc(lake.before(lake.joined)) - 0.015


def test_external_api_change_reshapes_a_feature_without_a_schema_change(make):
    lake = make("third_party_change", 1, seed=7)
    truth = lake.truth
    feature = truth.subject["feature"]
    before, after = lake.before(lake.joined), lake.after(lake.joined)
    if truth.details["mode"] == "inverted":
        # same range, but high now means what low meant: the feature's relation to the label flips
        label = pl.col(lake.cols["label"]).cast(pl.Float64)
        corr = [frame.select(pl.corr(feature, label, method="spearman")).item() for frame in (before, after)]
        assert corr[0] * corr[1] < 0 and abs(corr[0]) > 0.05
    else:
        assert ks_2samp(before[feature].drop_nulls().to_numpy(), after[feature].drop_nulls().to_numpy()).statistic > 0.2
    source = lake.csv("lineage/features.csv").filter(pl.col("feature") == feature)["source_dataset"][0]
    outputs = {f"{o['namespace']}/{o['name']}" for e in lake.events() for o in e["outputs"]}
    assert source not in outputs
    consumers = lake.csv("lineage/dependencies.csv").filter(pl.col("dependency") == truth.subject["dependency"])
    assert set(consumers["consumers"]) == {feature}


def test_global_telemetry_loss_lowers_capture(make):
    lake = make("telemetry_loss", 0, seed=8)
    truth = lake.truth
    traffic = lake.csv("metrics/traffic.csv").with_columns(
        pl.col("timestamp").str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%SZ"),
        pl.col("requests").cast(pl.Int64))
    edge = truth.onset.replace(minute=0, second=0) + timedelta(hours=1)
    ingress_before = traffic.filter(pl.col("timestamp") < truth.onset.replace(minute=0, second=0))["requests"].sum()
    ingress_after = traffic.filter(pl.col("timestamp") >= edge)["requests"].sum()
    logged_before = lake.predictions.filter(lake.col("timestamp") < truth.onset.replace(minute=0, second=0)).height
    logged_after = lake.after(hours=(edge - truth.onset).total_seconds() / 3600).height
    assert logged_before / ingress_before > 0.99
    assert abs(logged_after / ingress_after - (1 - truth.details["loss_rate"])) < 0.03


def test_canary_telemetry_loss_is_confined_to_the_canary(make):
    lake = make("telemetry_loss", 1, seed=8)
    truth = lake.truth
    traffic = lake.csv("metrics/traffic.csv").with_columns(
        pl.col("timestamp").str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%SZ"),
        pl.col("requests").cast(pl.Int64))
    edge = truth.onset.replace(minute=0, second=0) + timedelta(hours=1)
    after = lake.after(hours=(edge - truth.onset).total_seconds() / 3600)
    for route, expected in (("canary", 1 - truth.details["loss_rate"]), ("primary", 1.0)):
        ingress = traffic.filter((pl.col("timestamp") >= edge) & (pl.col("route") == route))["requests"].sum()
        logged = after.filter(lake.col("route") == route).height
        assert abs(logged / ingress - expected) < (0.1 if route == "canary" else 0.01), route
    canary_versions = set(after.filter(lake.col("route") == "canary")[lake.cols["model_version"]])
    assert canary_versions == {truth.subject["model_version"]}


@pytest.mark.parametrize("variant", [0, 1])
def test_retrain_regression_is_worse_overall(make, variant):
    lake = make("retrain_regression", variant, seed=9)
    truth, cols = lake.truth, lake.cols
    new = lake.joined.filter(lake.col("model_version") == truth.subject["model_version"])
    assert lake.auc(new) < lake.auc(lake.before(lake.joined)) - 0.04
    if variant == 1:
        assert _ece(new, cols) > _ece(lake.before(lake.joined), cols) + 0.02
    deployments = lake.csv("lineage/deployments.csv")
    assert deployments["training_dataset"].n_unique() == 3 and deployments["artifact_digest"].n_unique() == 3


@pytest.mark.parametrize(("variant", "pattern"), [(0, EMAIL), (1, None), (2, IBAN)])
def test_pii_appears_only_after_the_onset(make, variant, pattern):
    lake = make("pii_leak", variant, seed=10)
    truth = lake.truth
    column = truth.subject["column"]
    assert column not in lake.manifest["sensitive"] and column not in lake.manifest["features"]["categorical"]
    if pattern is None:
        pattern = PHONE if truth.details["kind"] == "phone" else DIGITS16

    def hits(frame: pl.DataFrame) -> np.ndarray:
        found = [pattern.search(text) for text in frame[column].to_list()]
        if pattern is DIGITS16:
            return np.array([m is not None and _luhn(m.group()) for m in found])
        return np.array([m is not None for m in found])

    assert hits(lake.before()).sum() == 0
    assert abs(hits(lake.after()).mean() - truth.details["share"]) < 0.03


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_healthy_free_text_has_look_alikes_but_no_pii(make, seed):
    lake = make("none", seed=seed, rows=5_000)
    other = [c for c in ("client_tag", "user_agent", "search_query") if c in lake.predictions.columns]
    assert len(other) == 1
    texts = lake.predictions[other[0]].to_list()
    assert not any(EMAIL.search(t) or PHONE.search(t) or IBAN.search(t) for t in texts)
    numbers = [m.group() for t in texts for m in [DIGITS16.search(t)] if m]
    assert not any(_luhn(n) for n in numbers)
    if other[0] != "user_agent":
        assert numbers  # order numbers that look like cards but fail the Luhn check


def test_serving_bug_inverts_outputs_of_the_same_artifact(make):
    lake = make("serving_bug", 0, seed=11)
    truth = lake.truth
    new = lake.joined.filter(lake.col("model_version") == truth.subject["model_version"])
    assert lake.auc(new) < 0.5
    steps = lake.csv("lineage/deployments.csv")
    benign = steps.filter(pl.col("model_version") == truth.versions["benign"]).row(0, named=True)
    buggy = steps.filter(pl.col("model_version") == truth.subject["model_version"]).row(0, named=True)
    assert buggy["artifact_digest"] == benign["artifact_digest"]
    assert buggy["training_dataset"] == benign["training_dataset"]
    assert buggy["serving_commit"] != benign["serving_commit"]


def test_serving_bug_swapping_inputs_hurts_quality(make):
    # swapped inputs land far outside their range: scores go wrong in level more than in rank,
    # so the log loss (ranking and calibration together) is what must get worse
    lake = make("serving_bug", 1, seed=11)
    new = lake.joined.filter(lake.col("model_version") == lake.truth.subject["model_version"])
    assert _log_loss(new, lake.cols) > _log_loss(lake.before(lake.joined), lake.cols) + 0.03


# --------------------------------------------------------------------------- tasks and formats

@pytest.mark.parametrize("task", ["multiclass", "regression"])
@pytest.mark.parametrize("cause", ["none", "data_drift", "schema_mismatch", "telemetry_loss",
                                   "latency_regression", "pii_leak"])
def test_other_tasks(make, task, cause):
    lake = make(cause, 0, seed=12, task=task, rows=8_000, days=10)
    cols = lake.cols
    prediction = lake.predictions[cols["prediction"]]
    if task == "regression":
        assert "score" not in cols
        assert not {"score", "proba", "confidence"} & set(lake.predictions.columns)
        assert prediction.dtype == pl.Float64 and lake.labels[cols["label"]].dtype == pl.Float64
    else:
        classes = set(lake.labels[cols["label"]].unique())
        assert 3 <= len(classes) <= 5 and set(prediction.unique()) <= classes
        score = lake.predictions[cols["score"]]
        assert score.min() >= 1 / len(classes) - 1e-9 and score.max() <= 1.0


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_text_formats(make, fmt):
    lake = make("schema_mismatch", 1, seed=13, fmt=fmt, rows=8_000, days=10)
    files = sorted((lake.root / "predictions").glob(f"date=*.{fmt}"))
    assert len(files) == 10
    first = files[0].read_text().splitlines()[1]
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first)
    assert lake.predictions.height == lake.truth.rows
    if fmt == "csv":
        assert "embedding" not in lake.cols and not any(c in lake.predictions.columns for c in ("embedding", "emb"))
    else:
        emb = lake.predictions[lake.cols["embedding"]]
        assert emb.dtype.is_nested() and 8 <= emb.list.len().min() <= 16
    assert lake.after()[lake.truth.subject["feature"]].null_count() == lake.after().height
