"""Reproducible sample drawing and the accept/reject verdict."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datadam.errors import InputError
from datadam.quality.sampling import draw_sample, judge, plan


def test_same_seed_same_sample_and_sorted() -> None:
    ids = [f"item-{i:05d}" for i in range(1000)]
    first = draw_sample(ids, 80, seed=20261107)
    assert first == draw_sample(ids, 80, seed=20261107)
    assert first == sorted(first)
    assert len(set(first)) == 80 and set(first) <= set(ids)
    assert first != draw_sample(ids, 80, seed=20261108)


def test_known_draw_is_stable() -> None:
    """Pins NumPy's Generator: a change here means recorded seeds no longer replay."""
    assert draw_sample(list(range(100)), 5, seed=7) == [57, 60, 67, 88, 90]
    items = [f"item-{i}" for i in range(1000)]
    assert draw_sample(items, 4, seed=20261107) == ["item-164", "item-203", "item-687", "item-783"]
    assert draw_sample(list(range(10)), 10, seed=1) == list(range(10))
    assert draw_sample([3, 1, 2], 0, seed=1) == []


@given(st.integers(1, 300), st.data())
def test_draw_size_and_membership(lot: int, data: st.DataObject) -> None:
    n = data.draw(st.integers(0, lot))
    seed = data.draw(st.integers(0, 2**32))
    sample = draw_sample(list(range(lot)), n, seed)
    assert len(sample) == n == len(set(sample))
    assert all(0 <= i < lot for i in sample)


@pytest.mark.parametrize(
    ("ids", "n", "seed", "message"),
    [
        ([1, 2, 3], 4, 0, "between 0 and the lot size"),
        ([1, 2, 3], -1, 0, "between 0 and the lot size"),
        ([1, 1, 2], 1, 0, "distinct"),
        ([1, 2, 3], 1, -5, "seed"),
    ],
)
def test_draw_rejects_bad_input(ids: list[int], n: int, seed: int, message: str) -> None:
    with pytest.raises(InputError, match=message):
        draw_sample(ids, n, seed)


def test_judge_at_the_boundaries() -> None:
    p = plan(1000, "II", "1.0")  # n=80, Ac 2, Re 3
    assert judge(0, p) == "accept"
    assert judge(2, p) == "accept"
    assert judge(3, p) == "reject"
    assert judge(80, p) == "reject"


def test_judge_reduced_gap_accepts() -> None:
    p = plan(1000, "II", "2.5", "reduced")  # n=32, Ac 2, Re 5
    assert [judge(d, p) for d in range(7)] == ["accept"] * 5 + ["reject"] * 2


@pytest.mark.parametrize("bad", [-1, 81, True, 1.5])
def test_judge_rejects_impossible_counts(bad: object) -> None:
    with pytest.raises(InputError):
        judge(bad, plan(1000, "II", "1.0"))  # type: ignore[arg-type]
