"""Synthetic crowds with known truth, for tests and benchmarks."""

from __future__ import annotations

import numpy as np

from datadam.aggregation.answers import Answers, IntArray


def simulate_crowd(
    *,
    n_tasks: int,
    n_workers: int,
    n_classes: int,
    answers_per_task: int,
    seed: int = 0,
    spammer_share: float = 0.1,
) -> tuple[Answers, IntArray]:
    """A random crowd and the truth it labelled.

    Each task draws `answers_per_task` distinct workers (with replacement across tasks). Honest
    workers beat chance: accuracy 1/K + (1 - 1/K) * Beta(2.5, 1.5) (0.7 on average for K = 5),
    errors spread evenly;
    a `spammer_share` of workers answer one favourite label 70% of the time and otherwise at
    random. Truth is drawn from a skewed class distribution so class priors matter.
    """
    rng = np.random.default_rng(seed)
    k = n_classes
    class_p = rng.dirichlet(np.full(k, 2.0))
    truth = rng.choice(k, size=n_tasks, p=class_p)
    n = n_tasks * answers_per_task
    task = np.repeat(np.arange(n_tasks), answers_per_task)
    # distinct workers within a task: a random start, then evenly spaced workers
    start = rng.integers(0, n_workers, size=n_tasks)
    offsets = np.arange(answers_per_task) * max(n_workers // max(answers_per_task, 1), 1)
    worker = (start[:, None] + offsets[None, :]).ravel() % n_workers
    accuracy = 1.0 / k + (1.0 - 1.0 / k) * rng.beta(2.5, 1.5, size=n_workers)
    spammer = rng.random(n_workers) < spammer_share
    favourite = rng.integers(0, k, size=n_workers)
    t = truth[task]
    u = rng.random(n)
    wrong = (t + rng.integers(1, max(k, 2), size=n)) % k
    label = np.where(u < accuracy[worker], t, wrong)
    spam_label = np.where(rng.random(n) < 0.7, favourite[worker], rng.integers(0, k, size=n))
    label = np.where(spammer[worker], spam_label, label)
    answers = Answers.from_indices(
        task, worker, label, n_tasks=n_tasks, n_workers=n_workers, n_classes=k
    )
    return answers, truth.astype(np.int64)
