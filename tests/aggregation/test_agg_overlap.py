from __future__ import annotations

import numpy as np
import pytest

from datadam.aggregation import Answers
from datadam.aggregation.overlap import (
    OverlapPolicy,
    loo_dawid_skene_posteriors,
    loo_one_coin_posteriors,
    replay,
    reveal_order,
)
from datadam.aggregation.synthetic import simulate_crowd


def test_one_label_is_never_certain() -> None:
    a = Answers.from_indices(np.arange(50), np.arange(50) % 5, np.arange(50) % 2, n_classes=2)
    for model in ("ds", "onecoin"):
        policy = OverlapPolicy(threshold=0.9, model=model)
        assert (policy.confidence(a) < 0.9).all()
        assert policy.needs_more(a).all()


def test_minimum_is_respected_even_when_confident() -> None:
    a, _ = simulate_crowd(n_tasks=100, n_workers=10, n_classes=2, answers_per_task=3, seed=0)
    policy = OverlapPolicy(threshold=0.5, min_labels=4)
    assert policy.needs_more(a).all()  # 3 answers < minimum 4, whatever the confidence


def test_maximum_stops_asking() -> None:
    a, _ = simulate_crowd(n_tasks=100, n_workers=10, n_classes=3, answers_per_task=3, seed=0)
    assert not OverlapPolicy(threshold=1.0, max_labels=3).needs_more(a).any()
    assert OverlapPolicy(threshold=1.0, max_labels=10).needs_more(a).any()


def test_settled_vote_stops_before_the_cap() -> None:
    # three agreeing votes with one label left cannot be overturned
    a = Answers.from_indices([0, 0, 0], [0, 1, 2], [1, 1, 1], n_classes=2)
    assert not OverlapPolicy(threshold=1.0, max_labels=4).needs_more(a).any()


def test_policy_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        OverlapPolicy(threshold=0.0)
    with pytest.raises(ValueError):
        OverlapPolicy(min_labels=0)
    with pytest.raises(ValueError):
        OverlapPolicy(min_labels=3, max_labels=2)


def test_loo_posteriors_are_distributions() -> None:
    a, _ = simulate_crowd(n_tasks=80, n_workers=8, n_classes=3, answers_per_task=3, seed=1)
    for fn in (loo_dawid_skene_posteriors, loo_one_coin_posteriors):
        post, _ = fn(a)
        assert np.allclose(post.sum(axis=1), 1.0)


def test_reveal_order_is_a_per_task_permutation() -> None:
    a, _ = simulate_crowd(n_tasks=30, n_workers=10, n_classes=2, answers_per_task=4, seed=2)
    rank = reveal_order(a, seed=5)
    for t in range(a.n_tasks):
        assert sorted(rank[a.task_idx == t].tolist()) == [0, 1, 2, 3]
    assert np.array_equal(rank, reveal_order(a, seed=5))
    assert not np.array_equal(rank, reveal_order(a, seed=6))


def test_replay_saves_labels_and_keeps_accuracy() -> None:
    a, truth = simulate_crowd(n_tasks=600, n_workers=30, n_classes=2, answers_per_task=8, seed=3)
    policy = OverlapPolicy(threshold=0.95, max_labels=8)
    report = replay(a, truth, policy, method="ds", seed=0)
    assert report.labels_full == a.n_answers
    assert report.labels_used < 0.9 * a.n_answers
    assert report.accuracy >= report.accuracy_full - 0.02
    again = replay(a, truth, policy, method="ds", seed=0)
    assert again == report


def test_replay_counts_unscorable_gold_as_wrong() -> None:
    a = Answers.from_indices([0, 0, 1, 1], [0, 1, 0, 1], [1, 1, 0, 0], n_classes=2)
    gold = np.array([1, 0])
    report = replay(a, gold, OverlapPolicy(max_labels=2), method="mv", n_unscorable=2)
    assert report.accuracy_full == pytest.approx(0.5)
