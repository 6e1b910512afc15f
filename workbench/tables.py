"""One table renderer for reports, notebooks and widgets: ``table(data) -> Table``.

A :class:`Table` is data plus formatting rules declared once (as in great_tables): headers in
words with their unit (``p95 (ms)``, ``fallback rate (%)``), numbers rounded to three significant
digits, counts with thousands separators, p-values as ``<0.001``, intervals as ``[a, b]``, times as
``2026-03-12 14:00 UTC``, booleans as ✓ / —, missing values as —, lists joined. It renders to a
self-contained ``<table class="wb-table">`` (its own small inline ``<style>``, no network, no dtype
row, no shape line, no quotes, every value escaped), to GitHub Markdown, and sorts by a column.

Why our own and not great_tables (checked, great-tables 1.1.0): its HTML makes no network request
and renders in nbconvert, but each table carries ~9 KB of CSS including rules that are not scoped
to the table (``thead, tbody, tfoot, tr, td, th { border-style: none; }`` restyles every table of
the page), a random element id (the same report would differ from run to run unless every call
passes one), eight more dependencies (babel, htmltools, faicons, ...), and neither a Markdown form
nor click-to-sort, both of which we need. The rules we need fit in this module.

A leaf module: it imports only polars, :mod:`workbench.formatting` and :mod:`workbench.exceptions`.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from workbench.exceptions import UsageError
from workbench.formatting import MISSING, fmt_count, fmt_p, fmt_sig, fmt_time

__all__ = ["KINDS", "Table", "block", "fmt_cell", "kind_of", "markdown_html", "table", "title"]

#: How a column's values are shown: ``ms`` (latency, unit in the header), ``%`` (a share 0..1 shown
#: as a percentage), ``rows`` (counts), ``p`` (p- or q-values), ``psi`` (three decimals), ``ci``
#: (an interval ``[a, b]``), ``time``, ``number`` (three significant digits), ``text``; ``auto``
#: (the default of unknown columns) rounds numbers and leaves text as it is.
KINDS = ("ms", "%", "rows", "p", "psi", "ci", "time", "number", "text", "auto")
_UNIT_SUFFIX = {"ms": " (ms)", "%": " (%)"}

#: Known column names: (title, kind). Other names are read by their suffix (``_ms``, ``_rate``,
#: ``_share``, ``_ci``, ``_at``, ``n_``) and otherwise shown with ``_`` as a space.
KNOWN: dict[str, tuple[str, str]] = {
    "model_version": ("version", "text"), "n": ("rows", "rows"), "rows": ("rows", "rows"),
    "n_a": ("rows (before)", "rows"), "n_b": ("rows (after)", "rows"), "hits": ("rows with a match", "rows"),
    "labelled": ("labelled rows", "rows"), "tested": ("tested", "rows"), "baseline_rows": ("baseline rows", "rows"),
    "window_rows": ("window rows", "rows"), "excess_errors": ("excess errors", "rows"),
    "p50": ("p50", "ms"), "p95": ("p95", "ms"), "p99": ("p99", "ms"), "reference p95": ("reference p95", "ms"),
    "psi": ("PSI", "psi"), "js": ("JS", "psi"), "p_value": ("p-value", "p"), "p-value": ("p-value", "p"),
    "q_value": ("q-value", "p"), "p_adjusted": ("adjusted p", "p"), "permutation_p": ("permutation p", "p"),
    "auc": ("AUC", "number"), "ece": ("ECE", "number"), "mae": ("MAE", "number"), "rmse": ("RMSE", "number"),
    "logloss": ("log loss", "number"), "share": ("share", "%"), "ci": ("95% CI", "ci"), "interval": ("interval", "ci"),
    "at": ("at", "time"), "onset": ("onset", "time"), "bucket": ("hour", "time"), "timestamp": ("time", "time"),
    "first_seen": ("first seen", "time"), "last_seen": ("last seen", "time"), "sli": ("SLI", "text"),
    # numbers that reports keep as text (findings.json): read back and rounded alike
    "before": ("before", "number"), "after": ("after", "number"), "change": ("change", "number"),
    "delta": ("change", "number"), "difference": ("difference", "number"), "gap": ("gap", "number"),
    "ratio": ("ratio", "number"),
}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]00:?00)?$")
_NUMERIC_KINDS = ("ms", "%", "rows", "p", "psi", "number")
#: Rows shown before the "… N more rows" line.
MAX_ROWS = 50

# JupyterLab's theme variables where they exist (dark themes), fixed colours elsewhere; selectors as
# specific as JupyterLab's own rendered-HTML rules (which right-align every cell), so ours apply
_T = ".wb-table-wrap table.wb-table"
_STYLE = ("<style>"
          f"{_T}{{border-collapse:collapse;font-size:13px;margin:4px 0 10px;font-variant-numeric:tabular-nums;"
          "color:var(--jp-content-font-color1,#222)}"
          f"{_T} caption{{caption-side:top;text-align:left;font-weight:600;padding:0 0 4px}}"
          f"{_T} th,{_T} td{{padding:3px 10px;border-bottom:1px solid var(--jp-border-color2,#e2e2e2);"
          "text-align:left;vertical-align:top}"
          f"{_T} th{{border-bottom:2px solid var(--jp-border-color1,#999);font-weight:600;white-space:nowrap}}"
          f"{_T} td{{max-width:36em;white-space:normal;overflow-wrap:anywhere}}"
          f"{_T} .num{{text-align:right;white-space:nowrap}}"
          f"{_T} tr.wb-hl td{{background:var(--jp-warn-color3,#fff1c2);font-weight:600}}"
          f"{_T} tfoot td{{color:var(--jp-content-font-color2,#666);font-style:italic;border-bottom:none}}"
          f"{_T} th.wb-sort{{cursor:pointer}}"
          f"{_T} th[data-dir=asc]::after{{content:' \\25B2'}}"
          f"{_T} th[data-dir=desc]::after{{content:' \\25BC'}}"
          "</style>")
# click-to-sort for reports (JupyterLab does not run scripts of outputs; the Explorer re-renders)
_SCRIPT = ("<script>(function(){if(window.wbSort)return;window.wbSort=function(th){"
           "var t=th.closest('table'),b=t.tBodies[0],i=th.cellIndex,d=th.dataset.dir==='asc'?'desc':'asc';"
           "Array.from(th.parentNode.cells).forEach(function(h){h.removeAttribute('data-dir')});th.dataset.dir=d;"
           "var rs=Array.from(b.rows);rs.sort(function(r,s){var x=r.cells[i].dataset.sort||'',"
           "y=s.cells[i].dataset.sort||'';if(x===y)return 0;if(x==='')return 1;if(y==='')return -1;"
           "var a=Number(x),c=Number(y),o=(!isNaN(a)&&!isNaN(c))?a-c:x.localeCompare(y);"
           "return d==='asc'?o:-o});rs.forEach(function(r){b.appendChild(r)})}})();</script>")


def _kind_of(name: str) -> tuple[str, str]:
    """(title without unit, kind) of a column, from its name."""
    if name in KNOWN:
        return KNOWN[name]
    if name.endswith("_ms"):
        return name[:-3].replace("_", " "), "ms"
    if name.endswith(("_rate", "_share")) or name in ("rate",):
        return name.replace("_", " "), "%"
    if name.endswith("_ci"):
        base = name[:-3]
        return f"{KNOWN.get(base, (base.replace('_', ' '),))[0]} 95% CI", "ci"
    if name.endswith("_at"):
        return name[:-3].replace("_", " "), "time"
    if name.startswith("n_"):
        return "rows " + name[2:].replace("_", " "), "rows"
    if name.endswith(("_p_value", "_q_value")):
        return name.replace("_", " ").replace("p value", "p-value").replace("q value", "q-value"), "p"
    return name.replace("_", " "), ""


def title(name: str) -> str:
    """A column or metric name in words with its unit (``latency_p95_ms`` -> ``latency p95 (ms)``,
    ``fallback_rate`` -> ``fallback rate (%)``, ``n`` -> ``rows``)."""
    words, how = _kind_of(name)
    return words + _UNIT_SUFFIX.get(how, "")


def kind_of(name: str) -> str:
    """How values of a column or metric called ``name`` are shown (one of :data:`KINDS`)."""
    return _kind_of(name)[1] or "auto"


def fmt_cell(v: Any, how: str = "auto") -> str:
    """One value as a table cell shows it (``fmt_cell(0.0123, "%")`` is ``1.2``)."""
    return _cell(v, how)[0]


def block(heading: str, text: str = "", *parts: str | Table, css: str = "workbench-result") -> str:
    """HTML of a result: a bold heading and a line of text (both escaped), then tables (or
    snippets of HTML already escaped)."""
    body = "".join(p.to_html() if isinstance(p, Table) else p for p in parts)
    line = f"<b>{html.escape(heading)}</b>" + (f" {html.escape(text)}" if text else "")
    return f'<div class="{css}"><p>{line}</p>{body}</div>'


def _duration(v: dt.timedelta) -> str:
    s = v.total_seconds()
    return f"{s / 3600:.1f} h" if abs(s) >= 3600 else f"{s / 60:.0f} min"


def _number(v: float | int, kind: str) -> str:
    if isinstance(v, float) and math.isnan(v):
        return MISSING
    if kind == "ms":
        return fmt_sig(float(v), 3) if abs(v) < 1000 else f"{v:,.0f}"
    if kind == "%":
        x = v * 100
        return f"{x:.1f}" if abs(x) >= 1 or x == 0 else fmt_sig(float(x), 2)
    if kind == "rows":
        return fmt_count(v)
    if kind == "p":
        return fmt_p(float(v))
    if kind == "psi":
        return f"{v:.3f}"
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10000 else str(v)
    return fmt_sig(v, 3)


def _cell(v: Any, kind: str) -> tuple[str, str, bool]:
    """(text, sort key, is numeric) of one value shown as ``kind``."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return MISSING, "", False
    if isinstance(v, bool):
        return ("✓" if v else "—"), ("1" if v else "0"), False
    if isinstance(v, (dt.datetime, dt.date)):
        return fmt_time(v), v.isoformat(), False
    if isinstance(v, dt.timedelta):
        return _duration(v), repr(v.total_seconds()), True
    if isinstance(v, str):
        s = v.strip()
        if kind in _NUMERIC_KINDS:
            try:
                x = float(s)
            except ValueError:
                pass
            else:
                return _number(x, kind), repr(x), True
        if _ISO.match(s):
            try:
                t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
            except ValueError:
                pass
            else:
                return fmt_time(t), t.isoformat(), False
        try:
            x = float(s)
        except ValueError:
            return v, v.lower(), False
        return v, (repr(x) if math.isfinite(x) else ""), True
    if isinstance(v, (int, float)):
        return _number(v, kind), (repr(float(v)) if math.isfinite(v) else ""), True
    if isinstance(v, Mapping):
        return ", ".join(f"{k}={_cell(x, '')[0]}" for k, x in v.items()), "", False
    if isinstance(v, (list, tuple)):
        if not v:
            return MISSING, "", False
        if kind == "ci" and len(v) == 2:
            lo, hi = (_cell(x, "number")[0] for x in v)
            return f"[{lo}, {hi}]", _cell(v[0], "number")[1], True
        return ", ".join(_cell(x, kind if kind != "ci" else "number")[0] for x in v), "", False
    if hasattr(v, "item") and callable(v.item):  # numpy scalars
        return _cell(v.item(), kind)
    return str(v), str(v).lower(), False


