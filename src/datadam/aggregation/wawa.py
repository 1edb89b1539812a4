"""Worker-weighted vote (`wawa`): majority vote re-weighted by each worker's agreement."""

from __future__ import annotations

import numpy as np

from datadam.aggregation._common import argmax_with_ties, check_gold, fix_gold
from datadam.aggregation.answers import Answers, IntArray
from datadam.aggregation.majority import majority_vote, worker_agreement
from datadam.aggregation.result import AggregationResult


def worker_weighted_vote(
    answers: Answers,
    *,
    gold: IntArray | None = None,
    seed: int = 0,
    n_iter: int = 1,
    pseudo_count: float = 1.0,
) -> AggregationResult:
    """Weighted vote where a worker's weight is their agreement with the current labels.

    Start from majority vote; a worker's weight is (agreements + c) / (answers + 2c), Laplace
    smoothing with `pseudo_count` c so a worker seen once weighs 1/3 or 2/3, never 0 or 1.
    One round (`n_iter=1`) is the classic Wawa; more rounds re-estimate weights against the
    weighted labels. Posteriors are weighted vote shares; ties follow majority vote's rule.
    `seed` is unused (the method is deterministic).
    """
    g = check_gold(gold, answers)
    labels = majority_vote(answers, gold=g).labels
    k = answers.n_classes
    weights = worker_agreement(answers, labels, pseudo_count=pseudo_count)
    scores = np.zeros((answers.n_tasks, k))
    for _ in range(max(n_iter, 1)):
        weights = worker_agreement(answers, labels, pseudo_count=pseudo_count)
        flat = np.bincount(
            answers.task_label_idx,
            weights=weights[answers.worker_idx],
            minlength=answers.n_tasks * k,
        )
        scores = fix_gold(flat.reshape(answers.n_tasks, k), g)
        labels = argmax_with_ties(scores, answers)
    totals = scores.sum(axis=1, keepdims=True)
    post = np.where(totals > 0, scores / np.where(totals > 0, totals, 1.0), 1.0 / max(k, 1))
    return AggregationResult(
        method="wawa",
        labels=labels,
        posteriors=fix_gold(post, g),
        worker_skill=weights,
        iterations=max(n_iter, 1),
    )
