"""Consensus of one categorical control with the aggregation engine, warm-started.

Live metrics refit after every batch of submissions. A cold Dawid–Skene fit starts from
vote shares and needs tens of EM rounds; starting from the previous fit's worker confusion
matrices and class prior, a batch that adds 1% of the answers converges in a few rounds.
The fit is the engine's own Dawid–Skene (its M and E steps, float32 inner loop and float64
final pass); only the starting point differs. Dawid–Skene is used rather than `auto`, which
refits four models on held-out splits each time: it is the engine benchmark's best method
on average, and `auto` chooses it on most sets.

Arrays in, arrays out: nothing here reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from datadam.aggregation._common import (
    TINY,
    argmax_with_ties,
    class_prior,
    converged,
    fix_gold,
    vote_share,
)
from datadam.aggregation.answers import Answers, FloatArray, IntArray
from datadam.aggregation.dawid_skene import (
    confusion_from_posteriors,
    exact_posteriors,
    fast_posteriors,
)

SMOOTHING = 0.01
PRIOR_PSEUDO_COUNT = 1.0


@dataclass(frozen=True)
class WarmStart:
    """The previous fit: worker ids, their (K, K) confusion matrices, the class prior."""

    workers: IntArray
    confusion: FloatArray
    prior: FloatArray


@dataclass(frozen=True)
class ControlFit:
    task_items: npt.NDArray[np.int64]
    task_subs: npt.NDArray[np.int32]
    labels: IntArray
    confidence: FloatArray
    answers: Answers
    worker_ids: npt.NDArray[np.int64]
    worker_skill: FloatArray
    confusion: FloatArray
    prior: FloatArray
    iterations: int
    warm: bool
    fleiss_kappa: float
    krippendorff_alpha: float

    @property
    def answer_agrees(self) -> npt.NDArray[np.bool_]:
        """Per answer: whether it equals its task's consensus label."""
        return self.answers.label_idx == self.labels[self.answers.task_idx]

    def warm_start(self) -> WarmStart:
        return WarmStart(self.worker_ids, self.confusion, self.prior)


def dense_index(keys: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], IntArray]:
    """Sorted distinct keys and each key's position among them (`np.unique`, but through a
    presence table when the keys are dense enough: linear instead of a sort)."""
    if keys.size == 0:
        return keys[:0], np.zeros(0, dtype=np.int64)
    low, high = int(keys.min()), int(keys.max())
    span = high - low + 1
    if low >= 0 and span <= 4 * keys.size + 1_000_000:
        offset = keys.astype(np.int64) - low
        present = np.zeros(span, dtype=bool)
        present[offset] = True
        position = np.cumsum(present, dtype=np.int64) - 1
        names = (np.flatnonzero(present) + low).astype(keys.dtype)
        return names, position[offset]
    names, inverse = np.unique(keys, return_inverse=True)
    return names, inverse.astype(np.int64).ravel()


def _initial_confusion(
    warm: WarmStart, workers: npt.NDArray[np.int64], k: int
) -> tuple[FloatArray, FloatArray] | None:
    """The previous confusions for these workers; a newcomer starts from the average one."""
    if warm.confusion.shape[1:] != (k, k) or warm.workers.size == 0:
        return None
    mean = warm.confusion.mean(axis=0)
    out = np.broadcast_to(mean, (workers.size, k, k)).copy()
    pos = np.searchsorted(warm.workers, workers)
    pos = np.minimum(pos, warm.workers.size - 1)
    known = warm.workers[pos] == workers
    out[known] = warm.confusion[pos[known]]
    return out, warm.prior


