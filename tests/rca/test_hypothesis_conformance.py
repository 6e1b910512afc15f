"""One conformance suite for every hypothesis, built-in or plugin (as tests/evidence/test_conformance.py
is for detectors): quiet on healthy lakes; runs without failing on lakes without labels, without
lineage, or with one model version only; findings JSON-safe, with a full subject and next steps;
the triage document byte-identical across processes.

Lakes are small generated ones (20k-30k rows), a different seed, theme and size each.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import shutil
import subprocess
import sys

import polars as pl
import pytest
import yaml

import workbench as wb
from workbench.exceptions import FindingError, HypothesisError
from workbench.rca import (
    BUILTIN_HYPOTHESES, DECISION_THRESHOLD, SUBJECT_KEYS, Evidence, Finding, Hypothesis, load_hypotheses, subject,
)
from workbench.rca.engine import _as_hypothesis
from workbench.synthetic import generate_lake


class RowsPerHour(Hypothesis):
    """A tiny plugin: flags a window serving far more rows per hour than its baseline."""

    cause = "capacity_crunch"

    def evaluate(self, ctx):
        per_hour = lambda s: s.rows / max(1, s.table["bucket"].n_unique())  # noqa: E731
        ratio = per_hour(ctx.window) / max(per_hour(ctx.baseline), 1e-9)
        score = min(1.0, max(0.0, (ratio - 1.5) / 1.5))  # 1.5x -> 0, 3x -> 1
        return [Finding(cause=self.cause, score=round(score, 4), subject=subject(route="primary"),
                        evidence=(Evidence("rows_per_hour_ratio", ratio, baseline=1.0,
                                           detail=f"{ratio:.2f}x the baseline's rows per hour"),),
                        next_steps=("add serving capacity",), hypothesis=self.name)]


def fallback_share(ctx):
    """A plugin written as a plain callable: the window's fallback share against the baseline's."""
    def share(s):
        t = s.collapse().table
        return float(t["fallback"][0] / t["n"][0]) if "fallback" in t.columns and t["n"][0] else 0.0

    rise = share(ctx.window) - share(ctx.baseline)
    if rise <= 0.05:
        return None
    return Finding(cause="fallback_storm", score=min(1.0, rise * 5), subject=subject(route="primary"),
                   next_steps=("check the fallback path",))


def _hypotheses():
    return [*load_hypotheses(plugins=False), RowsPerHour(), _as_hypothesis(fallback_share, "fallback_share")]


def _since(truth) -> dt.datetime:
    anchor = truth.onset or (truth.start + (truth.end - truth.start) * 0.75)
    return anchor - dt.timedelta(hours=8 + truth.seed % 13)


def _triage(path, since):
    hs = _hypotheses()
    f = wb.triage(path, since=since, hypotheses=hs, mask_key="conformance")
    return f, hs


def _check_findings(f, hs) -> None:
    """What every finding of every hypothesis must satisfy, on any lake."""
    assert f.meta["errors"] == [], f.meta["errors"]  # no hypothesis failed
    assert set(f.meta["hypotheses"]) == {h.name for h in hs}
    doc = f.to_dict()
    text = json.dumps(doc, allow_nan=False)  # JSON-safe: no NaN, no datetime, no numpy
    assert json.loads(text) == doc
    for h in f.hypotheses:
        assert 0.0 <= h.score <= 1.0 and math.isfinite(h.score)
        assert h.hypothesis, h  # which hypothesis produced it
        assert tuple(h.subject) == SUBJECT_KEYS, h.subject  # the full subject, in contract order
        assert any(v is not None for v in h.subject.values()), h  # and it names a culprit
        assert h.next_steps and all(isinstance(s, str) and s.strip() for s in h.next_steps), h
        for e in h.evidence:
            assert isinstance(e, Evidence)
        d = h.to_dict()
        assert Finding.from_dict(json.loads(json.dumps(d))).to_dict() == d  # round-trips


@pytest.fixture(scope="module")
def lakes(tmp_path_factory):
    root = tmp_path_factory.mktemp("conformance")
    out = {}
    for name, cause, seed, rows in (("healthy-a", "none", 811, 20_000), ("healthy-b", "none", 826, 22_000),
                                    ("drift", "schema_mismatch", 834, 24_000),
                                    ("release", "retrain_regression", 847, 30_000)):
        truth = generate_lake(root / name, cause=cause, variant=0, seed=seed, rows=rows, days=10)
        out[name] = (root / name, truth)
    return out


def _copy(src, dst, *, drop_keys=(), drop_dirs=()):
    shutil.copytree(src, dst)
    manifest = yaml.safe_load((dst / "workbench.yaml").read_text())
    for k in drop_keys:
        manifest.pop(k, None)
    (dst / "workbench.yaml").write_text(yaml.safe_dump(manifest))
    for d in drop_dirs:
        shutil.rmtree(dst / d)
    return dst


@pytest.mark.parametrize("name", ["healthy-a", "healthy-b"])
def test_every_hypothesis_is_quiet_on_a_healthy_lake(lakes, name):
    path, truth = lakes[name]
    f, hs = _triage(path, _since(truth))
    _check_findings(f, hs)
    loud = [(h.cause, h.score, h.culprit()) for h in f.hypotheses if h.score >= DECISION_THRESHOLD]
    assert loud == [] and f.verdict["cause"] == "none", loud


def test_every_hypothesis_runs_on_a_lake_without_labels(lakes, tmp_path):
    path, truth = lakes["release"]
    bare = _copy(path, tmp_path / "no-labels", drop_keys=("labels",), drop_dirs=("labels",))
    f, hs = _triage(bare, _since(truth))
    _check_findings(f, hs)
    assert not wb.open_lake(bare).has_labels
    assert not any(s["sli"] in ("auc", "accuracy", "mae") for s in f.symptoms)  # nothing measured, nothing claimed


def test_every_hypothesis_runs_on_a_lake_without_lineage(lakes, tmp_path):
    path, truth = lakes["drift"]
    bare = _copy(path, tmp_path / "no-lineage", drop_keys=("lineage",), drop_dirs=("lineage", "metrics"))
    f, hs = _triage(bare, _since(truth))
    _check_findings(f, hs)
    for h in f.hypotheses:  # no lineage: no finding may cite a lineage event from the lake's tables
        assert all(e.kind not in ("openlineage_schema_change", "dependency_change", "rollout") for e in h.lineage), h


def test_every_hypothesis_runs_on_a_lake_with_one_model_version(lakes, tmp_path):
    path, truth = lakes["release"]
    one = _copy(path, tmp_path / "one-version")
    version = truth.versions["baseline"]
    column = yaml.safe_load((one / "workbench.yaml").read_text())["columns"]["model_version"]
    for p in sorted((one / "predictions").rglob("*.parquet")):  # every row logged as one version
        pl.read_parquet(p).with_columns(pl.lit(version).alias(column)).write_parquet(p)
    f, hs = _triage(one, _since(truth))
    _check_findings(f, hs)
    assert {h.subject["model_version"] for h in f.hypotheses} <= {None, version}
    assert not any(h.cause in ("retrain_regression", "serving_bug", "bias_regression", "latency_regression")
                   and h.score >= DECISION_THRESHOLD for h in f.hypotheses)


_TRIAGE = """
import sys
from workbench.cli import main
sys.exit(main(["triage", sys.argv[1], "--since", sys.argv[2], "--json", sys.argv[3], "--quiet"]))
"""


def test_triage_document_is_byte_identical_across_processes(lakes, tmp_path):
    path, truth = lakes["drift"]
    since = _since(truth).strftime("%Y-%m-%dT%H:%MZ")
    out = []
    for run in ("a", "b"):
        dest = tmp_path / f"findings-{run}.json"
        subprocess.run([sys.executable, "-c", _TRIAGE, str(path), since, str(dest)], check=True, capture_output=True)
        out.append(dest.read_bytes())
    assert out[0] == out[1]
    assert json.loads(out[0])["hypotheses"], "a run with no finding would compare nothing"


def test_every_builtin_hypothesis_has_named_frozen_thresholds():
    for cls in BUILTIN_HYPOTHESES:
        h = cls()
        th = h.thresholds
        assert dataclasses.is_dataclass(th) and type(th).__dataclass_params__.frozen, cls
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(th, dataclasses.fields(th)[0].name, 0)
        assert cls(thresholds=th).thresholds is th  # a team may pass its own


def test_bad_plugins_and_findings_raise_named_errors():
    with pytest.raises(HypothesisError, match="not a Hypothesis"):
        _as_hypothesis(42, "pkg:thing")
    with pytest.raises(FindingError, match="score out of range"):
        Finding(cause="x", score=1.5, subject=subject())
    with pytest.raises(FindingError, match="unknown keys"):
        subject(table="t")
    # the named errors keep the builtins callers caught before
    assert issubclass(HypothesisError, TypeError) and issubclass(FindingError, ValueError)
