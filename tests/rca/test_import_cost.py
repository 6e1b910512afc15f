"""Triage's import cost: scipy.stats (~0.7 s) is loaded on first use or by triage's prefetch."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_importing_rca_and_evidence_does_not_load_scipy_stats():
    code = ("import sys, workbench as wb, workbench.rca, workbench.evidence; wb.triage; "
            "print(','.join(m for m in ('scipy.stats', 'sklearn', 'altair', 'ipywidgets') if m in sys.modules))")
    assert _run(code) == ""


def test_the_lazy_stats_module_and_the_prefetch_load_scipy_stats():
    code = ("import sys, threading; from workbench.evidence._scipy import prefetch, stats; "
            "from workbench.evidence.stats import two_proportion; "
            "before = 'scipy.stats' in sys.modules; prefetch(); p = two_proportion(10, 100, 30, 100)[1]; "
            "[t.join() for t in threading.enumerate() if t.name.startswith('workbench-import')]; "
            "import scipy.stats as s; print(before, 'scipy.stats' in sys.modules, stats.norm is s.norm, 0 < p < 0.01)")
    assert _run(code) == "False True True True"
