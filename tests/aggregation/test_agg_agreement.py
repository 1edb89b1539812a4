from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datadam.aggregation import Answers
from datadam.aggregation.agreement import (
    agreement_report,
    cohen_kappa_pairs,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)


def _from_counts(counts: list[list[int]]) -> Answers:
    """Answers with the given per-task vote counts, each vote by a different worker."""
    t, w, lab = [], [], []
    for task, row in enumerate(counts):
        worker = 0
        for label, n in enumerate(row):
            for _ in range(n):
                t.append(task)
                w.append(worker)
                lab.append(label)
                worker += 1
    return Answers.from_indices(t, w, lab, n_classes=len(counts[0]))


def test_fleiss_kappa_on_a_hand_computed_table() -> None:
    # 3 tasks x 4 raters, two classes. P_i = [1, 0.5, 1/3 ... ] worked out below.
    a = _from_counts([[4, 0], [2, 2], [3, 1]])
    p_i = np.array([1.0, (2 * 1 + 2 * 1) / 12, (3 * 2 + 0) / 12])
    p = np.array([9, 3]) / 12
    expected = (p_i.mean() - (p**2).sum()) / (1 - (p**2).sum())
    assert fleiss_kappa(a) == pytest.approx(expected)
    assert percent_agreement(a) == pytest.approx((12 + 4 + 6) / 36)


def test_cohen_kappa_for_two_workers() -> None:
    # worker 0 vs worker 1 on 6 tasks: agree 4 times; marginals (3,3) and (4,2)
    w0 = [0, 0, 0, 1, 1, 1]
    w1 = [0, 0, 1, 1, 1, 0]
    t = list(range(6)) * 2
    a = Answers.from_indices(t, [0] * 6 + [1] * 6, w0 + w1, n_classes=2)
    res = cohen_kappa_pairs(a, min_shared=1)
    p_o, p_e = 4 / 6, (3 * 3 + 3 * 3) / 36
    assert res.pairs.tolist() == [[0, 1]]
    assert res.kappa[0] == pytest.approx((p_o - p_e) / (1 - p_e))
    assert res.shared.tolist() == [6]


def test_cohen_kappa_undefined_pair_is_nan_not_a_warning() -> None:
    a = Answers.from_indices([0, 0, 1, 1], [0, 1, 0, 1], [1, 1, 1, 1], n_classes=2)
    res = cohen_kappa_pairs(a, min_shared=1)
    assert np.isnan(res.kappa).all()
    assert np.isnan(res.mean())


@settings(max_examples=50)
@given(st.lists(st.lists(st.integers(0, 4), min_size=3, max_size=3), min_size=2, max_size=12))
def test_own_krippendorff_alpha_matches_the_library(counts: list[list[int]]) -> None:
    a = _from_counts(counts)
    c = a.vote_counts
    usable = c[c.sum(axis=1) >= 2]
    if usable.shape[0] == 0 or (usable.sum(axis=0) > 0).sum() < 2:
        assert np.isnan(krippendorff_alpha(a)) or krippendorff_alpha(a) == pytest.approx(
            krippendorff_alpha(a, engine="library")
        )
        return
    expected = krippendorff.alpha(value_counts=usable, level_of_measurement="nominal")
    assert krippendorff_alpha(a) == pytest.approx(expected, abs=1e-9)
    assert krippendorff_alpha(a, engine="library") == pytest.approx(expected, abs=1e-9)


def test_metrics_are_nan_without_pairs() -> None:
    a = Answers.from_indices([0, 1], [0, 1], [0, 1], n_classes=2)
    assert np.isnan(percent_agreement(a))
    assert np.isnan(fleiss_kappa(a))
    assert np.isnan(krippendorff_alpha(a))
    report = agreement_report(a)
    assert report["fleiss_kappa"] is None  # JSON null, not NaN


def test_report_includes_per_worker_agreement() -> None:
    a = Answers.from_columns(["t1", "t1", "t2", "t2"], ["ann", "bob", "ann", "bob"], list("xyxx"))
    labels = np.array([0, 0])  # both tasks aggregated to "x"
    report = agreement_report(a, labels, min_shared=1)
    assert report["worker_agreement"] == {"ann": 1.0, "bob": 0.5}
    assert report["n_answers"] == 4
