"""Agreement between crowd workers: percent agreement, Cohen's, Fleiss' kappa, Krippendorff's alpha.

All metrics treat labels as nominal and work on the integer-coded `Answers`; tasks with fewer
than two answers carry no information about agreement and are skipped. Every metric returns
NaN (never a warning) when it is undefined, e.g. when there is no pair of answers at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import krippendorff
import numpy as np
from scipy import sparse

from datadam.aggregation.answers import Answers, FloatArray, IntArray
from datadam.aggregation.majority import worker_agreement


def _safe_ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def percent_agreement(answers: Answers) -> float:
    """Share of agreeing pairs among all pairs of answers given to the same task.

    Pairs are pooled over tasks, so a task with many answers weighs more, as it holds more
    evidence. Range 0..1; NaN when no task has two answers.
    """
    counts = answers.vote_counts
    n = counts.sum(axis=1)
    agree = float((counts * (counts - 1.0)).sum())
    return _safe_ratio(agree, float((n * (n - 1.0)).sum()))


def fleiss_kappa(answers: Answers) -> float:
    """Fleiss' kappa, generalised to a varying number of answers per task.

    Observed agreement is the mean over tasks (with >= 2 answers) of that task's share of
    agreeing pairs; chance agreement is the sum of squared overall label shares over the same
    tasks. 1 = perfect agreement, 0 = chance level, negative = worse than chance.
    """
    counts = answers.vote_counts
    n = counts.sum(axis=1)
    used = n >= 2
    if not used.any():
        return float("nan")
    c, m = counts[used], n[used]
    p_task = (c * (c - 1.0)).sum(axis=1) / (m * (m - 1.0))
    shares = c.sum(axis=0) / m.sum()
    p_e = float((shares**2).sum())
    return _safe_ratio(float(p_task.mean()) - p_e, 1.0 - p_e)


def krippendorff_alpha(answers: Answers, *, engine: Literal["own", "library"] = "own") -> float:
    """Krippendorff's alpha for nominal data; missing answers are simply absent.

    `engine="own"` computes it from the coincidence matrix built with one pass over the
    (tasks, K) vote counts: o[c, k] = sum over tasks of n_tc (n_tk - [c = k]) / (m_t - 1),
    alpha = 1 - (N - 1) * (disagreeing coincidences) / (sum over c != k of n_c n_k).
    `engine="library"` asks the `krippendorff` package (given the same vote counts); the two
    agree to rounding, ours is much faster on large sets (see docs/benchmarks/aggregation.md).
    """
    counts = answers.vote_counts
    m = counts.sum(axis=1)
    used = m >= 2
    if not used.any() or answers.n_classes < 2:
        return float("nan")
    if engine == "library":
        return float(krippendorff.alpha(value_counts=counts[used], level_of_measurement="nominal"))
    c = counts[used]
    w = 1.0 / (m[used] - 1.0)
    coincidence = (c * w[:, None]).T @ c - np.diag((c * w[:, None]).sum(axis=0))
    n_c = coincidence.sum(axis=1)
    total = n_c.sum()
    observed_disagreement = total - np.trace(coincidence)
    expected = total**2 - float((n_c**2).sum())
    if expected <= 0:
        return float("nan")
    return float(1.0 - (total - 1.0) * observed_disagreement / expected)


@dataclass(frozen=True)
class PairwiseKappa:
    """Cohen's kappa for every pair of workers who share at least `min_shared` tasks.

    `pairs` is (P, 2) worker indices (first < second), `shared` the number of tasks both
    answered, `kappa` NaN where undefined (both workers always gave the same single label).
    """

    pairs: IntArray
    shared: IntArray
    kappa: FloatArray

    def mean(self) -> float:
        """Mean kappa over the pairs where it is defined, weighted by shared tasks."""
        ok = ~np.isnan(self.kappa)
        if not ok.any():
            return float("nan")
        return float(np.average(self.kappa[ok], weights=self.shared[ok]))


def cohen_kappa_pairs(answers: Answers, *, min_shared: int = 5) -> PairwiseKappa:
    """Cohen's kappa between all pairs of workers, from one sparse product.

    With X the tasks x (workers*K) indicator matrix, (X^T X)[a*K + k, b*K + l] counts tasks
    where worker a said k and b said l: every pair's contingency table at once. A worker who
    answered a task twice counts with their first (lowest) label there.
    """
    k = answers.n_classes
    first = np.ones(answers.n_answers, dtype=bool)
    same = (answers.task_idx[1:] == answers.task_idx[:-1]) & (
        answers.worker_idx[1:] == answers.worker_idx[:-1]
    )
    first[1:] = ~same
    cols = answers.worker_idx[first] * k + answers.label_idx[first]
    x = sparse.csr_matrix(
        (np.ones(int(first.sum())), (answers.task_idx[first], cols)),
        shape=(answers.n_tasks, answers.n_workers * k),
    )
    co = (x.T @ x).tocoo()
    a, kk = co.row // k, co.row % k
    b, ll = co.col // k, co.col % k
    keep = a < b
    a, kk, b, ll, v = a[keep], kk[keep], b[keep], ll[keep], co.data[keep]
    empty = PairwiseKappa(np.zeros((0, 2), np.int64), np.zeros(0, np.int64), np.zeros(0))
    if a.size == 0:
        return empty
    pair_key, pid = np.unique(a * answers.n_workers + b, return_inverse=True)
    n_pairs = pair_key.size
    shared = np.bincount(pid, v, n_pairs)
    agree = np.bincount(pid, v * (kk == ll), n_pairs)
    marg_a = np.bincount(pid * k + kk, v, n_pairs * k).reshape(n_pairs, k)
    marg_b = np.bincount(pid * k + ll, v, n_pairs * k).reshape(n_pairs, k)
    sel = shared >= min_shared
    if not sel.any():
        return empty
    n = shared[sel]
    p_o = agree[sel] / n
    p_e = (marg_a[sel] * marg_b[sel]).sum(axis=1) / (n * n)
    den = 1.0 - p_e
    defined = den > 1e-12
    kappa = np.full(n.size, np.nan)
    kappa[defined] = (p_o[defined] - p_e[defined]) / den[defined]
    pairs = np.stack([pair_key[sel] // answers.n_workers, pair_key[sel] % answers.n_workers], 1)
    return PairwiseKappa(pairs.astype(np.int64), n.astype(np.int64), kappa)


def agreement_with_labels(answers: Answers, labels: IntArray) -> FloatArray:
    """Per worker: share of their answers equal to the aggregated label (NaN: no answers)."""
    out = worker_agreement(answers, labels)
    out[answers.worker_counts == 0] = np.nan
    return out


def agreement_report(
    answers: Answers, labels: IntArray | None = None, *, min_shared: int = 5
) -> dict[str, object]:
    """All agreement metrics as plain Python values (JSON-ready).

    With `labels` (aggregated labels per task) the report also has each worker's agreement
    with them, keyed by worker name.
    """
    kappas = cohen_kappa_pairs(answers, min_shared=min_shared)
    report: dict[str, object] = {
        "n_tasks": answers.n_tasks,
        "n_workers": answers.n_workers,
        "n_answers": answers.n_answers,
        "n_classes": answers.n_classes,
        "percent_agreement": _json_float(percent_agreement(answers)),
        "fleiss_kappa": _json_float(fleiss_kappa(answers)),
        "krippendorff_alpha": _json_float(krippendorff_alpha(answers)),
        "cohen_kappa_mean": _json_float(kappas.mean()),
        "cohen_kappa_pairs": int((~np.isnan(kappas.kappa)).sum()),
        "cohen_kappa_min_shared": min_shared,
    }
    if labels is not None:
        per_worker = agreement_with_labels(answers, labels)
        report["worker_agreement"] = {
            str(name): _json_float(float(v))
            for name, v in zip(answers.workers, per_worker, strict=True)
        }
    return report


def _json_float(value: float) -> float | None:
    """NaN is not valid JSON: undefined metrics become null; others are rounded to 6 places."""
    return None if np.isnan(value) else round(float(value), 6)
