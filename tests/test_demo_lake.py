"""The committed demo lake: small, valid, and exactly what its documented command regenerates."""

from __future__ import annotations

import hashlib
import re
import shlex
from pathlib import Path

import workbench as wb
from workbench.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo-lake"


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_demo_lake_is_small_and_valid():
    size = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file())
    assert size <= 20 * 2**20
    info = wb.open_lake(DEMO).validate()
    assert info.rows > 50_000 and not info.warnings


def test_demo_lake_regenerates_byte_for_byte(tmp_path):
    args = re.search(r"^DEMO_ARGS := (.+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert main(["synth", str(tmp_path / "demo"), *shlex.split(args)]) == 0
    assert _digest(tmp_path / "demo") == _digest(DEMO)
