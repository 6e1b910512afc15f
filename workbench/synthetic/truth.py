"""What was injected into a synthetic lake: the answer key for detectors and root-cause tests."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["Truth"]

_SUBJECT_KEYS = ("feature", "column", "model_version", "segment", "dependency", "dataset", "route")
#: keys of generation (LLM) lakes' subjects; written only when a subject has them, so truth.json
#: files of other lakes keep their bytes and older files stay readable
_LLM_SUBJECT_KEYS = ("prompt", "index")


def _subject_dict(subject: dict) -> dict:
    keys = _SUBJECT_KEYS + tuple(k for k in _LLM_SUBJECT_KEYS if k in subject)
    return {k: subject.get(k) for k in keys}


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


@dataclass(frozen=True)
class Truth:
    """The ground truth of one generated lake.

    Attributes
    ----------
    cause, variant, seed : str, int, int
        What was asked for; ``cause`` is a key of :data:`workbench.synthetic.CAUSES`.
    rows : int
        Prediction rows actually logged.
    start, end : datetime
        Span of the data (UTC); ``end`` is exclusive.
    onset : datetime or None
        First moment the fault affected rows; None for ``"none"``.
    subject : dict
        The culprit a correct diagnosis names, with keys ``feature``, ``column``,
        ``model_version``, ``segment`` (``{"column", "value"}``), ``dependency``, ``dataset``,
        ``route`` and, for generation (LLM) lakes, ``prompt`` (``"template@version"``) and
        ``index`` (``"index@version"``); None where not applicable.
    description : str
        One plain sentence saying what was injected.
    name, theme, task : str
        Lake (model) name, the business theme (for LLM lakes the app, ``support_rag`` or
        ``search_router``) and the task.
    versions : dict
        Model versions: ``baseline``, ``benign`` (a routine retrain) and ``incident`` (None when the
        cause rolls out no version).
    confounders : tuple of dict
        Benign changes ``{kind, at, ref, near}``: ``kind`` is ``rollout``, ``dependency_bump``,
        ``schema_change`` or ``feature_version`` (LLM lakes: ``rollout``, ``prompt_version``,
        ``index_build``, ``dependency_bump``, ``price_change``); ``near`` says it was placed within 6-36 h of the
        onset on purpose.
    details : dict
        Cause-specific parameters (factor, loss rate, share, ...), JSON-safe.
    params : dict
        The generation arguments.
    also : tuple of dict
        Further real causes injected in the same hour (``generate_lake(also=...)``), each
        ``{cause, variant, onset, subject, description, details}``; empty for one cause.

    Examples
    --------
    >>> truth = Truth.from_json("lake/truth.json")  # doctest: +SKIP
    >>> truth.subject["feature"]  # doctest: +SKIP
    'amount'
    """

    cause: str
    variant: int
    seed: int
    rows: int
    start: datetime
    end: datetime
    onset: datetime | None
    subject: dict
    description: str
    name: str = ""
    theme: str = ""
    task: str = "binary_classification"  # or "generation" (workbench.synthetic.generate_llm_lake)
    versions: dict = field(default_factory=dict)
    confounders: tuple = ()
    details: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    also: tuple = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict; datetimes become ISO-8601 UTC strings ending in ``Z``."""
        out = asdict(self)
        out["start"], out["end"], out["onset"] = _iso(self.start), _iso(self.end), _iso(self.onset)
        out["confounders"] = [{**c, "at": _iso(c["at"])} for c in self.confounders]
        out["subject"] = _subject_dict(self.subject)
        out["also"] = [{**a, "onset": _iso(a["onset"]), "subject": _subject_dict(a["subject"])}
                       for a in self.also]
        if not self.also:
            del out["also"]  # lakes with one cause keep their truth.json byte for byte
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Truth:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        values["start"], values["end"] = _parse(values["start"]), _parse(values["end"])
        values["onset"] = _parse(values.get("onset"))
        values["confounders"] = tuple({**c, "at": _parse(c["at"])} for c in values.get("confounders", ()))
        values["also"] = tuple({**a, "onset": _parse(a["onset"])} for a in values.get("also", ()))
        return cls(**values)

    @classmethod
    def from_json(cls, path: str | Path) -> Truth:
        """Read a ``truth.json`` written by :func:`workbench.synthetic.generate_lake`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_json(self, path: str | Path) -> None:
        """Write :meth:`to_dict` as indented JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    def __repr__(self) -> str:
        onset = _iso(self.onset) or "-"
        culprit = {k: v for k, v in self.subject.items() if v is not None}
        return (f"Truth(cause={self.cause!r}, variant={self.variant}, onset={onset}, subject={culprit}, "
                f"rows={self.rows})")

    def _repr_html_(self) -> str:
        from html import escape

        onset = _iso(self.onset) or "-"
        return (f"<b>{escape(self.cause)}</b> (variant {self.variant}) onset {escape(onset)}"
                f"<br>{escape(self.description)}")
