"""Bad spans (named error or counted skip), the read-only input, and where the lake may be written."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import polars as pl
import pytest
from otel_export import export_lines, make_spans, write_export

from workbench.cli import main
from workbench.exceptions import ImportFormatError, UsageError
from workbench.importers import import_telemetry


@pytest.fixture(scope="module")
def lines():
    return export_lines(make_spans())


def _spans_of(line):
    return [s for rs in line["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]


def _chat_line(lines):
    for no, line in enumerate(lines):
        for s in _spans_of(line):
            if s["name"] == "chat gpt-4o-mini":
                return no, s
    raise AssertionError("no chat span")


@pytest.mark.parametrize("field", ["startTimeUnixNano", "traceId", "spanId"])
def test_a_span_without_a_required_field_is_a_named_error(tmp_path, lines, field):
    lines = json.loads(json.dumps(lines))
    no, span = _chat_line(lines)
    del span[field]
    src = write_export(tmp_path / "in" / "t.jsonl", lines)
    with pytest.raises(ImportFormatError) as err:
        import_telemetry(src, tmp_path / "lake")
    e = err.value
    assert e.file == str(src) and e.line == no + 1 and e.column.endswith(field)
    assert "missing" in str(e) and "--on-bad-span skip" in str(e)
    assert not (tmp_path / "lake").exists()  # nothing half-written


def test_skip_counts_and_says_why(tmp_path, lines):
    lines = json.loads(json.dumps(lines))
    _no, span = _chat_line(lines)
    del span["startTimeUnixNano"]
    src = write_export(tmp_path / "in" / "t.jsonl", lines)
    res = import_telemetry(src, tmp_path / "lake", on_bad_span="skip")
    assert res.skipped == {"startTimeUnixNano: missing": 1}
    assert res.rows == 1
    assert "skipped 1 bad span(s)" in res.render() and "startTimeUnixNano: missing" in res.render()
    assert json.loads(json.dumps(res.to_dict()))["skipped"] == {"startTimeUnixNano: missing": 1}


def test_an_unreadable_token_count_is_a_bad_span(tmp_path, lines):
    lines = json.loads(json.dumps(lines))
    _no, span = _chat_line(lines)
    for kv in span["attributes"]:
        if kv["key"] == "gen_ai.usage.input_tokens":
            kv["value"] = {"stringValue": "many"}
    src = write_export(tmp_path / "in" / "t.jsonl", lines)
    with pytest.raises(ImportFormatError, match="gen_ai.usage.input_tokens"):
        import_telemetry(src, tmp_path / "lake")
    res = import_telemetry(src, tmp_path / "lake", on_bad_span="skip")
    assert res.skipped == {"gen_ai.usage.input_tokens: expected an integer": 1}


def test_cli_error_and_skip(tmp_path, lines, capsys):
    lines = json.loads(json.dumps(lines))
    _no, span = _chat_line(lines)
    del span["spanId"]
    src = write_export(tmp_path / "in" / "t.jsonl", lines)
    assert main(["import", str(src), str(tmp_path / "lake")]) == 2
    err = capsys.readouterr().err
    assert "ImportFormatError" in err and "line: 1" in err and "spanId" in err and "Traceback" not in err
    assert main(["import", str(src), str(tmp_path / "lake"), "--on-bad-span", "skip"]) == 0
    out = capsys.readouterr().out
    assert "skipped 1 bad span(s)" in out and "spanId: missing" in out


def _digest(folder):
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


def test_the_input_is_never_touched(tmp_path, lines):
    src = write_export(tmp_path / "in" / "t.jsonl", lines)
    os.chmod(src, stat.S_IRUSR | stat.S_IRGRP)
    before = _digest(tmp_path / "in")
    try:
        import_telemetry(src, tmp_path / "lake")
        import_telemetry(tmp_path / "in", tmp_path / "lake", overwrite=True)
    finally:
        os.chmod(src, stat.S_IRUSR | stat.S_IWUSR)
    assert _digest(tmp_path / "in") == before


def test_out_inside_the_inputs_folder_is_refused_unless_asked(tmp_path, lines):
    src = write_export(tmp_path / "in" / "t.jsonl", lines)
    with pytest.raises(UsageError, match="inside the input's folder"):
        import_telemetry(src, tmp_path / "in" / "lake")
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["t.jsonl"]
    res = import_telemetry(src, tmp_path / "in" / "lake", allow_inside_source=True)
    assert res.rows == 2
    with pytest.raises(UsageError, match="contain the input"):
        import_telemetry(src, tmp_path / "in", allow_inside_source=True, overwrite=True)


def test_an_existing_folder_needs_overwrite_and_only_a_lake_is_replaced(tmp_path, lines):
    src = write_export(tmp_path / "in" / "t.jsonl", lines)
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        import_telemetry(src, work)
    with pytest.raises(UsageError, match="replaces only a lake"):
        import_telemetry(src, work, overwrite=True)
    assert (work / "notes.txt").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    assert import_telemetry(src, tmp_path / "empty").rows == 2  # an empty folder is fine
    with pytest.raises(UsageError, match="not empty"):
        import_telemetry(src, tmp_path / "empty")
    assert import_telemetry(src, tmp_path / "empty", overwrite=True).rows == 2
    assert pl.read_parquet(tmp_path / "empty" / "predictions" / "*.parquet").height == 2


def test_unknown_format_and_nothing_to_import(tmp_path):
    odd = tmp_path / "in" / "x.json"
    odd.parent.mkdir()
    odd.write_text(json.dumps({"rows": [1, 2]}))
    with pytest.raises(ImportFormatError, match="cannot tell the telemetry format") as err:
        import_telemetry(odd, tmp_path / "lake")
    assert "--format" in str(err.value)
    with pytest.raises(UsageError, match="does not exist"):
        import_telemetry(tmp_path / "nope.jsonl", tmp_path / "lake")
    bad_line = tmp_path / "in2" / "x.jsonl"
    bad_line.parent.mkdir()
    bad_line.write_text('{"resourceSpans": []}\n{not json\n')
    with pytest.raises(ImportFormatError, match="not valid JSON") as err:
        import_telemetry(bad_line, tmp_path / "lake")
    assert err.value.line == 2
