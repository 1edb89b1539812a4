"""Shared numerics of the EM methods: normalising in log space, tie-breaking, gold, stopping."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from datadam.aggregation.answers import Answers, FloatArray, IntArray

#: Floor for probabilities before taking logs; keeps log(0) out of every fit.
TINY = 1e-300


def argmax_with_ties(scores: FloatArray, answers: Answers) -> IntArray:
    """Row-wise argmax; exact ties go to the class ranked first by `Answers.class_rank`."""
    if scores.shape[1] == 0:
        return np.full(scores.shape[0], -1, dtype=np.int64)
    rank = answers.class_rank
    return rank[np.argmax(scores[:, rank], axis=1)].astype(np.int64)


def row_max(matrix: FloatArray) -> FloatArray:
    """Maximum of each row; a loop over the (few) columns beats `max(axis=1)` on tall arrays."""
    m = matrix[:, 0].copy()
    for j in range(1, matrix.shape[1]):
        np.maximum(m, matrix[:, j], out=m)
    return m


def normalise_log(log_joint: FloatArray) -> tuple[FloatArray, float]:
    """Posteriors from unnormalised log-probabilities (computed in place), and the summed log
    normaliser, which is the data log-likelihood.

    Subtracting each row's maximum before exponentiating means products of hundreds of small
    likelihoods never underflow. `log_joint` is overwritten with the posteriors.
    """
    if log_joint.shape[1] == 0:
        return log_joint, 0.0
    m = row_max(log_joint)
    p = log_joint
    p -= m[:, None]
    np.exp(p, out=p)
    s = np.einsum("tk->t", p)  # einsum: no BLAS threads, fastest for a few columns
    p /= s[:, None]
    return p, float(m.sum(dtype=np.float64) + np.log(s).sum(dtype=np.float64))


def check_gold(gold: npt.ArrayLike | None, answers: Answers) -> IntArray | None:
    """Validate a gold array: shape (n_tasks,), -1 where unknown, else a class index."""
    if gold is None:
        return None
    g = np.asarray(gold, dtype=np.int64)
    if g.shape != (answers.n_tasks,):
        raise ValueError(f"gold must have shape ({answers.n_tasks},), got {g.shape}")
    if g.size and (g.min() < -1 or g.max() >= answers.n_classes):
        raise ValueError("gold labels must be -1 (unknown) or a class index")
    return g if (g >= 0).any() else None


def fix_gold(posteriors: FloatArray, gold: IntArray | None) -> FloatArray:
    """Overwrite gold tasks' posteriors with their known one-hot truth (in place)."""
    if gold is not None:
        known = np.flatnonzero(gold >= 0)
        posteriors[known] = 0.0
        posteriors[known, gold[known]] = 1.0
    return posteriors


def gold_log_likelihood(log_joint: FloatArray, gold: IntArray | None) -> FloatArray:
    """Log joint with gold tasks restricted to their known class (others set to -inf-like)."""
    if gold is None:
        return log_joint
    known = np.flatnonzero(gold >= 0)
    out = log_joint.copy()
    keep = log_joint[known, gold[known]]
    out[known] = -np.inf
    out[known, gold[known]] = keep
    return out


def class_prior(posteriors: FloatArray, pseudo_count: float) -> FloatArray:
    """Class frequencies from posteriors with a symmetric Dirichlet pseudo-count per class,
    so a class no task favours keeps a small positive prior instead of log(0)."""
    k = posteriors.shape[1]
    counts = np.einsum("tk->k", posteriors, dtype=np.float64) + pseudo_count
    return counts / max(counts.sum(), TINY) if k else counts


def converged(ll_old: float, ll_new: float, n_answers: int, tol: float) -> bool:
    """Stop when the log-likelihood gains less than `tol` nats per answer in one iteration."""
    return abs(ll_new - ll_old) <= tol * max(n_answers, 1)


def vote_share(answers: Answers) -> FloatArray:
    """Each task's vote fractions; a task without answers gets the uniform distribution."""
    counts = answers.vote_counts
    k = answers.n_classes
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(totals > 0, counts / np.maximum(totals, 1), 1.0 / max(k, 1))
    return share
