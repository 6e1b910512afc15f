"""The ``workbench`` Altair renderer and the HTML it becomes: zoom added where it makes sense,
specs that cannot break out of their script element, sections numbered with anchors."""

from __future__ import annotations

import json

import altair as alt
import nbformat
import pytest

from workbench.report.html import interactive_outputs, number_sections
from workbench.report.interactive import SPEC_KEY, chart_html, interactive_spec, offline_renderer

ROWS = [{"t": f"2026-03-0{d}T00:00:00Z", "v": d * 1.5, "k": "a</script><b>x"} for d in range(1, 6)]


def _line():
    return alt.Chart(alt.Data(values=ROWS)).mark_line().encode(x="t:T", y="v:Q", tooltip=["k:N"])


def test_renderer_gives_svg_with_the_spec_in_the_metadata():
    spec = _line().to_dict()
    data, meta = offline_renderer(spec)
    assert data["image/svg+xml"].lstrip().startswith("<svg") and set(data) == {"image/svg+xml"}
    assert meta["image/svg+xml"][SPEC_KEY] == spec


@pytest.mark.parametrize(("chart", "zoomed"), [
    (_line(), 1),
    (alt.layer(_line(), alt.Chart(alt.Data(values=[{"t": "2026-03-02"}])).mark_rule().encode(x="t:T")), 1),
    (alt.vconcat(_line(), _line()), 2),
    (alt.Chart(alt.Data(values=ROWS)).mark_bar().encode(x="k:N", y="v:Q"), 0),  # nominal x: nothing to zoom
    (_line().add_params(alt.selection_interval(name="brush", encodings=["x"])), 0),  # keeps its own brush
])
def test_zoom_is_bound_to_continuous_x_scales_once_per_view(chart, zoomed):
    spec = interactive_spec(chart.to_dict())
    text = json.dumps(spec)
    assert text.count('"bind": "scales"') == zoomed and "$schema" not in spec
    import vl_convert as vlc

    assert vlc.vegalite_to_svg(spec).lstrip().startswith("<svg")  # still a valid spec


def test_spec_text_cannot_close_its_script():
    html = chart_html("<svg></svg>", _line().to_dict(), 3)
    body = html.split('class="wb-chart-spec">', 1)[1]
    assert body.count("</script>") == 1 and body.endswith("</script></div>")
    assert 'id="wb-chart-3"' in html and "<svg></svg>" in html


def test_only_outputs_with_a_spec_become_live():
    nb = nbformat.v4.new_notebook()
    data, meta = offline_renderer(_line().to_dict())
    nb.cells = [nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("display_data", data=data, metadata=meta),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg/>"})])]
    assert interactive_outputs(nb) == 1
    first, second = nb.cells[0].outputs
    assert "text/html" in first.data and 'class="wb-chart"' in first.data["text/html"] and first.metadata == {}
    assert second.data == {"image/svg+xml": "<svg/>"}


def _h2(anchor, title):
    return f'<div class="jp-Cell x"><h2 id="{anchor}">{title}<a class="anchor-link" href="#{anchor}">¶</a></h2></div>'


def test_sections_are_numbered_and_listed_when_there_are_enough():
    page = "<main><div class=\"jp-Cell t\"><h1>T</h1></div>" + "".join(
        _h2(a, t) for a, t in [("Verdict", "Verdict"), ("Why", "Why <em>this</em>"), ("Next", "Next")]) + "</main>"
    out = number_sections(page)
    assert out.index('<nav class="wb-toc"') < out.index('<div class="jp-Cell x">')
    assert '<a href="#Why">Why this</a>' in out and '<span class="wb-section-number">3</span>Next' in out
    short = number_sections("<main>" + _h2("A", "A") + "</main>")
    assert "wb-toc" not in short and '<span class="wb-section-number">1</span>A' in short


def test_contents_sit_right_under_the_headline_card():
    page = ('<main><div class="jp-Cell a"><h1>T</h1></div><div class="jp-Cell b"><div class="wb-headline">H</div></div>'
            '<div class="jp-Cell c"><p>findings written</p></div>'
            + "".join(_h2(a, a) for a in ("A", "B", "C")) + "</main>")
    out = number_sections(page)
    assert out.index("wb-headline") < out.index("wb-toc") < out.index("findings written")
