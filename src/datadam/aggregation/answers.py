"""The input model: crowd answers as three aligned integer arrays.

Every fit in this package works on `Answers`: `task_idx`, `worker_idx` and `label_idx` are
int64 arrays of equal length (one entry per answer), plus the names each index stands for.
The encoding is done once, by `np.unique(..., return_inverse=True)`, so no fit loops over rows.

Rows are stored in a canonical order (sorted by task, worker, label). Fits sum over answers in
that order, so results are bit-identical whatever order the input table had.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _encode(values: npt.ArrayLike) -> tuple[npt.NDArray[Any], IntArray]:
    """Unique names in natural order and each value's index into them.

    Names that all read as integers are ordered by value ("2" before "10"), others by string
    order; either way the order depends only on the set of names, never on row order.
    """
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuU":
        arr = arr.astype(str)
    names, inverse = np.unique(arr, return_inverse=True)
    if names.dtype.kind == "U" and names.size:
        try:
            as_int = names.astype(np.int64)
        except (ValueError, OverflowError):
            as_int = None
        if as_int is not None and np.array_equal(as_int.astype(str), names):
            order = np.argsort(as_int, kind="stable")
            rank = np.empty_like(order)
            rank[order] = np.arange(order.size)
            names, inverse = names[order], rank[inverse]
    return names, inverse.astype(np.int64).ravel()


@dataclass(frozen=True, eq=False)
class Answers:
    """Crowd answers, integer-coded.

    `tasks`, `workers` and `labels` hold the names; index `i` in `task_idx` means `tasks[i]`.
    A task may have no answers (the overlap simulator hides some); methods then return the
    class prior for it.
    """

    task_idx: IntArray
    worker_idx: IntArray
    label_idx: IntArray
    tasks: npt.NDArray[Any]
    workers: npt.NDArray[Any]
    labels: npt.NDArray[Any]

    def __post_init__(self) -> None:
        n = self.task_idx.shape[0]
        if self.worker_idx.shape != (n,) or self.label_idx.shape != (n,):
            raise ValueError("task_idx, worker_idx and label_idx must be 1-D and equally long")
        for arr, names, what in (
            (self.task_idx, self.tasks, "task"),
            (self.worker_idx, self.workers, "worker"),
            (self.label_idx, self.labels, "label"),
        ):
            if n and (arr.min() < 0 or arr.max() >= len(names)):
                raise ValueError(f"{what} index out of range")

    @classmethod
    def from_columns(
        cls, tasks: npt.ArrayLike, workers: npt.ArrayLike, labels: npt.ArrayLike
    ) -> Answers:
        """Encode a `task, worker, label` table given as three columns (strings or integers)."""
        task_names, t = _encode(tasks)
        worker_names, w = _encode(workers)
        label_names, lab = _encode(labels)
        if not (t.shape == w.shape == lab.shape):
            raise ValueError("the three columns must have the same length")
        return cls.from_indices(
            t, w, lab, tasks=task_names, workers=worker_names, labels=label_names
        )

    @classmethod
    def from_indices(
        cls,
        task_idx: npt.ArrayLike,
        worker_idx: npt.ArrayLike,
        label_idx: npt.ArrayLike,
        *,
        n_tasks: int | None = None,
        n_workers: int | None = None,
        n_classes: int | None = None,
        tasks: npt.ArrayLike | None = None,
        workers: npt.ArrayLike | None = None,
        labels: npt.ArrayLike | None = None,
    ) -> Answers:
        """Wrap already-coded arrays; names default to `0..n-1`. Rows are put in canonical order."""
        t = np.asarray(task_idx, dtype=np.int64).ravel()
        w = np.asarray(worker_idx, dtype=np.int64).ravel()
        lab = np.asarray(label_idx, dtype=np.int64).ravel()

        def names(given: npt.ArrayLike | None, n: int | None, idx: IntArray) -> npt.NDArray[Any]:
            if given is not None:
                return np.asarray(given)
            size = n if n is not None else (int(idx.max()) + 1 if idx.size else 0)
            return np.arange(size)

        order = np.lexsort((lab, w, t))
        return cls(
            task_idx=t[order],
            worker_idx=w[order],
            label_idx=lab[order],
            tasks=names(tasks, n_tasks, t),
            workers=names(workers, n_workers, w),
            labels=names(labels, n_classes, lab),
        )

    @property
    def n_answers(self) -> int:
        return int(self.task_idx.shape[0])

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def n_classes(self) -> int:
        return len(self.labels)

    def subset(self, mask: npt.NDArray[np.bool_]) -> Answers:
        """The answers where `mask` is true, keeping every index space (tasks may end up empty)."""
        return Answers(
            task_idx=self.task_idx[mask],
            worker_idx=self.worker_idx[mask],
            label_idx=self.label_idx[mask],
            tasks=self.tasks,
            workers=self.workers,
            labels=self.labels,
        )

    @cached_property
    def task_counts(self) -> IntArray:
        """Number of answers per task."""
        return np.bincount(self.task_idx, minlength=self.n_tasks).astype(np.int64)

    @cached_property
    def worker_counts(self) -> IntArray:
        """Number of answers per worker."""
        return np.bincount(self.worker_idx, minlength=self.n_workers).astype(np.int64)

    @cached_property
    def task_label_idx(self) -> IntArray:
        """`task * K + label` per answer: the flat index into a (tasks, K) array."""
        return self.task_idx * self.n_classes + self.label_idx

    @cached_property
    def vote_counts(self) -> FloatArray:
        """Votes per task and class, shape (n_tasks, n_classes)."""
        k = self.n_classes
        flat = np.bincount(self.task_label_idx, minlength=self.n_tasks * k)
        return flat.reshape(self.n_tasks, k).astype(np.float64)

    @cached_property
    def class_rank(self) -> IntArray:
        """Classes ordered for tie-breaking: most answers first, then lower label index.

        Ties are broken toward the class the crowd uses most, the best guess without other
        evidence, and the rule depends on counts only, not on row order.
        """
        freq = np.bincount(self.label_idx, minlength=self.n_classes)
        return np.lexsort((np.arange(self.n_classes), -freq)).astype(np.int64)

    @cached_property
    def one_hot(self) -> sparse.csr_matrix:
        """Answers as a sparse (n_tasks, n_workers * n_classes) count matrix.

        Column `w * K + l` counts worker `w` answering `l` on the task. The E and M steps of the
        confusion-matrix models are products with this matrix and its transpose.
        """
        k = self.n_classes
        data = np.ones(self.n_answers, dtype=np.float64)
        cols = self.worker_idx * k + self.label_idx
        m = sparse.csr_matrix(
            (data, (self.task_idx, cols)), shape=(self.n_tasks, self.n_workers * k)
        )
        m.sum_duplicates()
        return m

    @cached_property
    def one_hot_t(self) -> sparse.csr_matrix:
        """Transpose of `one_hot`, stored row-major for fast M-step products."""
        return self.one_hot.T.tocsr()

    @cached_property
    def one_hot32(self) -> sparse.csr_matrix:
        """`one_hot` in float32, for the inner EM loop (half the memory traffic)."""
        return self.one_hot.astype(np.float32)

    @cached_property
    def one_hot_t32(self) -> sparse.csr_matrix:
        """`one_hot_t` in float32."""
        return self.one_hot32.T.tocsr()

    @cached_property
    def worker_label_counts(self) -> FloatArray:
        """Answers per (worker, label), flattened as `worker * K + label`."""
        k = self.n_classes
        flat = np.bincount(self.worker_idx * k + self.label_idx, minlength=self.n_workers * k)
        return flat.astype(np.float64)

    def encode_gold(self, tasks: npt.ArrayLike, labels: npt.ArrayLike) -> tuple[IntArray, int]:
        """Gold answers as a dense array over tasks (-1 = no gold) and the count of gold rows
        whose task has no answers or whose label was never answered (they cannot be encoded)."""
        g_tasks = np.asarray(tasks).astype(str)
        g_labels = np.asarray(labels).astype(str)
        task_names = self.tasks.astype(str)
        label_names = self.labels.astype(str)
        out = np.full(self.n_tasks, -1, dtype=np.int64)
        if self.n_tasks == 0 or self.n_classes == 0:
            return out, len(g_tasks)
        t_sorter = np.argsort(task_names)
        t_pos = np.searchsorted(task_names, g_tasks, sorter=t_sorter)
        t_pos = np.minimum(t_pos, max(len(task_names) - 1, 0))
        t_ok = task_names[t_sorter[t_pos]] == g_tasks if len(task_names) else np.zeros(0, bool)
        l_sorter = np.argsort(label_names)
        l_pos = np.searchsorted(label_names, g_labels, sorter=l_sorter)
        l_pos = np.minimum(l_pos, max(len(label_names) - 1, 0))
        l_ok = label_names[l_sorter[l_pos]] == g_labels if len(label_names) else np.zeros(0, bool)
        ok = t_ok & l_ok
        out[t_sorter[t_pos[ok]]] = l_sorter[l_pos[ok]]
        return out, int((~ok).sum())