def _rows(data: Any) -> tuple[list[dict[str, Any]], list[str], pl.DataFrame | None]:
    if data is None:  # a study's optional table (no labels, no alerts): nothing to show
        return [], [], None
    if isinstance(data, pl.LazyFrame):
        msg = "table() takes a polars DataFrame or a list of dicts, not a LazyFrame"
        raise UsageError(msg, expected="a DataFrame (or a list of dicts)", found="LazyFrame",
                         hint="collect it first: table(lf.head(50).collect())")
    if isinstance(data, pl.DataFrame):
        return data.rows(named=True), list(data.columns), data
    if isinstance(data, Mapping):
        data = [data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)) and all(isinstance(r, Mapping) for r in data):
        rows = [dict(r) for r in data]
        return rows, list(dict.fromkeys(k for r in rows for k in r)), None
    msg = "table() takes a polars DataFrame or a list of dicts"
    raise UsageError(msg, expected="a DataFrame, a list of dicts or a dict", found=type(data).__name__,
                     hint="build a DataFrame first, e.g. pl.DataFrame(rows)")


def _flags(highlight: Any, rows: list[dict[str, Any]], cols: list[str], frame: pl.DataFrame | None) -> list[bool]:
    if highlight is None or not rows:
        return [False] * len(rows)
    if isinstance(highlight, str):
        if highlight not in cols:
            msg = f"table(highlight={highlight!r}): no such column"
            raise UsageError(msg, expected=f"one of {cols}", found=highlight,
                             hint="name a column of booleans, or pass a polars expression or a predicate")
        return [bool(r.get(highlight)) for r in rows]
    if isinstance(highlight, pl.Expr):
        df = frame if frame is not None else pl.DataFrame(rows, strict=False)
        try:
            out = df.select(highlight.alias("__hl"))["__hl"]
        except (pl.exceptions.PolarsError, TypeError) as e:
            msg = "table(highlight=...): the expression could not be evaluated on the table"
            raise UsageError(msg, expected=f"a boolean expression over {cols}", found=str(e).splitlines()[0],
                             hint="e.g. highlight=pl.col('p95') > 200") from None
        vals = out.to_list()
        if len(vals) == 1 and len(rows) != 1:
            vals = vals * len(rows)
        return [bool(x) for x in vals]
    if callable(highlight):
        return [bool(highlight(r)) for r in rows]
    msg = "table(highlight=...): not a column name, an expression or a predicate"
    raise UsageError(msg, expected="str, polars expression or callable(row) -> bool", found=type(highlight).__name__)


