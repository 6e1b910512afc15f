"""Specs kept per chart shape: a swap of rows gives what a fresh build gives, or nothing is kept."""

from __future__ import annotations

import altair as alt

from workbench.widgets.specs import KeptSpecs, ViewCharts


def _single(rows):
    return alt.Chart(alt.Data(values=rows)).mark_bar().encode(x="a:N", y="b:Q")


def _layered(rows):
    rule = alt.Chart(alt.Data(values=[{"r": 1}])).mark_rule().encode(y="r:Q")
    out = alt.layer(alt.Chart().mark_line().encode(x="a:N", y="b:Q"), rule)
    out.data = {"values": rows}
    return out


def test_a_swap_gives_a_fresh_build_for_inline_and_named_rows():
    one, two = [{"a": "x", "b": 1}, {"a": "y", "b": 2}], [{"a": "x", "b": 5}, {"a": "z", "b": 7}]
    for make in (_single, _layered):
        kept = KeptSpecs()
        built = []
        first = kept.spec(make.__name__, one, lambda: built.append(1) or make(one))
        second = kept.spec(make.__name__, two, lambda: built.append(1) or make(two))
        assert built == [1]  # built once for the shape
        assert first == make(one).to_dict(validate=False) and second == make(two).to_dict(validate=False)
        assert kept.spec(make.__name__, one, lambda: make(one)) == first  # the kept spec is unchanged


def test_rows_the_chart_does_not_carry_are_never_swapped():
    kept = KeptSpecs()
    rows = [{"a": "x", "b": 1}]
    other = [{"a": "x", "b": 1.0, "extra": True}]  # not what the chart carries
    calls = []
    for _ in range(2):
        assert kept.spec("s", other, lambda: calls.append(1) or _single(rows)) == _single(rows).to_dict(validate=False)
    assert calls == [1, 1]


def test_view_charts_are_made_when_read():
    charts, made = ViewCharts(), []
    charts.put("a", lambda: made.append("a") or "chart a")
    charts.put("b", None)
    assert made == [] and set(charts) == {"a", "b"}
    assert charts["a"] == "chart a" and charts["a"] == "chart a" and made == ["a"]
    assert charts["b"] is None and dict(charts.items()) == {"a": "chart a", "b": None}
    charts.set("a", "another")
    assert charts["a"] == "another"


def test_text_placeholders_are_filled_in_titles_not_in_rows():
    def make(rows, name):
        return _single(rows).encode(color=alt.Color("a:N", title=name)).properties(title=f"b by {name}")

    kept, calls = KeptSpecs(), []
    rows = [{"a": "@key@", "b": 1}]  # a row holding the placeholder's text is left alone
    for name in ("route", "prompt version"):
        got = kept.spec("s", rows, lambda: calls.append(1) or make(rows, "@key@"), fill={"@key@": name})
        assert got == make(rows, name).to_dict(validate=False)
    assert calls == [1]
