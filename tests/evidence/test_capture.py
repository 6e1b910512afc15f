"""relative_capture: a slice's capture against the rest's, from logged shares and rollout shares."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.evidence import RelativeCapture, relative_capture


def _hours(seed, *, hours=72, share=0.1, capture_slice=1.0, capture_rest=0.995, volume=400):
    rng = np.random.default_rng(seed)
    s = np.full(hours, share) if np.isscalar(share) else np.asarray(share)
    req = rng.poisson(volume, hours)
    on_slice = rng.binomial(req, s)
    k = rng.binomial(on_slice, capture_slice)
    rest = rng.binomial(req - on_slice, capture_rest)
    return k, k + rest, s, req


@pytest.mark.parametrize("share,capture", [(0.1, 0.3), (0.05, 0.6), (0.2, 0.8), (0.5, 0.5)])
def test_a_lossy_slice_is_found_and_its_intervals_cover_the_truth(share, capture):
    missed_ratio = missed_capture = 0
    for seed in range(80):
        k, n, s, req = _hours(seed, share=share, capture_slice=capture)
        rc = relative_capture("canary", k, n, s, req)
        assert rc.p_value < 1e-3 and rc.ratio_interval[1] < 1.0  # found on every seed
        lo, hi = rc.ratio_interval
        missed_ratio += not lo <= capture / 0.995 <= hi
        missed_capture += not rc.capture_interval[0] <= capture <= rc.capture_interval[1]
        assert abs(rc.capture_rest - 0.995) < 0.03  # the rest's served count is random too
    # 95 % intervals: about 4 misses in 80 expected; 10 is far outside binomial noise (P < 0.01)
    assert missed_ratio <= 10 and missed_capture <= 10


def test_a_healthy_slice_stays_quiet_over_many_seeds():
    # the interval is a 95 % one: about 5 % of healthy seeds may miss 1, never many
    misses = 0
    for seed in range(200):
        k, n, s, req = _hours(seed, share=np.linspace(0.05, 0.3, 48), hours=48, capture_slice=0.995)
        rc = relative_capture("canary", k, n, s, req)
        lo, hi = rc.ratio_interval
        misses += not (lo <= 1.0 <= hi)
    assert misses <= 20


def test_round_trip_and_empty_input():
    k, n, s, req = _hours(9)
    rc = relative_capture("v2 on canary", k, n, s, req)
    again = RelativeCapture.from_dict(rc.to_dict())
    assert again.ratio == pytest.approx(rc.ratio) and again.name == rc.name
    with pytest.raises(ValueError, match="no logged rows"):
        relative_capture("x", np.zeros(3), np.zeros(3), np.full(3, 0.1))
