"""The walkthroughs in notebooks/ run top to bottom with Papermill and are committed without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill as pm
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.parametrize("name", ["getting-started", "investigate-an-incident"])
def test_notebook_runs(tmp_path, name):
    src = NOTEBOOKS / f"{name}.ipynb"
    for c in nbformat.read(src, as_version=4).cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None
    params = {"work_dir": str(tmp_path / "inv")} if name == "investigate-an-incident" else {}
    out = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(str(src), str(out), parameters=params, kernel_name="python3", progress_bar=False,
                        cwd=str(NOTEBOOKS))
    nb = nbformat.read(out, as_version=4)
    text = "".join(str(o.get("data", {}).get("text/markdown", "")) for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)
    assert "Verdict:" in text
    if name == "investigate-an-incident":
        assert "triage said **latency_regression**" in text
