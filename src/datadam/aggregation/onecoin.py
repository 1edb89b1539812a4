"""One-coin Dawid–Skene (`onecoin`): one accuracy per worker, errors spread evenly."""

from __future__ import annotations

import numpy as np

from datadam.aggregation._common import (
    TINY,
    argmax_with_ties,
    check_gold,
    class_prior,
    converged,
    fix_gold,
    vote_share,
)
from datadam.aggregation.answers import Answers, FloatArray, IntArray
from datadam.aggregation.dawid_skene import (
    exact_posteriors,
    expected_counts,
    fast_posteriors,
)
from datadam.aggregation.result import AggregationResult


def one_coin_confusion(accuracy: FloatArray, n_classes: int) -> FloatArray:
    """The (workers, K, K) confusion matrices implied by one accuracy per worker."""
    k = n_classes
    off = (1.0 - accuracy) / max(k - 1, 1)
    conf = np.repeat(off[:, None, None], k, axis=1).repeat(k, axis=2)
    idx = np.arange(k)
    conf[:, idx, idx] = accuracy[:, None]
    return conf


def expected_accuracy(
    answers: Answers, posteriors: FloatArray, prior_correct: float, prior_wrong: float
) -> FloatArray:
    """M step: a worker's expected share of correct answers under the posteriors, with a
    Beta(prior_correct, prior_wrong) pseudo-count so one answer never gives accuracy 0 or 1."""
    counts = expected_counts(answers, posteriors)
    correct = np.einsum("wkk->w", counts)
    return (correct + prior_correct) / (answers.worker_counts + prior_correct + prior_wrong)


def one_coin_dawid_skene(
    answers: Answers,
    *,
    gold: IntArray | None = None,
    seed: int = 0,
    max_iter: int = 100,
    tol: float = 1e-5,
    prior_correct: float = 2.0,
    prior_wrong: float = 1.0,
    prior_pseudo_count: float = 1.0,
) -> AggregationResult:
    """Dawid–Skene with one parameter per worker: P(correct) = p_w, each wrong label (1-p)/(K-1).

    Far fewer parameters than full confusion matrices, so it suits sparse data (few answers per
    worker). The accuracy prior Beta(2, 1) (mean 2/3) says a worker is more likely helpful than
    adversarial, which also keeps EM away from the label-swapped solution. Stops when the
    log-likelihood gains less than `tol` nats per answer, or after `max_iter` rounds. Gold tasks
    keep their truth. Deterministic; `seed` is unused.
    """
    g = check_gold(gold, answers)
    # float32 inside the loop (see `fast_posteriors`)
    post = fix_gold(vote_share(answers), g).astype(np.float32)
    ll = -np.inf
    iterations = 0
    accuracy = np.zeros(answers.n_workers)
    while iterations < max_iter:
        iterations += 1
        accuracy = expected_accuracy(answers, post, prior_correct, prior_wrong)
        prior = class_prior(post, prior_pseudo_count)
        confusion = one_coin_confusion(accuracy, answers.n_classes)
        post, new_ll = fast_posteriors(
            answers, np.log(np.maximum(confusion, TINY)), np.log(np.maximum(prior, TINY)), g
        )
        done = converged(ll, new_ll, answers.n_answers, tol)
        ll = new_ll
        if done:
            break
    post, ll = exact_posteriors(answers, confusion, prior, g)
    return AggregationResult(
        method="onecoin",
        labels=argmax_with_ties(post, answers),
        posteriors=post,
        worker_skill=accuracy,
        iterations=iterations,
        log_likelihood=ll,
        worker_confusion=one_coin_confusion(accuracy, answers.n_classes),
    )
