"""Charts that stay interactive in an offline report, and still draw with scripts blocked.

``alt.renderers.enable("workbench")`` (the built-in templates do it in their set-up cell) saves
each chart as SVG drawn by vl-convert — what JupyterLab shows, and what ``report.html`` keeps as
the fallback — with the chart's Vega-Lite spec in the output's metadata. The report runner then
turns each such output into the SVG plus its spec, and inlines the Vega, Vega-Lite and
Vega-Embed libraries (from vl-convert's own bundle: no CDN) once per file, so the charts get
tooltips and zoom with the network off. With scripts blocked the SVG is what the reader sees.

Registering the renderer (importing :mod:`workbench.report`) changes nothing: enabling it does.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

__all__ = ["RENDERER", "SPEC_KEY", "chart_html", "interactive_spec", "offline_renderer", "report_scripts",
           "vega_bundle"]

#: The name templates enable: ``alt.renderers.enable("workbench")``.
RENDERER = "workbench"
#: Where the spec travels: ``output.metadata["image/svg+xml"][SPEC_KEY]``.
SPEC_KEY = "workbench/vegalite"


def offline_renderer(spec: dict[str, Any], **metadata: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Altair renderer: the chart as SVG (vl-convert), its Vega-Lite spec in the output metadata."""
    from altair.utils.mimebundle import spec_to_mimebundle

    bundle = spec_to_mimebundle(spec, format="svg", mode="vega-lite", engine="vl-convert")
    if isinstance(bundle, tuple):
        bundle = bundle[0]
    return {"image/svg+xml": bundle["image/svg+xml"]}, {"image/svg+xml": {SPEC_KEY: spec}}


def _register() -> None:
    """Register the renderer with an Altair already imported (the package's entry point in the
    ``altair.vegalite.v6.renderer`` group does it for an installed workbench; this covers a
    source checkout). Importing the report package never imports Altair itself."""
    import sys

    alt = sys.modules.get("altair")
    if alt is not None and hasattr(alt, "renderers") and RENDERER not in alt.renderers.names():
        alt.renderers.register(RENDERER, offline_renderer)


def _continuous(enc: dict[str, Any] | None) -> bool:
    if not isinstance(enc, dict) or enc.get("bin") or enc.get("timeUnit") or enc.get("aggregate"):
        return False
    return enc.get("type") in ("quantitative", "temporal")


def interactive_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``spec`` whose views zoom and pan (mouse wheel, drag; double-click resets).

    An interval selection bound to the scales is added to the first layer of each view whose x is
    continuous (time or a number), unless the view already declares a selection (a brush). The
    ``$schema`` URL is dropped: nothing in a report names a network address.
    """
    out = copy.deepcopy(spec)
    out.pop("$schema", None)
    count = [0]

    def has_params(node: dict[str, Any]) -> bool:
        return bool(node.get("params")) or any(has_params(c) for c in node.get("layer", []) if isinstance(c, dict))

    def visit(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if "layer" in node:
            layers = [n for n in node["layer"] if isinstance(n, dict)]
            if layers and not has_params(node) and "mark" in layers[0] \
                    and _continuous((layers[0].get("encoding") or {}).get("x")):
                count[0] += 1
                layers[0]["params"] = [{"name": f"wb_zoom_{count[0]}", "select": {"type": "interval", "encodings": ["x"]},
                                        "bind": "scales"}]
                return
            for n in layers:
                if "layer" in n or any(k in n for k in ("vconcat", "hconcat", "concat", "spec")):
                    visit(n)
            return
        if "mark" in node:
            if not node.get("params") and _continuous((node.get("encoding") or {}).get("x")):
                count[0] += 1
                node["params"] = [{"name": f"wb_zoom_{count[0]}", "select": {"type": "interval", "encodings": ["x"]},
                                   "bind": "scales"}]
            return
        for key in ("vconcat", "hconcat", "concat"):
            for n in node.get(key, []):
                visit(n)
        if "spec" in node:
            visit(node["spec"])

    visit(out)
    return out


def chart_html(svg: str, spec: dict[str, Any], index: int) -> str:
    """One chart in the report: the SVG (the fallback) and its spec for the script to draw."""
    data = json.dumps(interactive_spec(spec), separators=(",", ":"), sort_keys=True)
    data = data.replace("</", "<\\/").replace("<!--", "<\\!--")  # cannot close the script element
    return (f'<div class="wb-chart" id="wb-chart-{index}"><div class="wb-chart-static">{svg}</div>'
            f'<script type="application/json" class="wb-chart-spec">{data}</script></div>')


_INIT = """
(function () {
  if (typeof vegaEmbed !== "function") { return; }
  document.querySelectorAll("div.wb-chart").forEach(function (box) {
    var el = box.querySelector("script.wb-chart-spec");
    if (!el) { return; }
    var target = document.createElement("div");
    target.className = "wb-chart-live";
    box.appendChild(target);
    vegaEmbed(target, JSON.parse(el.textContent), {actions: false, renderer: "svg"}).then(function () {
      box.classList.add("wb-live");
    }).catch(function (err) {
      target.remove();
      box.setAttribute("data-error", String(err));
    });
  });
})();
"""

#: CSS: the static SVG shows until the live chart has drawn (and for good when scripts are off).
_CSS = ("div.wb-chart.wb-live > .wb-chart-static{display:none}"
        "div.wb-chart .wb-chart-live{min-height:0}"
        "#vg-tooltip-element{font-family:system-ui,sans-serif;font-size:12px}")


@functools.lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega + Vega-Lite + Vega-Embed (with its tooltip handler) as one script, from vl-convert.

    Building it takes a few seconds, so it is kept in the workbench cache directory, keyed by the
    vl-convert version (``WORKBENCH_CACHE_DIR`` moves it).
    """
    import vl_convert as vlc

    from workbench.report.demo import cache_dir

    version = getattr(vlc, "__version__", None) or f"embed{vlc.get_vega_embed_version()}-vega{vlc.get_vega_version()}"
    path = Path(cache_dir()) / f"vega-bundle-{version}.js"
    try:
        text = path.read_text(encoding="utf-8")
        if text:
            return text
    except OSError:
        pass
    text = vlc.javascript_bundle()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{id(text)}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:  # a read-only home: build it again next time
        pass
    return text


def report_scripts() -> str:
    """The ``<style>`` and ``<script>`` elements a report adds once, at the end of its body."""
    bundle = vega_bundle().replace("</script", "<\\/script")
    return (f"<style>{_CSS}</style>\n<script data-workbench=\"vega\">{bundle}</script>\n"
            f"<script data-workbench=\"charts\">{_INIT}</script>\n")

