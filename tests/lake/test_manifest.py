"""The manifest: every field read, with the contract's defaults."""

from __future__ import annotations

import pytest

from workbench.exceptions import ManifestError
from workbench.lake.manifest import ROLE_DEFAULTS, parse_manifest


def test_defaults():
    m = parse_manifest({}, default_name="my-lake")
    assert m.name == "my-lake" and m.task == "binary_classification"
    assert m.predictions == "predictions/" and m.labels == "labels/" and not m.labels_explicit
    assert m.columns.mapping() == ROLE_DEFAULTS and m.columns.fallback == "is_fallback"
    assert (m.slo.latency_p95_ms, m.slo.fallback_rate, m.slo.capture_rate) == (300, 0.01, 0.99)
    assert m.lineage.deployments == "lineage/deployments.csv" and m.lineage.traffic == "metrics/traffic.csv"
    assert m.lineage.explicit == frozenset() and m.features.all == () and m.segments == ()


def test_every_field():
    raw = {
        "name": "card-fraud-scorer", "task": "multiclass", "predictions": "preds/*.parquet", "labels": "gt/",
        "columns": {"score": "proba", "fallback": "fb", "route": "lane"},
        "features": {"numeric": ["amount"], "categorical": ["country", "device"]},
        "segments": ["region", "country"], "sensitive": "email",
        "slo": {"latency_p95_ms": 120, "capture_rate": 0.995},
        "lineage": {"openlineage": "ol/*.ndjson", "traffic": "ingress.csv"},
    }
    m = parse_manifest(raw)
    assert m.name == "card-fraud-scorer" and m.task == "multiclass"
    assert m.predictions == "preds/*.parquet" and m.labels == "gt/" and m.labels_explicit
    assert (m.columns.score, m.columns.fallback, m.columns.route, m.columns.label) == ("proba", "fb", "lane", "label")
    assert m.columns.explicit == {"score", "fallback", "route"}
    assert m.features.numeric == ("amount",) and m.features.categorical == ("country", "device")
    assert m.segments == ("region", "country") and m.sensitive == ("email",)
    assert (m.slo.latency_p95_ms, m.slo.fallback_rate, m.slo.capture_rate) == (120.0, 0.01, 0.995)
    assert m.lineage.openlineage == "ol/*.ndjson" and m.lineage.deployments == "lineage/deployments.csv"
    assert m.lineage.explicit == {"openlineage", "traffic"}
    d = m.to_dict()
    assert d["columns"]["score"] == "proba" and d["features"]["categorical"] == ["country", "device"]
    assert parse_manifest({k: v for k, v in d.items() if k != "path"}).to_dict() == d | {"path": "workbench.yaml"}


@pytest.mark.parametrize(("raw", "match"), [
    ([1, 2], "must be a mapping"),
    ({"features": {"numeric": ["a"], "categorical": ["a"]}}, "both numeric and categorical"),
    ({"features": {"numerical": ["a"]}}, "did you mean `numeric`"),
    ({"columns": {"score": "x", "prediction": "x"}}, "two roles map to the same column"),
    ({"columns": {"score": ""}}, "must map to a column name"),
    ({"slo": {"latency_p95_ms": -1}}, "non-negative"),
    ({"slo": {"latency_p95_ms": True}}, "non-negative"),
    ({"lineage": {"deployments": 3}}, "must be a string"),
    ({"segments": ["a", "a"]}, "lists a column twice"),
    ({"name": 7}, "non-empty string"),
])
def test_invalid(raw, match):
    with pytest.raises(ManifestError, match=match):
        parse_manifest(raw)
