"""Hand-checkable cases for every method, and the numerical edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from agg_helpers import crowd_with_perfect_worker

from datadam.aggregation import METHODS, Answers, aggregate
from datadam.aggregation.synthetic import simulate_crowd

ALL = list(METHODS)
MODELS = ["ds", "onecoin", "glad", "mace"]


def test_majority_vote_counts_and_shares() -> None:
    a = Answers.from_indices([0, 0, 0, 1, 1], [0, 1, 2, 0, 1], [1, 1, 0, 0, 0], n_classes=2)
    r = aggregate(a, "mv")
    assert r.labels.tolist() == [1, 0]
    assert np.allclose(r.posteriors, [[1 / 3, 2 / 3], [1.0, 0.0]])
    assert np.allclose(r.confidence, [2 / 3, 1.0])
    # worker 2 disagreed with the majority on their only answer
    assert r.worker_skill.tolist() == [1.0, 1.0, 0.0]


def test_majority_tie_goes_to_the_more_reliable_voter() -> None:
    # tasks 0-2: worker 0 always agrees with the majority, worker 3 never does
    t = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3]
    w = [0, 1, 3, 0, 2, 3, 0, 1, 3, 0, 3]
    lab = [1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1]
    r = aggregate(Answers.from_indices(t, w, lab, n_classes=2), "mv")
    assert r.labels[3] == 0  # 1-1 tie: worker 0's answer wins
    assert r.confidence[3] == pytest.approx(0.5)


def test_majority_tie_without_track_record_goes_to_the_common_class() -> None:
    # one tie, workers seen once: class 1 is the crowd's most frequent answer overall
    a = Answers.from_indices([0, 0, 1, 2], [0, 1, 2, 3], [0, 1, 1, 1], n_classes=2)
    assert aggregate(a, "mv").labels[0] == 1


def test_wawa_weights_are_smoothed_agreement() -> None:
    a = Answers.from_indices(
        [0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2], [1, 1, 0, 0, 0, 1], n_classes=2
    )
    r = aggregate(a, "wawa")
    # workers 0 and 1 agree with the majority twice, worker 2 never: (2+1)/(2+2), (0+1)/(2+2)
    assert np.allclose(r.worker_skill, [0.75, 0.75, 0.25])
    assert np.allclose(r.posteriors[0], [0.25 / 1.75, 1.5 / 1.75])


def test_dawid_skene_learns_an_adversarial_worker() -> None:
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 2, 40)
    t = np.tile(np.arange(40), 4)
    w = np.repeat(np.arange(4), 40)
    lab = np.concatenate([truth, truth, truth, 1 - truth])  # worker 3 always flips
    r = aggregate(Answers.from_indices(t, w, lab, n_classes=2), "ds")
    assert np.array_equal(r.labels, truth)
    assert r.worker_confusion is not None
    flips = r.worker_confusion[3]
    assert flips[0, 1] > 0.95 and flips[1, 0] > 0.95
    assert np.allclose(r.worker_confusion.sum(axis=2), 1.0)


def test_one_coin_accuracy_follows_the_beta_prior() -> None:
    # two workers who always agree on 10 tasks: posteriors one-hot, accuracy (10+2)/(10+3)
    t = np.tile(np.arange(10), 2)
    a = Answers.from_indices(t, np.repeat([0, 1], 10), np.tile(np.arange(10) % 2, 2))
    r = aggregate(a, "onecoin")
    hits = r.posteriors[a.task_idx, a.label_idx].reshape(2, 10).sum(axis=1)
    assert np.allclose(r.worker_skill, (hits + 2) / 13, atol=1e-3)
    assert r.worker_skill[0] > 0.9


def test_glad_separates_good_from_random_workers() -> None:
    a, truth = crowd_with_perfect_worker(n_tasks=150, n_noisy=4, accuracy=0.45, seed=3)
    r = aggregate(a, "glad")
    alpha = r.params["alpha"]
    assert np.argmax(alpha) == 0
    assert r.params["beta"].shape == (150,)
    assert (r.labels == truth).mean() > 0.85


def test_mace_recognises_a_spammer() -> None:
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 2, 60)
    t = np.tile(np.arange(60), 4)
    w = np.repeat(np.arange(4), 60)
    noisy = np.where(rng.random(60) < 0.8, truth, 1 - truth)
    lab = np.concatenate([truth, truth, noisy, np.ones(60, int)])  # worker 3 always says 1
    r = aggregate(Answers.from_indices(t, w, lab, n_classes=2), "mace")
    theta, xi = r.params["theta"], r.params["xi"]
    assert theta[3] < 0.3 < theta[0]
    assert xi[3, 1] > 0.9  # the spammer's habit
    assert np.array_equal(r.labels, truth)


def test_auto_reports_its_choice() -> None:
    a, _ = simulate_crowd(n_tasks=300, n_workers=20, n_classes=3, answers_per_task=5, seed=1)
    r = aggregate(a, "auto")
    assert r.method.split(":")[0] == "auto" and r.method.split(":")[1] in MODELS
    assert r.params["held_out"].shape == (4,)


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("seed", [0, 1])
def test_perfect_worker_is_recovered(method: str, seed: int) -> None:
    a, truth = crowd_with_perfect_worker(
        n_tasks=200, n_noisy=4, n_classes=5, accuracy=0.5, seed=seed
    )
    r = aggregate(a, method)
    assert int(np.argmax(r.worker_skill)) == 0
    assert r.worker_skill[0] > 0.85
    mv = aggregate(a, "mv")
    assert (r.labels == truth).mean() >= (mv.labels == truth).mean()


@pytest.mark.parametrize("method", ["onecoin", "mace", "auto"])
def test_perfect_worker_decides_every_task(method: str) -> None:
    a, truth = crowd_with_perfect_worker(n_tasks=200, n_noisy=4, n_classes=5, accuracy=0.5, seed=3)
    assert np.array_equal(aggregate(a, method).labels, truth)


def test_a_lone_perfect_worker_is_followed() -> None:
    truth = np.arange(30) % 3
    a = Answers.from_indices(np.arange(30), np.zeros(30, int), truth, n_classes=3)
    for method in METHODS:
        assert np.array_equal(aggregate(a, method).labels, truth)


@pytest.mark.parametrize("method", ALL)
def test_single_answer_worker_and_unseen_class_give_no_nan(method: str) -> None:
    # class 2 exists in the label set but nobody answered it; worker 2 answered once
    a = Answers.from_indices([0, 0, 1, 1, 2], [0, 1, 0, 1, 2], [0, 0, 1, 1, 0], n_classes=3)
    r = aggregate(a, method)
    assert np.isfinite(r.posteriors).all() and np.isfinite(r.worker_skill).all()
    assert np.allclose(r.posteriors.sum(axis=1), 1.0)
    if r.worker_confusion is not None:
        assert np.isfinite(r.worker_confusion).all()


@pytest.mark.parametrize("method", ALL)
def test_task_without_answers_gets_a_distribution(method: str) -> None:
    a = Answers.from_indices([0, 0, 1], [0, 1, 0], [1, 1, 0], n_tasks=3, n_classes=2)
    r = aggregate(a, method)
    assert np.allclose(r.posteriors.sum(axis=1), 1.0)
    assert r.labels.shape == (3,)


@pytest.mark.parametrize("method", ALL)
def test_gold_fixes_truth(method: str) -> None:
    a, truth = crowd_with_perfect_worker(n_tasks=40, seed=5)
    gold = np.full(40, -1)
    gold[:10] = (truth[:10] + 1) % 3  # deliberately different from the crowd
    r = aggregate(a, method, gold=gold)
    assert np.array_equal(r.labels[:10], gold[:10])
    assert np.allclose(r.posteriors[np.arange(10), gold[:10]], 1.0)


@pytest.mark.parametrize("method", MODELS)
def test_tolerance_and_iteration_limit_are_parameters(method: str) -> None:
    a, _ = simulate_crowd(n_tasks=200, n_workers=15, n_classes=3, answers_per_task=4, seed=2)
    assert aggregate(a, method, max_iter=1).iterations == 1
    assert aggregate(a, method, tol=1e-12, max_iter=7).iterations == 7


def test_unknown_method_is_a_value_error() -> None:
    a = Answers.from_indices([0], [0], [0])
    with pytest.raises(ValueError, match="unknown method"):
        aggregate(a, "nope")


def test_results_are_deterministic_for_a_seed() -> None:
    a, _ = simulate_crowd(n_tasks=200, n_workers=15, n_classes=3, answers_per_task=4, seed=2)
    for method in ALL:
        one, two = aggregate(a, method, seed=7), aggregate(a, method, seed=7)
        assert np.array_equal(one.posteriors, two.posteriors)


def test_methods_beat_majority_vote_on_a_synthetic_crowd() -> None:
    a, truth = simulate_crowd(n_tasks=2000, n_workers=50, n_classes=4, answers_per_task=5, seed=0)
    mv = (aggregate(a, "mv").labels == truth).mean()
    for method in ["wawa", "ds", "onecoin", "glad", "mace", "auto"]:
        assert (aggregate(a, method).labels == truth).mean() >= mv - 0.01
