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
    vote_share,
)
from datadam.aggregation.answers import Answers, FloatArray, IntArray
from datadam.aggregation.dawid_skene import (
    exact_posteriors,
    expected_counts,
    fast_posteriors,
)
from datadam.aggregation.result import AggregationResult


def mace_confusion(theta: FloatArray, xi: FloatArray) -> FloatArray:
    """(workers, K, K) confusion: P(answer l | truth k) = theta [l = k] + (1 - theta) xi_l."""
    k = xi.shape[1]
    conf = ((1.0 - theta)[:, None] * xi)[:, None, :].repeat(k, axis=1)
    idx = np.arange(k)
    conf[:, idx, idx] += theta[:, None]
    return conf


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
    such workers are recognised and discounted. EM with MAP estimates: theta ~ Beta(2, 1)
    (`theta_prior`; more likely competent than not, which keeps EM off the label-swapped
    solution), xi ~ symmetric Dirichlet with `xi_pseudo_count` per label, and a learned class
    prior. The M step needs, per worker and answered label l, the expected number of answers
    that were truthful: (expected answers of l where the truth is l) * theta / (theta +
    (1-theta) xi_l); those sums come from the same sparse product as Dawid–Skene's, so MACE
    costs about what DS does. Starts from majority-vote shares; stops when the log-likelihood
    gains less than `tol` nats per answer, or after `max_iter`. Gold tasks keep their truth.
    Deterministic; `seed` is unused.
    """
    g = check_gold(gold, answers)
    # float32 inside the loop (see `fast_posteriors`)
    post = fix_gold(vote_share(answers), g).astype(np.float32)
    nw, k = answers.n_workers, answers.n_classes
    answered = np.bincount(answers.worker_idx * k + answers.label_idx, minlength=nw * k).reshape(
        nw, k
    )
    theta = np.full(nw, 0.5)
    xi = np.full((nw, k), 1.0 / max(k, 1))
    a, b = theta_prior
    ll = -np.inf
    iterations = 0
    confusion = mace_confusion(theta, xi)
    while iterations < max_iter:
        iterations += 1
        # hits[w, l]: expected answers l of worker w on tasks whose truth is l
        hits = np.einsum("wkk->wk", expected_counts(answers, post))
        if iterations == 1:
            truthful = hits  # first pass: trust the vote shares
        else:
            truthful = (
                hits
                * theta[:, None]
                / np.maximum(theta[:, None] + (1.0 - theta[:, None]) * xi, TINY)
            )
        theta = (truthful.sum(axis=1) + a) / (answers.worker_counts + a + b)
        spam = np.maximum(answered - truthful, 0.0) + xi_pseudo_count
        xi = spam / spam.sum(axis=1, keepdims=True)
        prior = class_prior(post, prior_pseudo_count)
        confusion = mace_confusion(theta, xi)
        post, new_ll = fast_posteriors(
            answers, np.log(np.maximum(confusion, TINY)), np.log(np.maximum(prior, TINY)), g
        )
        done = converged(ll, new_ll, answers.n_answers, tol)
        ll = new_ll
        if done:
            break
    post, ll = exact_posteriors(answers, confusion, prior, g)
    prior = class_prior(post, prior_pseudo_count)
    skill = np.einsum("wkk->wk", confusion) @ prior if k else np.zeros(nw)
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
