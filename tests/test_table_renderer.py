"""workbench.tables, the one table renderer (tests/lake/test_tables.py is the lake's tables):
formatting rules, escaping, highlight, sorting, Markdown, and the readable HTML of every result
that uses it."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest

from workbench.exceptions import UsageError
from workbench.tables import Table, fmt_cell, markdown_html, table, title

T0 = dt.datetime(2026, 3, 12, 14, 5, 31, tzinfo=dt.timezone.utc)


def _frame() -> pl.DataFrame:
    return pl.DataFrame({
        "model_version": ["1.0", "<b>2</b>"], "n": [12345, 7], "p95": [123.456, 1234.5],
        "fallback_rate": [0.0123, 0.5], "q_value": [1e-5, 0.2], "auc_ci": [[0.7, 0.8], [0.71234, 0.8]],
        "breached": [True, False], "at": [T0, None], "x": [float("nan"), 2.0], "tags": [["a", "b"], []],
    })


def _visible(html: str) -> str:
    """The text a reader sees: no style, no script, no tags."""
    html = re.sub(r"<style>.*?</style>|<script>.*?</script>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_headers_in_words_with_units():
    t = table(_frame())
    assert [t.titles[c] for c in t.columns] == ["version", "rows", "p95 (ms)", "fallback rate (%)", "q-value",
                                                "AUC 95% CI", "breached", "at", "x", "tags"]
    assert title("latency_p95_ms") == "latency p95 (ms)" and title("capture_rate") == "capture rate (%)"
    assert table(_frame(), columns={"n": "requests"}).titles == {"n": "requests"}


def test_cells_are_rounded_and_marked():
    rows = table(_frame()).cells()
    assert rows[0] == ["1.0", "12,345", "123", "1.2", "<0.001", "[0.700, 0.800]", "✓", "2026-03-12 14:05 UTC", "—",
                       "a, b"]
    assert rows[1] == ["<b>2</b>", "7", "1,234", "50.0", "0.200", "[0.712, 0.800]", "—", "—", "2.00", "—"]
    # formatted strings of known numeric columns are read back as numbers; ISO strings as times
    assert fmt_cell("4.361e-13", "p") == "<0.001" and fmt_cell("2026-03-12T14:05:00Z") == "2026-03-12 14:05 UTC"
    assert fmt_cell({"province": "QC", "age": 3}) == "province=QC, age=3"
    assert fmt_cell(dt.timedelta(hours=2, minutes=30)) == "2.5 h"


def test_html_is_escaped_self_contained_and_has_no_polars_repr():
    df = _frame()
    html = table(df).to_html()
    assert html.startswith("<style>") and '<table class="wb-table">' in html
    assert "&lt;b&gt;2&lt;/b&gt;" in html and "<b>2</b>" not in html
    text = _visible(html)
    assert "shape:" not in text and '"' not in text
    assert not re.search(r"\b(str|f64|i64|bool|datetime\[)", text)  # no dtype row
    assert "http" not in html and "@import" not in html and "<script" not in html  # offline; no script unless sortable
    assert str(df) not in html


def test_highlight_by_column_expression_or_predicate():
    df = _frame()
    by_col = table(df, highlight="breached")
    assert by_col.highlighted == [0] and by_col.to_html().count('<tr class="wb-hl">') == 1
    assert table(df, highlight=pl.col("p95") > 1000).highlighted == [1]
    assert table(df.to_dicts(), highlight=pl.col("p95") > 1000).highlighted == [1]  # a list of dicts too
    assert table(df, highlight=lambda r: r["n"] < 10).highlighted == [1]
    with pytest.raises(UsageError, match="no such column"):
        table(df, highlight="nope")
    with pytest.raises(UsageError, match="could not be evaluated"):
        table(df, highlight=pl.col("nope") > 1)


def test_rows_are_capped_with_a_count():
    t = table(pl.DataFrame({"n": list(range(120))}), max_rows=50)
    html = t.to_html()
    assert html.count("<tr>") == 1 + 50 + 1 and "… 70 more rows" in html  # header, shown rows, the count
    assert "… 70 more rows" in t.to_markdown() and len(t) == 120


def test_output_is_deterministic():
    a, b = table(_frame(), highlight="breached", sortable=True), table(_frame(), highlight="breached", sortable=True)
    assert a.to_html() == b.to_html() and a.to_markdown() == b.to_markdown()
    assert "id=" not in a.to_html()  # no generated element ids


def test_sortable_adds_sort_keys_and_one_tiny_script():
    html = table(_frame(), sortable=True).to_html()
    assert html.count("<script>") == 1 and "wbSort" in html and len(html.split("<script>")[1]) < 1200
    assert 'data-sort="12345.0"' in html and 'data-sort="2026-03-12T14:05:31+00:00"' in html
    assert 'data-sort=""' in html  # missing values sort last


def test_sort_keeps_highlights_with_their_rows_and_missing_last():
    t = table(_frame(), highlight="breached").sort("p95", descending=True)
    assert [r[2] for r in t.cells()] == ["1,234", "123"] and t.highlighted == [1]
    t = table([{"a": None}, {"a": 3.0}, {"a": 1.0}]).sort("a")
    assert [r[0] for r in t.cells()] == ["1.00", "3.00", "—"]
    with pytest.raises(UsageError, match="no column"):
        t.sort("zzz")


def test_markdown_form():
    md = table(_frame(), highlight="breached", caption="SLIs | now").to_markdown()
    lines = md.splitlines()
    assert lines[0] == "**SLIs \\| now**"
    assert lines[2].startswith("| version | rows | p95 (ms)") and lines[3].startswith("|---|---:|---:|")
    assert "| **1.0** | **12,345** |" in md and "&lt;b&gt;2&lt;/b&gt;" in md
    assert Table._repr_markdown_ is not None and "**" not in markdown_html("**x**")


def test_bad_input_is_a_named_error():
    with pytest.raises(UsageError, match="LazyFrame"):
        table(pl.LazyFrame({"a": [1]}))
    with pytest.raises(UsageError, match="list of dicts"):
        table(42)
    with pytest.raises(UsageError, match="unknown kind"):
        table(_frame(), units={"n": "furlongs"})
    assert len(table(None)) == 0 and "no rows" in table(None).to_html()
    empty = table(pl.DataFrame(schema={"sli": pl.String, "at": pl.Datetime}), empty="no burn-rate alert")
    assert "<th>SLI</th>" in empty.to_html() and "no burn-rate alert" in empty.to_html()
    assert empty.to_markdown().endswith("_no burn-rate alert_") and empty.sort("at").empty == "no burn-rate alert"


def test_repr_is_short():
    r = repr(table(_frame()))
    assert r.startswith("<Table 2 rows × 10 columns: version, rows") and len(r) < 120


# -- results use it ------------------------------------------------------------------------
def _findings():
    from workbench.rca.finding import Evidence, Finding, Findings, LineageEvent

    top = Finding(cause="schema_mismatch", score=0.97, subject={"feature": "utilization"}, onset=T0,
                  evidence=(Evidence("psi", 8.73, 0.0, 1e-9, None, "PSI 8.73 <huge>"),
                            Evidence("scale_ratio", 100.0, 1.0, None, (90.0, 110.0), "100x the baseline")),
                  lineage=(LineageEvent("openlineage_schema_change", T0, "run-1", "risk.bureau"),),
                  next_steps=("fix the upstream job",), summary="a unit change")
    other = Finding(cause="data_drift", score=0.18, subject={"feature": "utilization"}, summary="drift alone")
    return Findings(lake="demo", window={"start": T0, "end": T0 + dt.timedelta(days=1), "rows": 100},
                    baseline={"start": T0 - dt.timedelta(days=7), "end": T0, "rows": 700}, symptoms=(),
                    hypotheses=(top, other))


def test_findings_and_finding_html_are_tables_and_the_json_is_unchanged():
    import json

    from workbench.rca.finding import FINDINGS_MIME, Finding, Findings

    f = _findings()
    bundle = f._repr_mimebundle_()
    assert set(bundle) == {FINDINGS_MIME, "text/html", "text/plain"} and bundle[FINDINGS_MIME] == f.to_dict()
    for html in (bundle["text/html"], f.top._repr_html_(), f.top.evidence._repr_html_()):
        assert '<table class="wb-table">' in html, html
        text = _visible(html)
        assert "Finding(" not in text and "Evidence(" not in text and "**" not in text and "shape:" not in text
    assert bundle["text/html"].count('class="wb-hl"') == 1  # the diagnosis
    assert "&lt;huge&gt;" in f.top._repr_html_() and "[90.0, 110]" in f.top._repr_html_()
    doc = json.loads(json.dumps(f.to_dict()))
    assert isinstance(doc["hypotheses"][0]["evidence"], list) and doc["hypotheses"][0]["evidence"][0]["check"] == "psi"
    assert Findings.from_dict(doc).to_dict() == f.to_dict()
    assert Finding.from_dict(f.top.to_dict()) == f.top and f.top.evidence == tuple(f.top.evidence)
    assert repr(f.top.evidence).startswith("(Evidence(")


def test_report_table_helpers_return_tables():
    from workbench import report

    f = _findings()
    for t in (report.hypotheses_table(f), report.evidence_table(f), report.symptoms_table(f)):
        assert isinstance(t, Table)
    assert report.table is table
    assert "**" not in report.Markdown("**Verdict**")._repr_html_()


def test_results_without_their_own_table_show_fields_not_a_repr():
    from workbench.evidence.versions import MismappingResult

    m = MismappingResult(version="v2", previous="v1", inverted=False, auc=0.8, auc_ci=(0.7, 0.9), previous_auc=0.79,
                         mirror_js=0.9, direct_js=0.1, detail="fine")
    html = m._repr_html_()
    assert "Mismapping result" in html and "MismappingResult(" not in html and "0.700, 0.900" in html


def test_click_to_sort_in_a_browser(tmp_path):
    from labserver import CHROMIUM, chromium_page

    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    df = pl.DataFrame({"name": ["b", "a", "c", "d"], "p95": [120.0, 9.5, None, 1500.0], "n": [10, 2000, 30, 4]})
    page_html = tmp_path / "t.html"
    page_html.write_text("<html><body>" + table(df, sortable=True, highlight=pl.col("p95") > 1000).to_html()
                         + table(df, sortable=True).to_html() + "</body></html>", encoding="utf-8")
    with chromium_page() as (page, errors, requests):
        page.goto(page_html.as_uri())
        first = page.locator("table.wb-table").first

        def names():
            return first.locator("tbody tr td:first-child").all_inner_texts()

        first.locator("th", has_text="p95").click()
        assert names() == ["a", "b", "d", "c"]  # ascending, the missing value last
        first.locator("th", has_text="p95").click()
        assert names() == ["d", "b", "a", "c"]  # descending, the missing value still last
        first.locator("th", has_text="rows").click()
        assert names() == ["d", "b", "c", "a"]  # numbers compared as numbers (4 < 10 < 30 < 2000)
        assert page.locator("tr.wb-hl td").first.inner_text() == "d"  # the highlight moves with its row
        assert not errors, errors
        assert all(r.startswith("file:") for r in requests), requests  # nothing fetched
