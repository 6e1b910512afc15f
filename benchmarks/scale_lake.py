"""Scale a generated lake up K times without holding it in memory (for bench_triage.py).

Usage::

    python benchmarks/scale_lake.py BASE_LAKE OUT_LAKE --copies 100

Each day's predictions (and labels) file of ``BASE_LAKE`` (a ``generate_lake`` lake) is written
``copies`` times into one Parquet file of ``OUT_LAKE`` (row groups of about ``--row-group`` rows,
polars' default size: whole copies each), with the copy's
number appended to ``request_id`` and ``trace_id`` (so ids stay unique and labels still join).
Ingress counts in ``metrics/traffic.csv`` are multiplied by ``copies``; lineage, manifest and
``truth.json`` are copied as they are. Every hour then holds ``copies`` times the base rows with
the same distributions: drift, segments and the incident are the base lake's, at K times the rows.
Only one copy of one day is in memory at a time.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import polars as pl


def _ids(df: pl.DataFrame, k: int) -> pl.DataFrame:
    suffix = f"-{k:03d}"
    return df.with_columns([pl.col(c) + suffix for c in ("request_id", "trace_id") if c in df.columns])


def _replicate(src: Path, dst: Path, copies: int, row_group: int) -> int:
    """Write ``copies`` id-suffixed copies of ``src`` into ``dst``, whole copies per row group."""
    base = pl.read_parquet(src, hive_partitioning=False)
    dst.parent.mkdir(parents=True, exist_ok=True)
    frames = [_ids(base, k).lazy() for k in range(copies)]
    per = max(1, round(row_group / max(base.height, 1)))
    pl.concat(frames).sink_parquet(dst, row_group_size=per * base.height, statistics=True)
    return base.height * copies


def scale(base: Path, out: Path, copies: int, row_group: int = 512 ** 2) -> int:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("workbench.yaml", "truth.json"):
        shutil.copy(base / name, out / name)
    shutil.copytree(base / "lineage", out / "lineage")
    (out / "metrics").mkdir()
    traffic = pl.read_csv(base / "metrics" / "traffic.csv")
    traffic.with_columns(pl.col("requests") * copies).write_csv(out / "metrics" / "traffic.csv")
    rows = 0
    for table in ("predictions", "labels"):
        for p in sorted((base / table).rglob("*.parquet")):
            n = _replicate(p, out / p.relative_to(base), copies, row_group)
            rows += n if table == "predictions" else 0
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--copies", type=int, required=True)
    ap.add_argument("--row-group", type=int, default=512 ** 2, help="rows per row group (about)")
    args = ap.parse_args()
    print(f"{scale(args.base, args.out, args.copies, args.row_group):,} prediction rows written to {args.out}")


if __name__ == "__main__":
    main()
