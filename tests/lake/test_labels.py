"""One definition of a positive binary label, as text, numbers or booleans, in polars and numpy alike."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workbench.lake.labels import POSITIVE_TEXT, positive_expr, positive_mask


@pytest.mark.parametrize(("values", "expected"), [
    (["pos", "neg", "Y", "n", " Yes ", "no", "TRUE", "f", "positive", "negative"], [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]),
    ([0, 1, 1, 0, 2], [0, 1, 1, 0, 1]),
    ([0.2, 0.51, 0.5, 0.99], [0, 1, 0, 1]),
    (["1.0", "0.0", "0", "1"], [1, 0, 0, 1]),
    ([True, False, True], [1, 0, 1]),
])
def test_the_expression_and_the_mask_agree(values, expected):
    s = pl.Series("label", values)
    by_expr = pl.DataFrame({"label": s}).select(positive_expr("label")).to_series().to_list()
    assert by_expr == expected
    assert positive_mask(s).astype(int).tolist() == expected
    assert positive_mask(values).astype(int).tolist() == expected
    assert positive_mask(np.asarray(values)).astype(int).tolist() == expected


def test_null_stays_null_in_the_expression_and_is_negative_in_the_mask():
    df = pl.DataFrame({"label": ["yes", None, "no"]})
    assert df.select(positive_expr("label")).to_series().to_list() == [1, None, 0]
    assert positive_mask(df["label"]).tolist() == [True, False, False]
    assert set(POSITIVE_TEXT) >= {"1", "true", "yes", "y", "t", "pos", "positive"}
