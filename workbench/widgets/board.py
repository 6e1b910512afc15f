"""``HypothesisBoard``: the ranked hypotheses with their evidence; the analyst records verdicts."""

from __future__ import annotations

import html
import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any

import ipywidgets as w

from workbench.exceptions import UsageError, VerdictsFileError
from workbench.formatting import fmt_time
from workbench.results import iso

__all__ = ["HypothesisBoard", "VERDICTS", "read_verdicts"]

VERDICTS = ("unreviewed", "confirmed", "rejected", "needs-data")


def _key(h) -> str:
    return f"{h.cause}|{h.culprit()}"


class HypothesisBoard:
    """Mark each hypothesis confirmed / rejected / needs-data with a note; save beside the findings.

    The constructor only stores its arguments; the verdicts file is read and the widgets are built
    on first use (display, :attr:`widget`, :attr:`rows`, :meth:`set`, :attr:`verdicts`).

    Parameters
    ----------
    findings : Findings
        From :func:`workbench.triage` (or ``Findings.from_dict`` of a findings.json).
    path : str or Path, optional
        Where verdicts are saved (JSON). Default: ``verdicts.json`` beside ``findings_path`` when given,
        else ``verdicts.json`` in the working directory. Existing verdicts there are loaded. The
        postmortem template reads this file (``verdicts_file``).
    top : int, default 8
        How many hypotheses (best first) the board shows.

    Raises
    ------
    VerdictsFileError
        On first use or on save, when the verdicts file exists but is not a verdicts document
        (not JSON, not written by :meth:`save`, an unknown verdict): the file is never overwritten.
    """

    def __init__(self, findings, *, path: str | Path | None = None, findings_path: str | Path | None = None,
                 top: int = 8) -> None:
        self.findings = findings
        if path is None:
            path = Path(findings_path).with_name("verdicts.json") if findings_path else Path("verdicts.json")
        self.path = Path(path)
        self.top = top

    @cached_property
    def rows(self) -> list[dict[str, Any]]:
        """One entry per hypothesis shown: ``hypothesis``, its ``toggle`` and ``note`` widgets."""
        saved = read_verdicts(self.path)
        rows = []
        for h in self.findings.hypotheses[:self.top]:
            prev = saved.get(_key(h), {})
            toggle = w.ToggleButtons(options=list(VERDICTS), value=prev.get("verdict", "unreviewed"),
                                     style={"button_width": "95px"})
            note = w.Textarea(value=prev.get("note", ""), placeholder="note (what you checked, who owns it)",
                              layout=w.Layout(width="95%", height="48px"))
            toggle.add_class("wb-board-verdict")
            note.add_class("wb-board-note")
            rows.append({"hypothesis": h, "toggle": toggle, "note": note})
        return rows

    @cached_property
    def widget(self) -> w.VBox:
        """The board: one box per hypothesis, a save button and its status line."""
        boxes = []
        for i, r in enumerate(self.rows, 1):
            h = r["hypothesis"]
            evidence = h.evidence_table()  # the same renderer as reports and notebooks
            evidence.max_rows = 6
            steps = "".join(f"<li>{html.escape(s)}</li>" for s in h.next_steps[:3])
            head = w.HTML(f"<b>{i}. {html.escape(h.cause)}</b> — score {h.score:.2f} · "
                          f"{html.escape(h.culprit())} · "
                          f"onset {fmt_time(h.onset)}<br><i>{html.escape(h.summary)}</i>"
                          + (evidence.to_html() if len(evidence) else "")
                          + (f"next steps:<ul>{steps}</ul>" if steps else ""))
            box = w.VBox([head, r["toggle"], r["note"]])
            box.add_class("wb-board-hypothesis")
            boxes.append(box)
        self.save_button.on_click(lambda b: self.save())
        v = self.findings.verdict
        board = w.VBox([w.HTML(f"<b>Triage verdict: {html.escape(v['cause'])}</b> ({v['score']:.2f}) · "
                               f"verdicts file <code>{html.escape(str(self.path))}</code>"),
                        *boxes, w.HBox([self.save_button, self.status])])
        board.add_class("wb-board")
        return board

    @cached_property
    def save_button(self) -> w.Button:
        button = w.Button(description="save verdicts", button_style="primary")
        button.add_class("wb-board-save")
        return button

    @cached_property
    def status(self) -> w.HTML:
        return w.HTML()

    def set(self, rank: int, verdict: str, note: str = "") -> None:
        """Mark the hypothesis at ``rank`` (1-based), as the buttons do."""
        if verdict not in VERDICTS:
            msg = f"verdict must be one of {VERDICTS}, got {verdict!r}"
            raise UsageError(msg, expected=" | ".join(VERDICTS), found=repr(verdict)[:60])
        if not 1 <= rank <= len(self.rows):
            msg = f"no hypothesis at rank {rank!r}"
            raise UsageError(msg, expected=f"a rank from 1 to {len(self.rows)}", found=repr(rank)[:60],
                             hint="ranks are 1-based, as shown on the board.")
        row = self.rows[rank - 1]
        row["toggle"].value = verdict
        if note:
            row["note"].value = note

    @property
    def verdicts(self) -> list[dict[str, Any]]:
        return [{"rank": i, "cause": r["hypothesis"].cause, "culprit": r["hypothesis"].culprit(),
                 "score": r["hypothesis"].score, "verdict": r["toggle"].value, "note": r["note"].value}
                for i, r in enumerate(self.rows, 1)]

    def save(self) -> Path:
        """Write the verdicts (JSON) to :attr:`path`.

        Refuses (:class:`~workbench.exceptions.VerdictsFileError`) when the file there cannot be read
        as verdicts: it may hold someone's work. The file is replaced in one step (written beside it,
        then renamed), so an interrupted save leaves the previous verdicts.
        """
        f = self.findings
        doc = {"lake": f.lake, "window": {k: iso(v) if hasattr(v, "isoformat") else v for k, v in f.window.items()},
               "triage_verdict": f.verdict, "verdicts": self.verdicts}
        read_verdicts(self.path)  # raises, and so keeps the file, when it is not a verdicts document
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(doc, indent=2), encoding="utf-8")
        tmp.replace(self.path)
        self.status.value = f"saved {len(self.rows)} verdicts to <code>{html.escape(str(self.path))}</code>"
        return self.path

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        if "rows" not in self.__dict__:  # never read the file or build widgets to print
            return f"HypothesisBoard({len(self.findings.hypotheses[:self.top])} hypotheses; file={self.path})"
        marks = ", ".join(f"{v['cause']}={v['verdict']}" for v in self.verdicts)
        return f"HypothesisBoard({len(self.rows)} hypotheses: {marks or 'none'}; file={self.path})"


