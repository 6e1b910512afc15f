"""``report.ipynb`` -> ``report.html``: one offline file an analyst can share.

- Code hidden; nothing fetched from the network (CDN scripts and stylesheets dropped).
- Charts saved by the ``workbench`` Altair renderer become interactive (tooltips, zoom) with
  the Vega libraries inlined once per file; their SVG stays as the fallback when scripts are
  blocked. Other SVG images are inlined as they are.
- Sections (``##`` headings) numbered, with a table of contents when there are three or more.
- A small print/screen stylesheet for the headline card, tables and the folded provenance.
"""

from __future__ import annotations

import base64
import html as _html
import re
from pathlib import Path

__all__ = ["BUDGET_BYTES", "REPORT_CSS", "interactive_outputs", "number_sections", "offline", "to_offline_html"]

#: The size a report should stay under (measured by tests/report: the Vega bundle is ~0.9 MB of it).
BUDGET_BYTES = 3 * 1024 * 1024

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.I | re.S)
_LINK = re.compile(r"<link[^>]+href=[\"']https?://[^\"']*[\"'][^>]*/?>", re.I)
_SVG_IMG = re.compile(r'<img[^>]*src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"[^>]*/?>')
_H2 = re.compile(r'<h2 id="([^"]+)">(.*?)<a class="anchor-link" href="#[^"]*">¶</a></h2>', re.S)

REPORT_CSS = """
body.jp-Notebook { max-width: 1200px; margin: 0 auto; }
.wb-headline { border: 1px solid #c9ced6; border-left: 6px solid #b42318; border-radius: 6px;
  padding: 12px 16px; margin: 8px 0 16px; background: #fff8f6; font-size: 15px; line-height: 1.45; }
.wb-headline[data-verdict="none"], .wb-headline[data-verdict="go"] { border-left-color: #2e7d32; background: #f5fbf5; }
.wb-headline[data-verdict="study"] { border-left-color: #1f5fa8; background: #f5f8fc; }
.wb-headline p { margin: 4px 0; }
.wb-headline ul { margin: 4px 0 4px 18px; padding: 0; }
nav.wb-toc { border: 1px solid #e0e3e8; border-radius: 6px; padding: 8px 16px; margin: 8px 0 16px;
  font-family: var(--jp-content-font-family); font-size: var(--jp-content-font-size1, 14px);
  display: inline-block; min-width: 280px; }
nav.wb-toc ol { margin: 4px 0; padding-left: 22px; }
nav.wb-toc a { text-decoration: none; }
details.wb-provenance { margin-top: 28px; border-top: 1px solid #e0e3e8; padding-top: 8px; color: #444; }
details.wb-provenance > summary { cursor: pointer; font-weight: 600; }
.wb-section-number { color: #666; margin-right: 0.4em; }
div.wb-chart { margin: 4px 0 12px; }
@media print {
  nav.wb-toc, .anchor-link { display: none; }
  details.wb-provenance { display: block; }
  div.wb-chart, .wb-headline, table { break-inside: avoid; }
  h2, .jp-Cell:has(h2) { break-after: avoid; }
  #vg-tooltip-element { display: none; }
}
"""


def offline(html: str) -> str:
    """Drop every script or stylesheet that would reach the network (MathJax, mermaid, require.js
    from CDNs) and inline SVG images, so the file renders, and can be checked, with no network."""

    def script(m: re.Match) -> str:
        return "" if re.search(r"https?://(?!www\.w3\.org)", m.group(0)) else m.group(0)

    html = _SCRIPT.sub(script, html)
    html = _LINK.sub("", html)
    return _SVG_IMG.sub(lambda m: base64.b64decode(m.group(1)).decode("utf-8"), html)


def interactive_outputs(nb) -> int:
    """Turn each chart output carrying its Vega-Lite spec into the HTML that draws it live (SVG
    kept as the fallback), in place. Returns how many charts were turned."""
    from workbench.report.interactive import SPEC_KEY, chart_html

    n = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            meta = (out.get("metadata") or {}).get("image/svg+xml") or {}
            spec = meta.get(SPEC_KEY) if isinstance(meta, dict) else None
            svg = (out.get("data") or {}).get("image/svg+xml")
            if spec is None or svg is None:
                continue
            n += 1
            out["data"] = {"text/html": chart_html(svg, spec, n)}
            out["metadata"] = {}
    return n


def number_sections(html: str, *, toc_min: int = 3) -> str:
    """Number the ``##`` sections (``1 Verdict``) and put a table of contents under the headline
    card (else before the first section) when there are at least ``toc_min`` of them."""
    found: list[tuple[str, str]] = []

    def number(m: re.Match) -> str:
        found.append((m.group(1), m.group(2)))
        k = len(found)
        return (f'<h2 id="{m.group(1)}"><span class="wb-section-number">{k}</span>{m.group(2)}'
                f'<a class="anchor-link" href="#{m.group(1)}">¶</a></h2>')

    out = _H2.sub(number, html)
    if len(found) < toc_min:
        return out
    items = "".join(f'<li><a href="#{anchor}">{re.sub(r"<[^>]+>", "", title)}</a></li>' for anchor, title in found)
    toc = f'<nav class="wb-toc" aria-label="Contents"><b>Contents</b><ol>{items}</ol></nav>'
    first = out.find(f'<h2 id="{found[0][0]}">')
    # right under the headline card when there is one, else before the first section's cell
    head = out.find('class="wb-headline"', 0, first)
    cell = out.find('<div class="jp-Cell ', head) if head != -1 else out.rfind('<div class="jp-Cell ', 0, first)
    at = cell if 0 <= cell <= first else first
    return out[:at] + toc + out[at:]


def to_offline_html(notebook_path: str | Path, html_path: str | Path, *, interactive: bool = True) -> None:
    """Export without code cells; no script or stylesheet is fetched from the network.

    With ``interactive`` (the default), charts drawn by the ``workbench`` renderer get tooltips
    and zoom from the inlined Vega libraries; without it, or with scripts blocked, they are SVG.
    """
    import nbformat
    from nbconvert import HTMLExporter

    from workbench.report.interactive import report_scripts

    nb = nbformat.read(notebook_path, as_version=4)
    charts = interactive_outputs(nb) if interactive else 0
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    body = number_sections(offline(body))
    title = nb.metadata.get("workbench", {}).get("template")
    if title:
        body = re.sub(r"<title>.*?</title>", f"<title>{_html.escape(str(title))} · workbench report</title>", body,
                      count=1, flags=re.S)
    body = body.replace("</head>", f"<style>{REPORT_CSS}</style>\n</head>", 1)
    if charts:
        at = body.rfind("</body>")
        body = body[:at] + report_scripts() + body[at:] if at != -1 else body + report_scripts()
    Path(html_path).write_text(body, encoding="utf-8")
