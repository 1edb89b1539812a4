"""MACE (`mace`): competence and spamming strategy per worker (Hovy et al., NAACL 2013)."""

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


def mace_confusion(theta: FloatArray, xi: FloatArray) -> FloatArray:
    """(workers, K, K) confusion: P(answer l | truth k) = theta [l = k] + (1 - theta) xi_l."""
    k = xi.shape[1]
    conf = ((1.0 - theta)[:, None] * xi)[:, None, :].repeat(k, axis=1)
    idx = np.arange(k)
    conf[:, idx, idx] += theta[:, None]
    return conf


def mace_log_joint(
    answers: Answers, theta: FloatArray, xi: FloatArray, log_prior: FloatArray
) -> FloatArray:
    """log P(truth=k) + sum of log P(answer | k) under MACE; two bincounts over answers."""
    k = answers.n_classes
    w, lab = answers.worker_idx, answers.label_idx
    spam = (1.0 - theta[w]) * xi[w, lab]  # P(answer) when the truth is another class
    log_spam = np.log(np.maximum(spam, TINY))
    bonus = np.log(np.maximum(theta[w] + spam, TINY)) - log_spam
    flat = np.bincount(answers.task_idx * k + lab, weights=bonus, minlength=answers.n_tasks * k)
    base = np.bincount(answers.task_idx, weights=log_spam, minlength=answers.n_tasks)
    return flat.reshape(answers.n_tasks, k) + base[:, None] + log_prior


def mace(
    answers: Answers,
    *,
    gold: IntArray | None = None,
    seed: int = 0,
    max_iter: int = 100,
    tol: float = 1e-5,
    theta_prior: tuple[float, float] = (2.0, 1.0),
    xi_pseudo_count: float = 1.0,
    prior_pseudo_count: float = 1.0,
) -> AggregationResult:
    """MACE: each worker answers truthfully with probability theta_w ("competence"); otherwise
    they spam, drawing a label from their own strategy xi_w regardless of the truth.

    Unlike one-coin Dawid–Skene, a spammer's errors follow their habit (always "yes", say), so
    such workers are recognised and discounted. EM with MAP estimates: theta ~
    Beta(2, 1) (`theta_prior`; more likely competent than not, which keeps EM off the
    label-swapped solution), xi ~ symmetric Dirichlet with `xi_pseudo_count` per label, and a
    learned class prior. The M step uses, per answer, P(truthful | data) = P(truth = answer) *
    theta / (theta + (1-theta) xi_answer). Starts from majority-vote shares; stops when the
    log-likelihood gains less than `tol` nats per answer, or after `max_iter`. Gold tasks keep
    their truth. Deterministic; `seed` is unused.
    """
    g = check_gold(gold, answers)
    post = fix_gold(vote_share(answers), g)
    k = answers.n_classes
    w, lab = answers.worker_idx, answers.label_idx
    theta = np.full(answers.n_workers, 0.5)
    xi = np.full((answers.n_workers, k), 1.0 / max(k, 1))
    a, b = theta_prior
    ll = -np.inf
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        hit = post[answers.task_idx, lab]
        th, x_l = theta[w], xi[w, lab]
        truthful = hit * th / np.maximum(th + (1.0 - th) * x_l, TINY)
        if iterations == 1:
            truthful = hit  # first pass: trust the vote shares
        n = answers.worker_counts
        theta = (np.bincount(w, truthful, answers.n_workers) + a) / (n + a + b)
        spam_counts = (
            np.bincount(w * k + lab, 1.0 - truthful, answers.n_workers * k).reshape(
                answers.n_workers, k
            )
            + xi_pseudo_count
        )
        xi = spam_counts / spam_counts.sum(axis=1, keepdims=True)
        prior = class_prior(post, prior_pseudo_count)
        log_joint = mace_log_joint(answers, theta, xi, np.log(np.maximum(prior, TINY)))
        post, new_ll = normalise_log(gold_log_likelihood(log_joint, g))
        done = converged(ll, new_ll, answers.n_answers, tol)
        ll = new_ll
        if done:
            break
    confusion = mace_confusion(theta, xi)
    prior = class_prior(post, prior_pseudo_count)
    skill = np.einsum("wkk->wk", confusion) @ prior if k else np.zeros(answers.n_workers)
    return AggregationResult(
        method="mace",
        labels=argmax_with_ties(post, answers),
        posteriors=post,
        worker_skill=skill,
        iterations=iterations,
        log_likelihood=ll,
        worker_confusion=confusion,
        params={"theta": theta, "xi": xi},
    )