def fit_control(
    item: npt.NDArray[np.int64],
    sub: npt.NDArray[np.int32],
    worker: npt.NDArray[np.int64],
    label: npt.NDArray[Any],
    n_classes: int,
    *,
    gold: tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[Any]] | None = None,
    warm: WarmStart | None = None,
    max_iter: int = 100,
    tol: float = 1e-5,
) -> ControlFit:
    """Dawid–Skene consensus of one control's answers (aligned arrays, one entry per answer).

    Tasks are (item, sub) pairs. `gold` is (item, sub, label) of known answers: those tasks
    keep their truth during the fit. `warm` starts EM from a previous fit. Rows need not be
    sorted; results do not depend on row order beyond float rounding.
    """
    k = n_classes
    subs_used = sub.size and int(sub.max()) > 0
    stride = int(sub.max()) + 1 if subs_used else 1
    key = item * stride + sub if subs_used else item
    task_names, task_idx = dense_index(key)
    worker_ids, worker_idx = dense_index(worker)
    answers = Answers(
        task_idx=task_idx,
        worker_idx=worker_idx,
        label_idx=label.astype(np.int64),
        tasks=task_names,
        workers=worker_ids,
        labels=np.arange(k),
    )
    g = None
    if gold is not None and gold[0].size and task_names.size:
        g_key = gold[0] * stride + gold[1] if subs_used else gold[0]
        pos = np.minimum(np.searchsorted(task_names, g_key), task_names.size - 1)
        hit = task_names[pos] == g_key
        if hit.any():
            g = np.full(task_names.size, -1, dtype=np.int64)
            g[pos[hit]] = gold[2][hit]
    start = _initial_confusion(warm, worker_ids, k) if warm is not None else None
    if start is not None:
        post, _ = fast_posteriors(
            answers, np.log(np.maximum(start[0], TINY)), np.log(np.maximum(start[1], TINY)), g
        )
    else:
        post = fix_gold(vote_share(answers), g).astype(np.float32)
    ll = -np.inf
    iterations = 0
    confusion = np.zeros((answers.n_workers, k, k))
    prior = np.full(k, 1.0 / max(k, 1))
    while iterations < max_iter and answers.n_answers:
        iterations += 1
        confusion = confusion_from_posteriors(answers, post, SMOOTHING)
        prior = class_prior(post, PRIOR_PSEUDO_COUNT)
        post, new_ll = fast_posteriors(
            answers, np.log(np.maximum(confusion, TINY)), np.log(np.maximum(prior, TINY)), g
        )
        done = converged(ll, new_ll, answers.n_answers, tol)
        ll = new_ll
        if done:
            break
    post, _ = exact_posteriors(answers, confusion, prior, g)
    prior = class_prior(post, PRIOR_PSEUDO_COUNT)
    labels = argmax_with_ties(post, answers)
    confidence = post[np.arange(labels.size), labels] if labels.size else np.zeros(0)
    diag = np.einsum("wkk->wk", confusion)
    kappa, alpha = agreement(answers.vote_counts)
    return ControlFit(
        task_items=(task_names // stride).astype(np.int64),
        task_subs=(task_names % stride).astype(np.int32),
        labels=labels,
        confidence=confidence,
        answers=answers,
        worker_ids=worker_ids.astype(np.int64),
        worker_skill=diag @ prior if k else np.zeros(worker_ids.size),
        confusion=confusion,
        prior=prior,
        iterations=iterations,
        warm=start is not None,
        fleiss_kappa=kappa,
        krippendorff_alpha=alpha,
    )


def agreement(counts: FloatArray) -> tuple[float, float]:
    """Fleiss' kappa and Krippendorff's alpha (nominal) from a (tasks, K) vote-count table.

    The formulas of `aggregation.agreement.fleiss_kappa` and `krippendorff_alpha`, computed
    together with row sums and one (K x K) product instead of several passes over the
    table; the tests check both against those functions.
    """
    n = np.einsum("tk->t", counts)
    used = n >= 2
    if not used.any() or counts.shape[1] < 2:
        return float("nan"), float("nan")
    c, m = counts[used], n[used]
    squares = np.einsum("tk,tk->t", c, c)
    p_task = (squares - m) / (m * (m - 1.0))
    column = np.einsum("tk->k", c)
    total = float(column.sum())
    shares = column / total
    p_e = float((shares**2).sum())
    kappa = (float(p_task.mean()) - p_e) / (1.0 - p_e) if p_e < 1.0 else float("nan")
    w = 1.0 / (m - 1.0)
    weighted = c * w[:, None]
    coincidence = weighted.T @ c - np.diag(np.einsum("tk->k", weighted))
    n_c = coincidence.sum(axis=1)
    pairs = n_c.sum()
    disagreement = pairs - np.trace(coincidence)
    expected = pairs**2 - float((n_c**2).sum())
    alpha = 1.0 - (pairs - 1.0) * disagreement / expected if expected > 0 else float("nan")
    return float(kappa), float(alpha)
