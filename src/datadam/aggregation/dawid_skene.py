"""Dawid–Skene EM with a full confusion matrix per worker (`ds`)."""

from __future__ import annotations

import numpy as np

from datadam.aggregation._common import (
    TINY,
    argmax_with_ties,
    check_gold,
    class_prior,
    converged,
    fix_gold,
    gold_log_likelihood,
    normalise_log,
    vote_share,
)
from datadam.aggregation.answers import Answers, FloatArray, IntArray
from datadam.aggregation.result import AggregationResult


def expected_counts(answers: Answers, posteriors: FloatArray) -> FloatArray:
    """Expected number of times each worker answered `l` when the truth was `k`.

    Shape (workers, K truth, K answer). One sparse product gives all of them:
    (workers*K x tasks) @ (tasks x K); no loop over answers.
    """
    k = answers.n_classes
    matrix = answers.one_hot_t32 if posteriors.dtype == np.float32 else answers.one_hot_t
    counts = np.asarray(matrix @ posteriors, dtype=np.float64)
    return counts.reshape(answers.n_workers, k, k).transpose(0, 2, 1)


def confusion_from_posteriors(
    answers: Answers, posteriors: FloatArray, smoothing: float
) -> FloatArray:
    """M step: expected (truth, answer) counts per worker, smoothed and row-normalised.

    Each row of a worker's matrix gets `smoothing` pseudo-answers spread evenly over the K
    labels, so a worker who never saw a class answers it uniformly instead of producing 0/0.
    """
    k = answers.n_classes
    counts = expected_counts(answers, posteriors) + smoothing / max(k, 1)
    return counts / np.maximum(counts.sum(axis=2, keepdims=True), TINY)


def log_joint_from_confusion(
    answers: Answers, log_confusion: FloatArray, log_prior: FloatArray
) -> FloatArray:
    """E step numerator: log P(truth=k) + sum over a task's answers of log P(answer | k)."""
    k = answers.n_classes
    table = log_confusion.transpose(0, 2, 1).reshape(answers.n_workers * k, k)
    return np.asarray(answers.one_hot @ table) + log_prior


def exact_posteriors(
    answers: Answers, confusion: FloatArray, prior: FloatArray, gold: IntArray | None
) -> tuple[FloatArray, float]:
    """The final float64 E step every confusion-based method ends with: posteriors and the
    log-likelihood from the last parameters, with gold tasks fixed when given."""
    log_joint = log_joint_from_confusion(
        answers, np.log(np.maximum(confusion, TINY)), np.log(np.maximum(prior, TINY))
    )
    return normalise_log(gold_log_likelihood(log_joint, gold))


def fast_posteriors(
    answers: Answers,
    log_confusion: FloatArray,
    log_prior: FloatArray,
    gold: IntArray | None,
) -> tuple[FloatArray, float]:
    """E step for the inside of the EM loop: float32 posteriors and the log-likelihood.

    Half-width floats halve the memory traffic of the (tasks x K) work, which dominates an
    iteration. Precision is kept by shifting each (worker, answer) row of log-probabilities by
    its maximum over the truth before the cast, so a task's entries are sums of small
    non-positive numbers, whatever its number of answers; the shifts are added back (in
    float64) to the log-likelihood. Callers finish with one float64 E step
    (`log_joint_from_confusion`) so returned posteriors are exact to float64.
    """
    k = answers.n_classes
    table = log_confusion.transpose(0, 2, 1).reshape(answers.n_workers * k, k)
    shift = table.max(axis=1)
    rel = (table - shift[:, None]).astype(np.float32)
    log_joint = np.asarray(answers.one_hot32 @ rel)
    log_joint += log_prior.astype(np.float32)
    post, ll = normalise_log(gold_log_likelihood(log_joint, gold))
    return post, ll + float(answers.worker_label_counts @ shift)


def dawid_skene(
    answers: Answers,
    *,
    gold: IntArray | None = None,
    seed: int = 0,
    max_iter: int = 100,
    tol: float = 1e-5,
    smoothing: float = 0.01,
    prior_pseudo_count: float = 1.0,
) -> AggregationResult:
    """Dawid & Skene (1979): each worker has a K x K confusion matrix, each task a latent truth.

    Starts from majority-vote shares, then alternates the M step (confusions and class prior
    from posteriors) and the E step (posteriors from confusions), all in log space. Stops when
    the log-likelihood gains less than `tol` nats per answer or after `max_iter` rounds. Gold
    tasks (`gold[t] >= 0`) keep their known truth throughout. `smoothing` is the number of
    pseudo-answers added to each confusion row (see `confusion_from_posteriors`);
    `prior_pseudo_count` does the same for the class prior. Deterministic; `seed` is unused.
    """
    g = check_gold(gold, answers)
    # float32 inside the loop (see `fast_posteriors`)
    post = fix_gold(vote_share(answers), g).astype(np.float32)
    ll = -np.inf
    iterations = 0
    confusion = np.zeros((answers.n_workers, answers.n_classes, answers.n_classes))
    while iterations < max_iter:
        iterations += 1
        confusion = confusion_from_posteriors(answers, post, smoothing)
        prior = class_prior(post, prior_pseudo_count)
        post, new_ll = fast_posteriors(
            answers, np.log(np.maximum(confusion, TINY)), np.log(np.maximum(prior, TINY)), g
        )
        done = converged(ll, new_ll, answers.n_answers, tol)
        ll = new_ll
        if done:
            break
    post, ll = exact_posteriors(answers, confusion, prior, g)
    diag = np.einsum("wkk->wk", confusion)
    prior = class_prior(post, prior_pseudo_count)
    return AggregationResult(
        method="ds",
        labels=argmax_with_ties(post, answers),
        posteriors=post,
        worker_skill=diag @ prior if answers.n_classes else np.zeros(answers.n_workers),
        iterations=iterations,
        log_likelihood=ll,
        worker_confusion=confusion,
    )
