"""Per-row LLM text signals (workbench.evidence.llm_text.signal_exprs) on hand-written rows."""

from __future__ import annotations

import polars as pl
import polars_hash  # noqa: F401  (the nchash namespace)
import pytest

from workbench.evidence.llm_text import REFUSAL_PATTERNS, SIGNALS, signal_exprs
from workbench.exceptions import InvalidValueError


def _signals(df: pl.DataFrame, **kw) -> pl.DataFrame:
    return df.select(signal_exprs(df.columns, **kw))


def test_only_signals_the_columns_allow_in_declared_order_and_types():
    assert signal_exprs([]) == []
    assert [e.meta.output_name() for e in signal_exprs(["prompt_text"])] == ["prompt_chars"]
    assert [e.meta.output_name() for e in signal_exprs(["response_text"])] == ["refusal", "citations",
                                                                               "response_chars"]
    assert [e.meta.output_name() for e in signal_exprs(["retrieved_ids", "retrieval_scores"])] == [
        "empty_retrieval", "top_retrieval_score"]
    df = pl.DataFrame({"request_id": ["a"], "prompt_text": ["q"], "response_text": ["r"], "context_text": ["c"],
                       "retrieved_ids": [["d"]], "retrieval_scores": [[0.5]]})
    out = _signals(df)
    assert out.columns == list(SIGNALS)
    assert dict(out.schema) == SIGNALS


@pytest.mark.parametrize("text, expected", [
    ("I'm sorry, but I can't help with that.", True),
    ("I’m sorry but I cannot share account details.", True),  # curly apostrophe, no comma
    ("I CANNOT HELP WITH THAT REQUEST", True),
    ("As an AI, I do not have opinions.", True),
    ("I'm not able to access your order history.", True),
    ("Unfortunately I must decline.", True),
    ("That goes against our policy.", True),
    ("Sure! Open Settings > Account and press Reset.", False),
    ("I'm sorry to hear that; here is how to fix it.", False),  # apology without a refusal
    ("You can't help but love this feature.", False),
    ("", False),
    (None, None),
])
def test_refusal(text, expected):
    assert _signals(pl.DataFrame({"response_text": [text]}, schema={"response_text": pl.String}))[
        "refusal"][0] is expected


def test_refusal_patterns_are_lower_case():
    # they run on the lower-cased response: an upper-case letter in a pattern would never match
    assert all(p == p.lower() for p in REFUSAL_PATTERNS)


def test_grounded_share_exact():
    df = pl.DataFrame({
        "response_text": [
            # content words: reset, password, account, settings, page (your/from/here are stopwords)
            "Reset your password from the account settings page, here.",
            "The refund window closes after thirty days.",   # refund window closes thirty days
            "Yes.",                                           # no content word
            "", None, "Reset password.",
            "Reset, RESET and reset again!",                 # one distinct word, found
        ],
        "context_text": [
            "To reset a password, open Account > Settings.",  # reset password account settings
            "Shipping takes five days.",                      # days
            "Anything", "context", "context", None, "Press reset.",
        ],
    })
    got = _signals(df)["grounded_share"].to_list()
    assert got == [pytest.approx(4 / 5), pytest.approx(1 / 5), None, None, None, None, 1.0]


def test_grounded_share_words_are_whole_words():
    # "reset" does not occur in "resetting" as a word, and digits split words
    df = pl.DataFrame({"response_text": ["reset order1234x"], "context_text": ["resetting order now"]})
    assert _signals(df)["grounded_share"][0] == pytest.approx(1 / 2)  # {reset, order}: order found


