"""Library calls leave process-wide settings alone: a report's notebook sets its own kernel up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CODE = r"""
import json, sys, warnings
import altair as alt, polars as pl

def state():
    return {"renderer": alt.renderers.active, "transformer": alt.data_transformers.active,
            "options": repr(alt.data_transformers.options), "polars": pl.Config.state(if_set=True)}

before = state()
import workbench as wb
from workbench import charts, report
from workbench.synthetic import generate_lake

root = sys.argv[1]
generate_lake(root, cause="latency_regression", variant=1, seed=int(sys.argv[2]), rows=int(sys.argv[3]))
lake = wb.open_lake(root, mask_key="k")
study = report.latency_study(lake)
charts.latency_chart(study).to_dict()
report.model_health(lake)
after = state()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    report.setup()
print(json.dumps({"before": before, "after": after, "setup": state(),
                  "warned": [str(w.category.__name__) for w in caught]}))
"""


@pytest.mark.parametrize(("seed", "rows"), [(5, 6_000)])
def test_studies_and_charts_change_no_global_setting(tmp_path, seed, rows):
    r = subprocess.run([sys.executable, "-c", CODE, str(tmp_path / "lake"), str(seed), str(rows)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["after"] == out["before"]
    # the deprecated explicit set-up still works for old notebooks, and says what it changes
    assert out["setup"]["renderer"] == "svg" and out["setup"] != out["before"]
    assert out["warned"] == ["DeprecationWarning"]