def _md_escape(s: str) -> str:
    return (s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("&", "&amp;")
            .replace("<", "&lt;").replace(">", "&gt;"))


class Table:
    """Rows and how to show them; render with :meth:`to_html` or :meth:`to_markdown` (or let a
    notebook call ``_repr_html_``). Build one with :func:`table`."""

    def __init__(self, rows: list[dict[str, Any]], columns: list[str], titles: dict[str, str],
                 kinds: dict[str, str], flags: list[bool], *, caption: str | None = None,
                 sortable: bool = False, max_rows: int = MAX_ROWS, empty: str = "no rows") -> None:
        self.rows, self.columns, self.titles, self.kinds = rows, columns, titles, kinds
        self.flags, self.caption, self.sortable, self.max_rows = flags, caption, sortable, max_rows
        self.empty = empty

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        cols = ", ".join(self.titles[c] for c in self.columns[:6]) + (", …" if len(self.columns) > 6 else "")
        return f"<Table {len(self.rows)} rows × {len(self.columns)} columns: {cols}>"

    def _cells(self, r: dict[str, Any]) -> list[tuple[str, str, bool]]:
        return [_cell(r.get(c), self.kinds[c]) for c in self.columns]

    @property
    def highlighted(self) -> list[int]:
        """Indices of the highlighted rows."""
        return [i for i, f in enumerate(self.flags) if f]

    def cells(self) -> list[list[str]]:
        """Every row's cells as the text shown (all rows, not only the first ``max_rows``)."""
        return [[t for t, _, _ in self._cells(r)] for r in self.rows]

    def sort(self, by: str, *, descending: bool = False) -> Table:
        """A copy sorted by column ``by`` (missing values last), highlights kept with their rows."""
        if by not in self.columns:
            msg = f"Table.sort: no column {by!r}"
            raise UsageError(msg, expected=f"one of {self.columns}", found=by)

        def key(i: int):
            _, k, num = _cell(self.rows[i].get(by), self.kinds[by])
            return (float(k) if num and k else k)

        present = [i for i in range(len(self.rows)) if _cell(self.rows[i].get(by), self.kinds[by])[1] != ""]
        absent = [i for i in range(len(self.rows)) if i not in set(present)]
        try:
            present.sort(key=key, reverse=descending)
        except TypeError:  # numbers and text mixed: compare as text
            present.sort(key=lambda i: str(key(i)), reverse=descending)
        order = present + absent
        return Table([self.rows[i] for i in order], self.columns, self.titles, self.kinds,
                     [self.flags[i] for i in order], caption=self.caption, sortable=self.sortable,
                     max_rows=self.max_rows, empty=self.empty)

    def _numeric(self) -> dict[str, bool]:
        """Right-aligned columns: those whose values shown are mostly numbers."""
        shown = [self._cells(r) for r in self.rows[:self.max_rows]]
        num = {}
        for j, c in enumerate(self.columns):
            present = [cells[j][2] for cells in shown if cells[j][1] != "" or cells[j][2]]
            num[c] = self.kinds[c] != "text" and bool(present) and sum(present) * 2 >= len(present)
        return num

    def to_html(self) -> str:
        """``<table class="wb-table">`` with its inline style (and sort script when sortable)."""
        e = html.escape
        num = self._numeric()
        heads = []
        for c in self.columns:
            cls = ["num"] if num[c] else []
            attrs = ""
            if self.sortable:
                cls.append("wb-sort")
                attrs = f' data-col="{e(c)}" onclick="wbSort(this)" title="sort by {e(self.titles[c])}"'
            heads.append(f'<th{" class=" + chr(34) + " ".join(cls) + chr(34) if cls else ""}{attrs}>'
                         f"{e(self.titles[c])}</th>")
        body = []
        for r, flag in zip(self.rows[:self.max_rows], self.flags[:self.max_rows]):
            tds = []
            for c, (text, key, _) in zip(self.columns, self._cells(r)):
                cls = ' class="num"' if num[c] else ""
                sort = f' data-sort="{e(key)}"' if self.sortable else ""
                tds.append(f"<td{cls}{sort}>{e(text)}</td>")
            body.append(f'<tr{" class=" + chr(34) + "wb-hl" + chr(34) if flag else ""}>{"".join(tds)}</tr>')
        if not self.rows:
            body.append(f'<tr><td colspan="{max(len(self.columns), 1)}">{e(self.empty)}</td></tr>')
        more = len(self.rows) - self.max_rows
        foot = (f'<tfoot><tr><td colspan="{len(self.columns)}">… {more:,} more rows</td></tr></tfoot>'
                if more > 0 else "")
        cap = f"<caption>{e(self.caption)}</caption>" if self.caption else ""
        return (f'{_STYLE}<div class="wb-table-wrap" style="overflow-x:auto"><table class="wb-table">{cap}'
                f'<thead><tr>{"".join(heads)}</tr></thead><tbody>{"".join(body)}</tbody>{foot}</table></div>'
                + (_SCRIPT if self.sortable else ""))

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_markdown(self) -> str:
        """A GitHub Markdown table (highlighted rows in bold)."""
        lines = [f"**{_md_escape(self.caption)}**", ""] if self.caption else []
        if not self.columns:
            return "\n".join(lines + [f"_{_md_escape(self.empty)}_"])
        lines.append("| " + " | ".join(_md_escape(self.titles[c]) for c in self.columns) + " |")
        num = self._numeric()
        lines.append("|" + "|".join("---:" if num[c] else "---" for c in self.columns) + "|")
        for r, flag in zip(self.rows[:self.max_rows], self.flags[:self.max_rows]):
            cells = [_md_escape(t) for t, _, _ in self._cells(r)]
            if flag:
                cells = [f"**{c}**" if c else c for c in cells]
            lines.append("| " + " | ".join(cells) + " |")
        more = len(self.rows) - self.max_rows
        if more > 0:
            lines.append(f"\n_… {more:,} more rows_")
        if not self.rows:
            lines.append(f"\n_{_md_escape(self.empty)}_")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    @property
    def frame(self) -> pl.DataFrame:
        """The rows as a DataFrame (values unformatted)."""
        return pl.DataFrame(self.rows, strict=False) if self.rows else pl.DataFrame()


