"""Spark Connect: `workbench triage --engine spark --spark-master sc://...` in another process, a
Connect client of the test session's JVM, finds what the polars engine finds."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

from workbench.lake import open_lake
from workbench.rca import triage
from workbench.synthetic import generate_lake


def _since(truth, hours=12):
    return (truth.onset or truth.start + (truth.end - truth.start) * 0.75) - dt.timedelta(hours=hours)


def test_triage_through_spark_connect_matches_polars(tmp_path, connect_url):
    path = tmp_path / "lake"
    truth = generate_lake(path, cause="data_drift", seed=67, rows=8_000, days=8, n_numeric=3, n_categorical=2)
    since = _since(truth)
    expected = triage(open_lake(path, mask_key="k"), since=since)
    out = tmp_path / "findings.json"
    env = {**os.environ, "WORKBENCH_MASK_KEY": "k"}
    proc = subprocess.run([sys.executable, "-m", "workbench", "triage", str(path), "--since", since.isoformat(),
                           "--engine", "spark", "--spark-master", connect_url, "--json", str(out), "--quiet"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert doc["verdict"]["cause"] == expected.verdict["cause"] == truth.cause
    assert abs(doc["verdict"]["score"] - expected.verdict["score"]) <= 0.01
    got = doc["hypotheses"][0]
    want = json.loads(json.dumps(expected.to_dict(), default=str))["hypotheses"][0]
    assert (got["cause"], got["subject"], got.get("onset")) == (want["cause"], want["subject"], want.get("onset"))
