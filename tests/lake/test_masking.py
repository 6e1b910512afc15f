"""Sensitive columns are masked at load; raw values never leave the loader."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import polars as pl
import pytest
import yaml

import workbench as wb
from workbench import exceptions as E
from workbench.lake.info import lake_info
from workbench.lake.masking import MASK_PREFIX, Masker, resolve_mask_key
from handmade_lake import RAW_EMAILS, RAW_PHONES, predictions_frame, write_lake

RAW = RAW_EMAILS + RAW_PHONES


def _contains_raw(text: str) -> list[str]:
    return [r for r in RAW if r in text]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "ndjson"])
def test_sensitive_columns_are_hashed_with_equality_kept(tmp_path, fmt):
    lake = wb.open_lake(write_lake(tmp_path / "l", fmt=fmt))
    df = lake.predictions().collect()
    raw = predictions_frame()
    for col in ("email", "phone"):
        assert df[col].str.starts_with(MASK_PREFIX).all()
        # equality kept: same grouping as the raw column
        assert df[col].n_unique() == raw[col].n_unique() == 3
        pairs = pl.DataFrame({"m": df.sort("request_id")[col], "r": raw.sort("request_id")[col]}).unique()
        assert pairs.height == 3
    assert not _contains_raw(df.drop("embedding").write_csv())


def test_mask_is_keyed_and_stable(tmp_path):
    root = write_lake(tmp_path / "l")
    a = wb.open_lake(root, mask_key="one").predictions(["email"]).collect()["email"]
    b = wb.open_lake(root, mask_key="one").predictions(["email"]).collect()["email"]
    c = wb.open_lake(root, mask_key="two").predictions(["email"]).collect()["email"]
    assert a.to_list() == b.to_list()
    assert set(a.to_list()).isdisjoint(c.to_list())


def test_hmac_matches_the_standard_library():
    import hashlib
    import hmac

    m = Masker(b"secret")
    expected = hmac.new(b"secret", b"alice@example.org", hashlib.sha256).hexdigest()
    assert m.mask_value("alice@example.org") == MASK_PREFIX + expected[:20]
    s = m.mask_series(pl.Series("x", ["alice@example.org", None, "alice@example.org"]))
    assert s.to_list() == [m.mask_value("alice@example.org"), None, m.mask_value("alice@example.org")]
    assert "secret" not in repr(m)


def test_non_text_and_nested_sensitive_values_are_masked():
    m = Masker(b"k")
    ints = m.mask_series(pl.Series("bin", [411111, 411111, 550000]))
    assert ints.dtype == pl.String and ints[0] == ints[1] != ints[2]
    nested = m.mask_series(pl.Series("tags", [["a@b.c"], ["a@b.c"], None]))
    assert nested[0] == nested[1] and nested[2] is None and "a@b.c" not in str(nested.to_list())


def test_user_key_file_is_created_private(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_MASK_KEY")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    k1 = resolve_mask_key()
    k2 = resolve_mask_key()
    path = tmp_path / "cfg" / "workbench" / "mask.key"
    assert k1 == k2 and path.exists()
    assert path.stat().st_mode & 0o777 == 0o600


def test_sensitive_request_id_still_joins_labels(tmp_path):
    root = write_lake(tmp_path / "l", manifest={"sensitive": ["email", "phone", "request_id"]})
    lake = wb.open_lake(root)
    df = lake.predictions(["request_id", "label"], with_labels=True).collect()
    assert df["request_id"].str.starts_with(MASK_PREFIX).all()
    assert df["label"].is_not_null().sum() == 144
    chain = lake.lineage_of("req-00010")  # the raw id still finds its row
    assert chain.request_id.startswith(MASK_PREFIX) and "req-00010" not in str(chain)


def test_no_artifact_contains_a_raw_value(tmp_path):
    """Search every artifact the lake layer produces for the raw values."""
    root = write_lake(tmp_path / "l", fmt="csv")
    lake = wb.open_lake(root)
    texts = [repr(lake), lake._repr_html_(), repr(lake.lineage)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = lake_info(root)
    texts += [info.render(), json.dumps(info.to_dict()), repr(info)]
    chain = lake.lineage_of("req-00010")
    texts += [str(chain), repr(chain), chain._repr_html_(), json.dumps(chain.to_dict())]
    df = lake.predictions(with_labels=True).collect()
    texts += [str(df), df.drop("embedding").write_csv(), df.write_json()]
    texts += [str(lake.timeline()), str(lake.schema)]
    out = tmp_path / "out"
    out.mkdir()
    r = subprocess.run([sys.executable, "-m", "workbench.cli", "lake-info", str(root), "--json",
                        str(out / "info.json")], capture_output=True, text=True, env=_env())
    assert r.returncode == 0, r.stderr
    texts += [r.stdout, r.stderr, (out / "info.json").read_text()]
    leaks = {i: _contains_raw(t) for i, t in enumerate(texts) if _contains_raw(t)}
    assert not leaks
    assert any(MASK_PREFIX in t for t in texts)  # masked values did reach the outputs


def test_errors_never_show_sensitive_values(tmp_path):
    # a sensitive column whose text would not parse as the type a writer meant
    preds = predictions_frame().with_columns(pl.col("email").alias("amount_text"))
    root = write_lake(tmp_path / "l", preds=preds, labels=False,
                      manifest={"sensitive": ["email", "phone", "amount_text"],
                                "features": {"numeric": ["amount", "amount_text"], "categorical": ["country"]}})
    lake = wb.open_lake(root)  # a sensitive numeric feature is masked, not parsed
    assert lake.predictions(["amount_text"]).collect()["amount_text"].str.starts_with(MASK_PREFIX).all()
    m = yaml.safe_load((root / "workbench.yaml").read_text())
    m["sensitive"] = ["phone"]
    (root / "workbench.yaml").write_text(yaml.safe_dump(m))
    with pytest.raises(E.ColumnTypeError) as ei:
        wb.open_lake(root)
    assert not _contains_raw(str(ei.value))


def _env():
    import os

    return {**os.environ, "WORKBENCH_MASK_KEY": "test-key"}
