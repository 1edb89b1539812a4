"""The Wilson score interval against hand-computed values."""

from __future__ import annotations

import pytest

from datadam.quality.intervals import wilson_interval


def test_known_values() -> None:
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    low, high = wilson_interval(50, 100)
    assert (low, high) == pytest.approx((0.4038, 0.5962), abs=1e-4)


def test_edges() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 6)[0] == 0.0
    assert wilson_interval(6, 6)[1] == 1.0
    assert wilson_interval(6, 6)[0] == pytest.approx(0.6097, abs=1e-4)
    with pytest.raises(ValueError):
        wilson_interval(7, 6)
