"""Loading artifacts: skops preferred, pickle only when trusted, clear named errors otherwise."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression

from workbench.exceptions import ArtifactError, UntrustedArtifactError
from workbench.explain import load_artifact, resolve_artifact


class Custom:  # a type skops does not trust by default
    def __init__(self):
        self.w = np.arange(3.0)


@pytest.fixture
def sklearn_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    return LogisticRegression().fit(x, (x[:, 0] > 0).astype(int)), x


def test_skops_sklearn_model_loads_without_trust(tmp_path, sklearn_model):
    model, x = sklearn_model
    sio.dump(model, tmp_path / "m.skops")
    back = load_artifact("m.skops", root=tmp_path)
    np.testing.assert_allclose(back.predict_proba(x), model.predict_proba(x))


def test_skops_untrusted_types_need_trust(tmp_path):
    sio.dump(Custom(), tmp_path / "c.skops")
    with pytest.raises(UntrustedArtifactError) as e:
        load_artifact(tmp_path / "c.skops")
    assert "Custom" in str(e.value) and "trust_artifacts=True" in str(e.value)
    assert isinstance(e.value, PermissionError)
    assert load_artifact(tmp_path / "c.skops", trust_artifacts=True).w.tolist() == [0.0, 1.0, 2.0]


def test_pickle_is_refused_unless_trusted(tmp_path, sklearn_model):
    model, x = sklearn_model
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(model))
    with pytest.raises(UntrustedArtifactError, match="arbitrary code"):
        load_artifact("m.pkl", root=tmp_path)
    back = load_artifact("m.pkl", root=tmp_path, trust_artifacts=True)
    np.testing.assert_allclose(back.predict_proba(x), model.predict_proba(x))


@pytest.mark.parametrize(("uri", "match"), [
    ("s3://bucket/model.skops", "remote"),
    ("missing.skops", "not found"),
    ("", "names no artifact"),
])
def test_bad_uris_are_named(tmp_path, uri, match):
    with pytest.raises(ArtifactError, match=match):
        resolve_artifact(uri, root=tmp_path)


def test_unknown_format_and_corrupt_file(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"\x00")
    with pytest.raises(ArtifactError, match="unknown artifact format"):
        load_artifact(tmp_path / "m.onnx")
    (tmp_path / "bad.skops").write_bytes(b"not a zip")
    with pytest.raises(ArtifactError, match="cannot read skops"):
        load_artifact(tmp_path / "bad.skops")
    assert resolve_artifact(f"file://{tmp_path / 'm.onnx'}") == tmp_path / "m.onnx"
