"""Majority vote (`mv`)."""

from __future__ import annotations

import numpy as np

from datadam.aggregation._common import (
    argmax_with_ties,
    check_gold,
    fix_gold,
    row_max,
    vote_share,
)
from datadam.aggregation.answers import Answers, FloatArray, IntArray
from datadam.aggregation.result import AggregationResult


def worker_agreement(
    answers: Answers, labels: IntArray, *, pseudo_count: float = 0.0
) -> FloatArray:
    """Share of each worker's answers equal to `labels` of their task.

    With `pseudo_count` c the share is (agree + c) / (answers + 2c), so a worker with one answer
    gets a value pulled toward 1/2 instead of exactly 0 or 1; a worker with no answers gets 1/2
    (or 0 when c is 0).
    """
    agree = (answers.label_idx == labels[answers.task_idx]).astype(np.float64)
    hits = np.bincount(answers.worker_idx, weights=agree, minlength=answers.n_workers)
    n = answers.worker_counts.astype(np.float64)
    denom = n + 2.0 * pseudo_count
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(denom > 0, (hits + pseudo_count) / np.where(denom > 0, denom, 1.0), 0.0)
    return out


def majority_vote(
    answers: Answers, *, gold: IntArray | None = None, seed: int = 0
) -> AggregationResult:
    """Each task gets its most frequent answer; posteriors are the vote shares.

    Tie rule, in order: (1) the tied label whose voters are more reliable, measured as the sum
    of their agreement rates with a first plain majority pass; (2) the class the whole crowd
    answers most often; (3) the lower label index. A tie is a coin flip only when nothing is
    known, and using the voters' track record is what a human adjudicator would do; the rule
    needs no randomness, so results never depend on a seed or on row order. A task with no
    answers gets the uniform distribution and the crowd's most frequent class. Worker skill is
    the share of a worker's answers that agree with the majority. `seed` is unused.
    """
    g = check_gold(gold, answers)
    counts = answers.vote_counts
    if g is not None:
        counts = fix_gold(counts.copy(), g)
    labels = argmax_with_ties(counts, answers)
    k = answers.n_classes
    if k:
        top = row_max(counts)
        tied = (counts == top[:, None]).sum(axis=1) > 1
        if tied.any():
            rate = worker_agreement(answers, labels)
            flat = np.bincount(
                answers.task_label_idx,
                weights=rate[answers.worker_idx],
                minlength=answers.n_tasks * k,
            ).reshape(answers.n_tasks, k)
            among = np.where(counts[tied] == top[tied, None], flat[tied], -1.0)
            labels[tied] = argmax_with_ties(among, answers)
    return AggregationResult(
        method="mv",
        labels=labels,
        posteriors=fix_gold(vote_share(answers), g),
        worker_skill=worker_agreement(answers, labels),
    )
