"""Malformed files in generated lakes: errors name the file and the line; odd rows are counted."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import polars as pl
import pytest

import workbench as wb
from workbench import exceptions as E
from workbench.lake.info import lake_info
from workbench.synthetic import generate_lake


def _lake(tmp_path, fmt, seed, rows=8_000, days=21, **kw):
    root = tmp_path / f"lake-{fmt}-{seed}"
    generate_lake(root, seed=seed, rows=rows, days=days, fmt=fmt, **kw)
    return root


def _pick(root: Path, k: int) -> Path:
    files = sorted((root / "predictions").rglob("*.*"))
    assert len(files) > k
    return files[k]


def _edit_line(path: Path, line: int, fn) -> None:
    lines = path.read_text().split("\n")
    lines[line - 1] = fn(lines[line - 1])
    path.write_text("\n".join(lines))


def _drop_fields(line: str, cut: int) -> str:
    import csv
    import io

    rec = next(csv.reader([line]))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(rec[:-cut])
    return buf.getvalue()


def _info(root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lake_info(wb.open_lake(root, mask_key="k"))


@pytest.mark.parametrize(("seed", "k", "line"), [(3, 8, 199), (11, 15, 41)])
def test_csv_extra_fields_name_the_file_and_line(tmp_path, seed, k, line):
    root = _lake(tmp_path, "csv", seed)
    bad = _pick(root, k)
    _edit_line(bad, line, lambda s: s + ",x1,x2")
    with pytest.raises(E.CorruptFileError) as ei:
        _info(root)
    err = ei.value
    assert err.file == str(bad.relative_to(root)) and err.line == line
    assert "fields" in err.found and "as in the header" in err.expected


@pytest.mark.parametrize(("seed", "k", "line"), [(3, 9, 180), (12, 2, 77)])
def test_csv_unclosed_quote_names_the_file_and_line(tmp_path, seed, k, line):
    root = _lake(tmp_path, "csv", seed)
    bad = _pick(root, k)
    _edit_line(bad, line, lambda s: s.replace(",", ',"', 3).replace(',"', ",", 2))
    with pytest.raises(E.CorruptFileError) as ei:
        _info(root)
    assert ei.value.file == str(bad.relative_to(root)) and ei.value.line == line
    assert "quote" in str(ei.value)


@pytest.mark.parametrize(("seed", "k", "line"), [(3, 7, 201), (13, 12, 160)])
def test_ndjson_broken_line_names_the_file_and_line(tmp_path, seed, k, line):
    root = _lake(tmp_path, "ndjson", seed)
    bad = _pick(root, k)
    _edit_line(bad, line, lambda s: s[:-1])
    with pytest.raises(E.CorruptFileError) as ei:
        _info(root)
    assert ei.value.file == str(bad.relative_to(root)) and ei.value.line == line
    assert "JSON" in str(ei.value) and "character" in ei.value.found


@pytest.mark.parametrize(("seed", "cut"), [(3, 2), (14, 5)])
def test_csv_short_rows_are_counted_with_file_and_line(tmp_path, seed, cut):
    root = _lake(tmp_path, "csv", seed)
    bad1, bad2 = _pick(root, 4), _pick(root, 10)
    for bad, line in ((bad1, 120), (bad2, 33), (bad2, 90)):
        _edit_line(bad, line, lambda s: _drop_fields(s, cut))
    info = _info(root)
    text = [w for w in info.warnings if "fewer fields" in w]
    assert len(text) == 1, info.warnings
    assert text[0].startswith("3 rows of predictions with fewer fields")
    assert f"{bad1.relative_to(root)} line 120" in text[0] and f"{bad2.relative_to(root)} line 33" in text[0]
    assert "ok: the lake keeps the contract" not in info.render()


def test_healthy_csv_lake_has_no_ragged_rows(tmp_path):
    info = _info(_lake(tmp_path, "csv", 15))
    assert not [w for w in info.warnings if "fields" in w]


@pytest.mark.parametrize(("seed", "years", "n"), [(3, 10, 4), (16, 1, 1)])
def test_rows_dated_in_the_future_are_warned_and_counted(tmp_path, seed, years, n):
    root = _lake(tmp_path, "parquet", seed)
    bad = _pick(root, 6)
    df = pl.read_parquet(bad, hive_partitioning=False)
    ts = df["timestamp"]
    shifted = [t + dt.timedelta(days=365 * years) if i < n else t for i, t in enumerate(ts.to_list())]
    df.with_columns(pl.Series("timestamp", shifted, dtype=ts.dtype)).write_parquet(bad)
    info = _info(root)
    text = [w for w in info.warnings if "in the future" in w]
    assert len(text) == 1 and text[0].startswith(f"{n} prediction rows are dated in the future"), info.warnings
    assert "Validation  ok" not in info.render()


def test_healthy_lake_has_no_future_or_undeployed_warnings(tmp_path):
    info = _info(_lake(tmp_path, "parquet", 17))
    assert not [w for w in info.warnings if "future" in w or "deployments table" in w], info.warnings


@pytest.mark.parametrize(("seed", "name", "share"), [(3, "9.9.9-hotfix", 0.2), (18, "rogue", 0.05)])
def test_version_missing_from_deployments_is_named_and_counted(tmp_path, seed, name, share):
    root = _lake(tmp_path, "parquet", seed)
    bad = _pick(root, 5)
    df = pl.read_parquet(bad, hive_partitioning=False)
    k = max(1, int(df.height * share))
    mv = df["model_version"].to_list()
    df.with_columns(pl.Series("model_version", [name] * k + mv[k:], dtype=df["model_version"].dtype)
                    ).write_parquet(bad)
    info = _info(root)
    text = [w for w in info.warnings if "missing from the deployments table" in w]
    assert len(text) == 1 and f"{name} ({k:,} rows)" in text[0], info.warnings
    assert text[0].startswith("1 model version serving")


def test_the_manifest_file_is_accepted_as_the_lake(tmp_path):
    root = _lake(tmp_path, "parquet", 19)
    lake = wb.open_lake(root / "workbench.yaml", mask_key="k")
    assert lake.root == root.resolve() and lake.profile().rows > 0


def test_another_file_as_the_lake_says_a_lake_is_a_directory(tmp_path):
    root = _lake(tmp_path, "parquet", 20)
    with pytest.raises(E.LakeNotFoundError, match="a lake is a directory, not a file") as ei:
        wb.open_lake(root / "lineage" / "deployments.csv")
    assert str(root) in ei.value.hint
    # and the JSON manifest error is not dressed up as YAML
    assert "YAML" not in str(ei.value)


@pytest.mark.parametrize(("seed", "ks"), [(3, (16,)), (21, (2, 11))])
def test_files_of_naive_timestamps_among_zoned_ones_are_read_as_utc_and_named(tmp_path, seed, ks):
    import re

    root = _lake(tmp_path, "csv", seed)
    before = wb.open_lake(root, mask_key="k").predictions(["request_id", "timestamp"]).collect().sort("request_id")
    bad = [_pick(root, k) for k in ks]
    for p in bad:
        p.write_text(re.sub(r"(\d{4}-\d\d-\d\dT[\d:.]+)Z", r"\1", p.read_text()))
    lake = wb.open_lake(root, mask_key="k")
    after = lake.predictions(["request_id", "timestamp"]).collect().sort("request_id")
    assert after["timestamp"].null_count() == 0
    assert after.equals(before)  # naive read as UTC: the same instants, no row lost
    info = _info(root)
    text = [w for w in info.warnings if "without a zone" in w]
    assert len(text) == 1 and all(str(p.relative_to(root)) in text[0] for p in bad), info.warnings
    assert text[0].startswith(f"{len(bad)} predictions file")