def test_grounded_share_sample_is_by_request_id_hash():
    n = 4000
    df = pl.DataFrame({"request_id": [f"r{i}" for i in range(n)], "response_text": ["alpha bravo charlie"] * n,
                       "context_text": ["alpha bravo delta"] * n})
    full = _signals(df, grounded_sample=1.0)["grounded_share"]
    assert full.null_count() == 0 and full.unique().to_list() == [pytest.approx(2 / 3)]
    part = _signals(df, grounded_sample=0.125)
    picked = part["grounded_share"].is_not_null()
    assert 0.09 * n < picked.sum() < 0.16 * n
    # the same rows whatever the order
    again = _signals(df.reverse(), grounded_sample=0.125)["grounded_share"].is_not_null().reverse()
    assert picked.to_list() == again.to_list()
    # without a request id every row is computed
    assert _signals(df.drop("request_id"), grounded_sample=0.125)["grounded_share"].null_count() == 0
    # the rows are those whose XXH64 (seed 42: Spark's xxhash64, which picks the same rows) is below
    # the share, as a signed number modulo 10^6
    h = df.select(pl.col("request_id").nchash.xxhash64(seed=42).cast(pl.Int64, wrap_numerical=True)).to_series()
    assert picked.to_list() == ((h % 1_000_000) < 125_000).to_list()


def test_grounded_sample_without_the_hash_plugin_uses_polars_hash(monkeypatch):
    """Where polars-hash cannot load, the sample is polars' own hash: another eighth, as uniform."""
    from workbench.evidence import llm_text

    monkeypatch.setattr(llm_text, "_xxhash64_ok", lambda: False)
    n = 4000
    df = pl.DataFrame({"request_id": [f"r{i}" for i in range(n)], "response_text": ["alpha bravo"] * n,
                       "context_text": ["alpha"] * n})
    picked = _signals(df, grounded_sample=0.125)["grounded_share"].is_not_null()
    assert 0.09 * n < picked.sum() < 0.16 * n
    want = (df["request_id"].hash(14).cast(pl.Int64, wrap_numerical=True) % 1_000_000) < 125_000
    assert picked.to_list() == want.to_list()


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5])
def test_grounded_sample_out_of_range_is_a_named_error(bad):
    with pytest.raises(InvalidValueError, match="grounded_sample"):
        signal_exprs(["response_text", "context_text"], grounded_sample=bad)


def test_citations_and_unsupported():
    df = pl.DataFrame({
        "response_text": [
            "See [doc-1] and [doc-9], also [doc-1] again.",        # distinct: doc-1, doc-9; doc-9 not retrieved
            "Steps [2] and [3] and [kb/policy.v2].",                 # [2] is position 2; [3] out of range
            "Read [the guide](http://x) and [faq#7].",               # a link is not a citation
            "No citations [ here ].",
            "[doc-1]",
            None,
        ],
        "retrieved_ids": [["doc-1", "doc-2"], ["a", "b"], [], ["x"], None, ["doc-1"]],
    })
    out = _signals(df)
    assert out["citations"].to_list() == [2, 3, 1, 0, 1, None]
    assert out["unsupported_citations"].to_list() == [1, 2, 1, 0, 1, None]


def test_retrieval_and_lengths():
    df = pl.DataFrame({
        "retrieved_ids": [["a", "b"], [], None],
        "retrieval_scores": [[0.2, 0.9, 0.4], [], None],
        "prompt_text": ["héllo", "", None],
        "response_text": ["abc", "  ", None],
    })
    out = _signals(df)
    assert out["empty_retrieval"].to_list() == [False, True, True]
    assert out["top_retrieval_score"].to_list() == [0.9, None, None]
    assert out["prompt_chars"].to_list() == [5, 0, None]
    assert out["response_chars"].to_list() == [3, 2, None]


def test_signals_stream_in_a_lazy_group_by():
    df = pl.DataFrame({"request_id": ["a", "b", "c"], "hour": [0, 0, 1],
                       "response_text": ["I cannot help with that.", "Reset the router.", "Reset [d1]"],
                       "context_text": ["x", "reset router", "router"], "retrieved_ids": [["d1"], [], ["d1"]]})
    lf = df.lazy().with_columns(signal_exprs(df.columns, grounded_sample=1.0))
    res = lf.group_by("hour").agg(pl.col("refusal").sum(), pl.col("citations").sum(),
                                  pl.col("empty_retrieval").sum()).sort("hour").collect(engine="streaming")
    assert res.rows() == [(0, 1, 0, 1), (1, 0, 1, 0)]
