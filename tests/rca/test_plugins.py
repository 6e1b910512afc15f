"""A team's own hypothesis, installed as a real package, is ranked with the built-in ones."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from workbench.synthetic import generate_lake


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    """Build and install a tiny plugin package into its own target directory."""
    src = tmp_path_factory.mktemp("plugin-src")
    (src / "wb_capacity").mkdir()
    (src / "wb_capacity" / "__init__.py").write_text(textwrap.dedent('''
        from workbench.rca import Evidence, Finding, Hypothesis, subject

        class CapacityCrunch(Hypothesis):
            """Flags any window with more rows per hour than the baseline (a toy rule)."""
            cause = "capacity_crunch"

            def evaluate(self, ctx):
                per_hour = lambda s: s.rows / max(1, s.table["bucket"].n_unique())
                ratio = per_hour(ctx.window) / per_hour(ctx.baseline)
                return [Finding(cause=self.cause, score=0.99, subject=subject(route="primary"),
                                evidence=(Evidence("rows_per_hour_ratio", ratio, baseline=1.0,
                                                   detail=f"{ratio:.2f}x the baseline's rows per hour"),),
                                next_steps=("add capacity",))]

        def broken(ctx):
            raise RuntimeError("this plugin always fails")
    '''))
    (src / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "wb-capacity"
        version = "0.1"

        [project.entry-points."workbench.hypotheses"]
        capacity = "wb_capacity:CapacityCrunch"
        broken = "wb_capacity:broken"
    '''))
    site = tmp_path_factory.mktemp("plugin-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(src)], check=True)
    return site


def test_plugin_is_discovered_ranked_and_failures_are_contained(plugin_site, tmp_path):
    code = textwrap.dedent(f'''
        import datetime as dt, json, sys, warnings
        sys.path.insert(0, {str(plugin_site)!r})
        from workbench.rca import load_hypotheses, triage
        from workbench.synthetic import generate_lake
        names = [h.name for h in load_hypotheses()]
        truth = generate_lake({str(tmp_path / "lake")!r}, seed=401, rows=20000)
        since = truth.start + (truth.end - truth.start) * 0.75
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            f = triage({str(tmp_path / "lake")!r}, since=since, mask_key="k")
        print(json.dumps({{"names": names, "verdict": f.verdict, "errors": f.meta["errors"],
                           "warned": [str(x.message) for x in w],
                           "top": f.hypotheses[0].to_dict()}}, default=str))
    ''')
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    import json

    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert "wb_capacity.CapacityCrunch" in out["names"] and "wb_capacity:broken" in out["names"]
    assert out["verdict"]["cause"] == "capacity_crunch"
    assert out["top"]["hypothesis"].endswith("CapacityCrunch") and out["top"]["next_steps"] == ["add capacity"]
    assert any("always fails" in e["error"] for e in out["errors"])
    assert any("always fails" in m for m in out["warned"])


def test_plugins_can_be_turned_off(plugin_site, tmp_path):
    generate_lake(tmp_path / "lake", seed=402, rows=20000)
    code = textwrap.dedent(f'''
        import sys
        sys.path.insert(0, {str(plugin_site)!r})
        from workbench.rca import load_hypotheses
        from workbench.rca.engine import BUILTIN_HYPOTHESES
        print(len(BUILTIN_HYPOTHESES), len(load_hypotheses(plugins=False)), len(load_hypotheses()))
    ''')
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    n, a, b = map(int, r.stdout.split())
    assert n >= 16 and a == n and b == n + 2  # the built-in causes (classifiers and LLM calls), then 2 plugins

