"""What every aggregation method returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from datadam.aggregation.answers import FloatArray, IntArray


@dataclass(frozen=True, eq=False)
class AggregationResult:
    """One label per task, its posterior distribution, and what was learned about workers.

    `posteriors` has shape (n_tasks, n_classes) and each row sums to 1; `labels` is its argmax
    (ties go to the class the crowd uses most, see `Answers.class_rank`). `worker_skill` is each
    worker's estimated probability of answering correctly (shape (n_workers,)).
    `worker_confusion`, when the model has one, is (n_workers, K, K): row `k` is the
    distribution of the worker's answer when the truth is `k`. `params` holds the other fitted
    parameters (GLAD's item difficulty, MACE's spamming strategy, ...).
    """

    method: str
    labels: IntArray
    posteriors: FloatArray
    worker_skill: FloatArray
    iterations: int = 0
    log_likelihood: float | None = None
    worker_confusion: FloatArray | None = None
    params: dict[str, FloatArray] = field(default_factory=dict)

    @property
    def confidence(self) -> FloatArray:
        """Posterior probability of the chosen label, per task."""
        if self.posteriors.shape[1] == 0:
            return np.zeros(self.posteriors.shape[0])
        return self.posteriors[np.arange(self.labels.shape[0]), self.labels]