def table(data: Any, *, columns: Sequence[str] | Mapping[str, str] | None = None,
          units: Mapping[str, str] | None = None, highlight: str | pl.Expr | Callable[[dict], bool] | None = None,
          caption: str | None = None, sortable: bool = False, max_rows: int = MAX_ROWS,
          empty: str = "no rows") -> Table:
    """A readable table of ``data`` (a polars DataFrame, a list of dicts or one dict; None is an
    empty table).

    Parameters
    ----------
    columns : list of names, or dict name -> title
        Which columns, in which order (default: all); a dict also renames their headers.
    units : dict name -> kind
        How to show a column, one of :data:`KINDS`, when its name does not say (``p95`` is
        ``ms``, ``fallback_rate`` is ``%``, ``n`` is ``rows``, ``q_value`` is ``p``, ``*_ci`` is ``ci``).
    highlight : column name, polars expression or predicate
        Rows to highlight (``class="wb-hl"``): a column of booleans (``"breached"``), an
        expression (``pl.col("p95") > 200``) or ``callable(row_dict) -> bool``.
    caption : str
        A title above the table.
    sortable : bool
        Click a header to sort (report HTML; scripts do not run in JupyterLab outputs).
    max_rows : int
        Rows shown; the rest are counted in a "… N more rows" line.
    empty : str
        What an empty table says (``"no burn-rate alert"``).
    """
    rows, cols, frame = _rows(data)
    flags = _flags(highlight, rows, cols, frame)
    if columns is not None:
        chosen = list(columns)
        unknown = [c for c in chosen if c not in cols] if rows or cols else []  # no rows: headers only
        if unknown:
            msg = f"table(columns=...): no column {', '.join(map(repr, unknown))}"
            raise UsageError(msg, expected=f"some of {cols}", found=", ".join(unknown))
        renamed = dict(columns) if isinstance(columns, Mapping) else {}
        cols = chosen
    else:
        renamed = {}
    units = dict(units or {})
    bad = {c: k for c, k in units.items() if k not in KINDS}
    if bad:
        msg = f"table(units=...): unknown kind {', '.join(map(repr, bad.values()))}"
        raise UsageError(msg, expected=f"one of {list(KINDS)}", found=str(bad))
    titles, kinds = {}, {}
    for c in cols:
        words, how = _kind_of(c)
        kinds[c] = units.get(c) or how or "auto"
        titles[c] = renamed.get(c) or (words + _UNIT_SUFFIX.get(kinds[c], ""))
    return Table(rows, cols, titles, kinds, flags, caption=caption, sortable=sortable, max_rows=max_rows,
                 empty=empty)


def markdown_html(text: str) -> str:
    """Markdown (a study's summary, a narrative) as HTML, with raw HTML in it escaped (mistune,
    installed with nbconvert)."""
    import mistune

    return mistune.create_markdown(escape=True, plugins=["strikethrough", "table"])(text or "").strip()