def read_verdicts(path: Path) -> dict[str, dict[str, Any]]:
    """The verdicts saved at ``path`` by ``cause|culprit`` ({} when there is no file).

    Raises
    ------
    VerdictsFileError
        When the file exists but is not a verdicts document written by :meth:`HypothesisBoard.save`.
    """
    hint = (f"fix the file or move it aside (e.g. rename it to {path.name}.bak) to start afresh; "
            "the board never overwrites a verdicts file it cannot read.")
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = "cannot read the verdicts file"
        raise VerdictsFileError(msg, file=str(path), expected="a readable UTF-8 JSON file",
                                found=type(exc).__name__, hint=hint) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = "the verdicts file is not valid JSON"
        raise VerdictsFileError(msg, file=str(path), line=exc.lineno, expected="JSON written by HypothesisBoard.save()",
                                found=exc.msg, hint=hint) from None
    entries = doc.get("verdicts") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        msg = "the verdicts file has no list of verdicts"
        raise VerdictsFileError(msg, file=str(path), expected='an object with a "verdicts" list',
                                found=type(doc).__name__ if not isinstance(doc, dict) else
                                f"keys {', '.join(sorted(map(str, doc)))[:200] or 'none'}", hint=hint)
    out = {}
    for i, r in enumerate(entries, 1):
        ok = (isinstance(r, dict) and isinstance(r.get("cause"), str) and isinstance(r.get("culprit"), str)
              and r.get("verdict", "unreviewed") in VERDICTS and isinstance(r.get("note", ""), str))
        if not ok:
            msg = f"verdict entry {i} cannot be read"
            raise VerdictsFileError(msg, file=str(path),
                                    expected=f"cause and culprit (text), verdict one of {' | '.join(VERDICTS)}, "
                                             "note (text)", found=repr(r)[:200], hint=hint)
        out[f"{r['cause']}|{r['culprit']}"] = r
    return out
