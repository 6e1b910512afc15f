"""The widgets change no process-wide state (Altair renderers or JupyterChart's offline switch,
polars Config, warnings), their constructors only store arguments, and repr never computes."""

from __future__ import annotations

import contextlib
import io
import warnings

import altair as alt
import polars as pl
import pytest

import workbench as wb
from workbench.widgets import Explorer, ExplorerModel
from handmade_lake import predictions_frame, write_lake


def _globals():
    return (alt.JupyterChart.__dict__.get("_esm"), alt.JupyterChart._is_offline, alt.renderers.active,
            alt.data_transformers.active, str(pl.Config.state()), warnings.showwarning, warnings.filters[:])


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_lake(tmp_path_factory.mktemp("ng") / "lake", preds=predictions_frame(1100))


def test_explorer_constructor_stores_arguments_and_repr_never_computes(root, monkeypatch):
    calls = []
    monkeypatch.setattr(wb.Lake, "time_range", lambda self: calls.append("time_range") or (_ for _ in ()).throw(
        AssertionError("read")))
    ex = Explorer(str(root), since="2026-03-05")
    text = repr(ex)
    assert "not loaded yet" in text and str(root) in text
    assert calls == [] and "model" not in ex.__dict__ and "lake" not in ex.__dict__
    # a missing lake is reported on first use, with the lake layer's named error
    with pytest.raises(wb.WorkbenchError):
        Explorer(str(root / "nope")).widget


def test_explorer_model_reads_the_lake_on_first_use(root, monkeypatch):
    lake = wb.open_lake(root, mask_key="k")
    passes = []
    real = ExplorerModel.hourly.func
    monkeypatch.setattr(ExplorerModel, "hourly", property(lambda self: passes.append(1) or real(self)))
    m = ExplorerModel(lake)
    assert passes == [] and "not read yet" in repr(m)
    assert m.versions == ["1.0.0", "1.1.0"] and passes


def test_explorer_leaves_process_wide_state_as_it_was(root):
    alt.JupyterChart.enable_offline(False)
    before = _globals()
    ex = Explorer(str(root))
    with contextlib.redirect_stdout(io.StringIO()):  # Output widgets print outside a kernel
        assert ex.charts["slis"] is not None
        ex.version.value = "1.1.0"
    assert _globals() == before
    jc = ex._jcharts["slis"]
    # the charts still load Vega from the bundle vl-convert ships, not from a CDN
    assert isinstance(jc, alt.JupyterChart) and type(jc) is not alt.JupyterChart
    assert jc._esm != alt.JupyterChart._esm and len(jc._esm) > 100 * len(alt.JupyterChart._esm)
    text = repr(ex)
    assert "rows)" in text and "version=1.1.0" in text
    # repr after loading reads the last refresh: no summary is filtered again
    ex.model.describe = None
    assert repr(ex) == text
