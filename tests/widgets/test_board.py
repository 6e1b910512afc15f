"""HypothesisBoard's verdicts file: a file it cannot read is refused with a named error and kept
byte for byte (never read as empty and overwritten); bad arguments are named errors; the
constructor does no work."""

from __future__ import annotations

import json

import pytest

from workbench.exceptions import UsageError, VerdictsFileError, WorkbenchError
from workbench.rca import Finding, Findings
from workbench.widgets import HypothesisBoard


def _findings(causes=("latency_regression", "feature_drift", "label_delay")) -> Findings:
    hyps = tuple(Finding(cause=c, score=round(0.9 - 0.2 * i, 2), subject={"model_version": f"2.{i}.0"})
                 for i, c in enumerate(causes))
    return Findings(lake="lake-x", window={"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"},
                    baseline={"start": "2026-02-23T00:00:00Z", "end": "2026-03-02T00:00:00Z"},
                    symptoms=(), hypotheses=hyps)


CORRUPT = [
    ("truncated", '{"lake": "lake-x", "verdicts": [{"cause": "feature_drift", "verd', 1, "not valid JSON"),
    ("second-line", '{"verdicts": [\n  {"cause": "a",, "culprit": "b"}]}', 2, "not valid JSON"),
    ("a-list", '[{"cause": "feature_drift"}]', None, "no list of verdicts"),
    ("no-verdicts", '{"lake": "lake-x", "triage_verdict": {}}', None, "no list of verdicts"),
    ("bad-verdict", json.dumps({"verdicts": [{"cause": "feature_drift", "culprit": "model_version=2.1.0",
                                              "verdict": "probably"}]}), None, "entry 1"),
    ("no-culprit", json.dumps({"verdicts": [{"cause": "x", "culprit": "y", "verdict": "confirmed"},
                                            {"cause": "feature_drift", "verdict": "rejected"}]}), None, "entry 2"),
]


@pytest.mark.parametrize(("name", "text", "line", "what"), CORRUPT, ids=[c[0] for c in CORRUPT])
def test_a_corrupt_verdicts_file_is_refused_and_never_overwritten(tmp_path, name, text, line, what):
    path = tmp_path / name / "verdicts.json"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    before = path.read_bytes()
    board = HypothesisBoard(_findings(), path=path)  # stores its arguments only
    with pytest.raises(VerdictsFileError) as err:
        board.widget
    e = err.value
    assert isinstance(e, WorkbenchError) and isinstance(e, ValueError)
    assert what in str(e) and e.file == str(path) and e.line == line
    assert "move it aside" in e.hint and "never overwrites" in e.hint
    with pytest.raises(VerdictsFileError):
        board.save()
    assert path.read_bytes() == before
    assert list(path.parent.iterdir()) == [path]


def test_a_file_corrupted_after_loading_is_not_overwritten_on_save(tmp_path):
    path = tmp_path / "verdicts.json"
    board = HypothesisBoard(_findings(), path=path)
    board.set(2, "rejected", "drift is seasonal")
    board.save()
    assert json.loads(path.read_text())["verdicts"][1]["verdict"] == "rejected"
    path.write_text('{"verdicts": [', encoding="utf-8")  # another editor breaks the file meanwhile
    with pytest.raises(VerdictsFileError, match="not valid JSON"):
        board.save()
    assert path.read_text(encoding="utf-8") == '{"verdicts": ['


def test_verdicts_round_trip_and_unknown_hypotheses_load_as_unreviewed(tmp_path):
    path = tmp_path / "deep" / "v.json"
    board = HypothesisBoard(_findings(), path=path, top=2)
    board.set(1, "confirmed", "p95 doubled")
    board.set(2, "needs-data")
    board.save()
    again = HypothesisBoard(_findings(("feature_drift", "latency_regression", "other")), path=path)
    got = {v["cause"]: (v["verdict"], v["note"]) for v in again.verdicts}
    # feature_drift's saved culprit was model_version=2.1.0; here it is 2.0.0: a different hypothesis
    assert got == {"feature_drift": ("unreviewed", ""), "latency_regression": ("unreviewed", ""),
                   "other": ("unreviewed", "")}
    same = HypothesisBoard(_findings(), path=path)
    assert [(v["verdict"], v["note"]) for v in same.verdicts] == [("confirmed", "p95 doubled"),
                                                                 ("needs-data", ""), ("unreviewed", "")]


@pytest.mark.parametrize(("rank", "verdict", "match"), [(1, "maybe", "verdict must be one of"),
                                                        (1, "Confirmed", "verdict must be one of"),
                                                        (0, "confirmed", "no hypothesis at rank 0"),
                                                        (4, "rejected", "no hypothesis at rank 4")])
def test_bad_arguments_to_set_are_named_errors(tmp_path, rank, verdict, match):
    board = HypothesisBoard(_findings(), path=tmp_path / "v.json")
    with pytest.raises(UsageError, match=match):
        board.set(rank, verdict)


def test_constructor_and_repr_do_no_work(tmp_path):
    path = tmp_path / "verdicts.json"
    path.write_text("not json", encoding="utf-8")
    board = HypothesisBoard(_findings(), path=path, top=2)
    text = repr(board)  # neither reads the (corrupt) file nor builds widgets
    assert "2 hypotheses" in text and str(path) in text
    assert "rows" not in board.__dict__ and "widget" not in board.__dict__
