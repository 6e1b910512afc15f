"""``HypothesisBoard``: the ranked hypotheses with their evidence; the analyst records verdicts."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import ipywidgets as w

from workbench.results import iso

__all__ = ["HypothesisBoard", "VERDICTS"]

VERDICTS = ("unreviewed", "confirmed", "rejected", "needs-data")


def _key(h) -> str:
    return f"{h.cause}|{h.culprit()}"


class HypothesisBoard:
    """Mark each hypothesis confirmed / rejected / needs-data with a note; save beside the findings.

    Parameters
    ----------
    findings : Findings
        From :func:`workbench.triage` (or ``Findings.from_dict`` of a findings.json).
    path : str or Path, optional
        Where verdicts are saved (JSON). Default: ``verdicts.json`` beside ``findings_path`` when given,
        else ``verdicts.json`` in the working directory. Existing verdicts there are loaded. The
        postmortem template reads this file (``verdicts_file``).
    """

    def __init__(self, findings, *, path: str | Path | None = None, findings_path: str | Path | None = None,
                 top: int = 8) -> None:
        self.findings = findings
        if path is None:
            path = Path(findings_path).with_name("verdicts.json") if findings_path else Path("verdicts.json")
        self.path = Path(path)
        saved = self._load()
        self.rows: list[dict[str, Any]] = []
        boxes = []
        for i, h in enumerate(findings.hypotheses[:top], 1):
            prev = saved.get(_key(h), {})
            toggle = w.ToggleButtons(options=list(VERDICTS), value=prev.get("verdict", "unreviewed"),
                                     style={"button_width": "95px"})
            note = w.Textarea(value=prev.get("note", ""), placeholder="note (what you checked, who owns it)",
                              layout=w.Layout(width="95%", height="48px"))
            toggle.add_class("wb-board-verdict")
            note.add_class("wb-board-note")
            ev = "".join(f"<li>{html.escape(e.detail)}</li>" for e in h.evidence[:6])
            steps = "".join(f"<li>{html.escape(s)}</li>" for s in h.next_steps[:3])
            head = w.HTML(f"<b>{i}. {html.escape(h.cause)}</b> — score {h.score:.2f} · {html.escape(h.culprit())} · "
                          f"onset {iso(h.onset) or '?'}<br><i>{html.escape(h.summary)}</i>"
                          f"<ul>{ev}</ul>" + (f"next steps:<ul>{steps}</ul>" if steps else ""))
            box = w.VBox([head, toggle, note])
            box.add_class("wb-board-hypothesis")
            boxes.append(box)
            self.rows.append({"hypothesis": h, "toggle": toggle, "note": note})
        self.save_button = w.Button(description="save verdicts", button_style="primary")
        self.save_button.add_class("wb-board-save")
        self.status = w.HTML()
        self.save_button.on_click(lambda b: self.save())
        v = findings.verdict
        self.widget = w.VBox([w.HTML(f"<b>Triage verdict: {html.escape(v['cause'])}</b> ({v['score']:.2f}) · "
                                     f"verdicts file <code>{html.escape(str(self.path))}</code>"),
                              *boxes, w.HBox([self.save_button, self.status])])
        self.widget.add_class("wb-board")

    def _load(self) -> dict[str, dict[str, Any]]:
        if not self.path.is_file():
            return {}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}
        return {f"{r['cause']}|{r['culprit']}": r for r in doc.get("verdicts", [])}

    def set(self, rank: int, verdict: str, note: str = "") -> None:
        """Mark the hypothesis at ``rank`` (1-based), as the buttons do."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
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
        """Write the verdicts (JSON) to :attr:`path`."""
        f = self.findings
        doc = {"lake": f.lake, "window": {k: iso(v) if hasattr(v, "isoformat") else v for k, v in f.window.items()},
               "triage_verdict": f.verdict, "verdicts": self.verdicts}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
        self.status.value = f"saved {len(self.rows)} verdicts to <code>{html.escape(str(self.path))}</code>"
        return self.path

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        marks = ", ".join(f"{v['cause']}={v['verdict']}" for v in self.verdicts)
        return f"HypothesisBoard({len(self.rows)} hypotheses: {marks or 'none'}; file={self.path})"
