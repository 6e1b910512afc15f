"""One ``did you mean`` for the lake layer: the manifest's keys and tasks and the tables' columns."""

from __future__ import annotations

import pytest

import workbench.lake.manifest as manifest
import workbench.lake.tables as tables
from workbench.lake._suggest import did_you_mean


@pytest.mark.parametrize(("word", "choices", "then", "want"), [
    ("lable", ["request_id", "label", "labeled_at"], None, "did you mean `label`?"),
    ("scroe", ("score", "latency_ms"), "map it.", "did you mean `score`? map it."),
    ("zzzz", ["score"], "map it.", "map it."),
    ("zzzz", ["score"], None, None),
    (3, ["score"], None, None),
    ("binary_clasification", ("binary_classification", "regression"), None, "did you mean `binary_classification`?"),
])
def test_did_you_mean(word, choices, then, want):
    assert did_you_mean(word, choices, then) == want


def test_the_lake_layer_has_one_suggest():
    assert not hasattr(tables, "_suggest") and not hasattr(manifest, "_suggest")
    assert tables.did_you_mean is manifest.did_you_mean is did_you_mean
