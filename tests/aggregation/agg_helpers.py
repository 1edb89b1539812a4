"""Small builders shared by the aggregation tests (imported as a plain module)."""

from __future__ import annotations

import numpy as np

from datadam.aggregation import Answers


def crowd_with_perfect_worker(
    n_tasks: int = 120, n_noisy: int = 4, n_classes: int = 3, accuracy: float = 0.6, seed: int = 0
) -> tuple[Answers, np.ndarray]:
    """Worker 0 answers every task correctly; `n_noisy` others are right with `accuracy`."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n_tasks)
    tasks, workers, labels = [], [], []
    for w in range(n_noisy + 1):
        right = rng.random(n_tasks) < (1.0 if w == 0 else accuracy)
        wrong = (truth + rng.integers(1, n_classes, n_tasks)) % n_classes
        tasks.append(np.arange(n_tasks))
        workers.append(np.full(n_tasks, w))
        labels.append(np.where(right, truth, wrong))
    answers = Answers.from_indices(
        np.concatenate(tasks),
        np.concatenate(workers),
        np.concatenate(labels),
        n_tasks=n_tasks,
        n_workers=n_noisy + 1,
        n_classes=n_classes,
    )
    return answers, truth
