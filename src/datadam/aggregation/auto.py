"""`auto`: pick the method whose model best predicts answers it has not seen."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.special import expit

from datadam.aggregation._common import TINY
from datadam.aggregation.answers import Answers, FloatArray, IntArray
from datadam.aggregation.dawid_skene import dawid_skene
from datadam.aggregation.glad import MAX_LOGIT, glad
from datadam.aggregation.mace import mace
from datadam.aggregation.onecoin import one_coin_dawid_skene
from datadam.aggregation.result import AggregationResult

Fit = Callable[..., AggregationResult]

#: Methods `auto` chooses among: the ones with a generative model of each answer.
CANDIDATES: dict[str, Fit] = {
    "ds": dawid_skene,
    "mace": mace,
    "glad": glad,
    "onecoin": one_coin_dawid_skene,
}


def answer_probability(result: AggregationResult, answers: Answers) -> FloatArray:
    """P(answer i | the fitted model and its task's posterior), for each answer in `answers`.

    The answers may be ones the model never saw (held out): the task posterior then comes from
    the other answers only, which is what makes this an honest test of the model.
    """
    q = result.posteriors[answers.task_idx]
    lab = answers.label_idx
    q_l = q[np.arange(answers.n_answers), lab]
    if result.worker_confusion is not None:
        conf = result.worker_confusion[answers.worker_idx, :, lab]  # (n, K): P(lab | truth k)
        return np.einsum("nk,nk->n", q, conf)
    alpha, beta = result.params["alpha"], result.params["beta"]
    x = np.clip(alpha[answers.worker_idx] * beta[answers.task_idx], -MAX_LOGIT, MAX_LOGIT)
    s = expit(x)
    k = answers.n_classes
    return q_l * s + (1.0 - q_l) * (1.0 - s) / max(k - 1, 1)


def held_out_mask(answers: Answers, share: float, rng: np.random.Generator) -> np.ndarray:
    """Pick about `share` of the answers to hide, never a task's or a worker's last answer.

    Only tasks with at least two answers and workers with at least two answers are eligible, so
    every hidden answer's task and worker remain in the training part.
    """
    n = answers.n_answers
    eligible = (answers.task_counts[answers.task_idx] >= 2) & (
        answers.worker_counts[answers.worker_idx] >= 2
    )
    hide = eligible & (rng.random(n) < share)
    # keep at least one answer per task and per worker: un-hide the first hidden answer of any
    # task or worker that would otherwise lose all its answers
    for idx, count in (
        (answers.task_idx, answers.n_tasks),
        (answers.worker_idx, answers.n_workers),
    ):
        kept = np.bincount(idx[~hide], minlength=count)
        lost = kept[idx] == 0
        if lost.any():
            first = np.zeros(n, dtype=bool)
            pos = np.flatnonzero(lost)
            _, first_pos = np.unique(idx[pos], return_index=True)
            first[pos[first_pos]] = True
            hide &= ~first
    return hide


def held_out_log_probs(
    answers: Answers,
    *,
    candidates: Sequence[str] = tuple(CANDIDATES),
    share: float = 0.1,
    folds: int = 2,
    seed: int = 0,
) -> dict[str, FloatArray]:
    """Log-probability of each held-out answer under each candidate, over `folds` random
    splits (the arrays are aligned: entry j is the same hidden answer for every candidate)."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[FloatArray]] = {name: [] for name in candidates}
    for _ in range(folds):
        hide = held_out_mask(answers, share, rng)
        if not hide.any():
            continue
        train, test = answers.subset(~hide), answers.subset(hide)
        for name in candidates:
            fit = CANDIDATES[name](train, seed=seed)
            out[name].append(np.log(np.maximum(answer_probability(fit, test), TINY)))
    return {name: np.concatenate(v) if v else np.zeros(0) for name, v in out.items()}


def choose_method(log_probs: dict[str, FloatArray], *, z: float = 2.0) -> str:
    """The first candidate is the default; another replaces it only if it predicts held-out
    answers better by more than `z` standard errors of the paired per-answer difference.

    Among candidates that clear the bar, the highest mean wins. The paired test keeps `auto`
    from trading the benchmark's best-on-average method for a rival that is ahead by noise.
    """
    names = list(log_probs)
    default = names[0]
    base = log_probs[default]
    if base.size < 2:
        return default
    best, best_mean = default, float(base.mean())
    for name in names[1:]:
        diff = log_probs[name] - base
        se = float(diff.std(ddof=1)) / np.sqrt(diff.size)
        mean = float(log_probs[name].mean())
        if diff.mean() > z * se and mean > best_mean:
            best, best_mean = name, mean
    return best


def _task_sample(answers: Answers, max_answers: int, seed: int) -> Answers:
    """All answers, or those of a seeded random set of tasks totalling at most `max_answers`
    (worker and label indices unchanged, tasks renumbered)."""
    if answers.n_answers <= max_answers:
        return answers
    rng = np.random.default_rng(seed)
    order = rng.permutation(answers.n_tasks)
    taken = np.cumsum(answers.task_counts[order]) <= max_answers
    chosen = np.zeros(answers.n_tasks, dtype=bool)
    chosen[order[taken]] = True
    keep = chosen[answers.task_idx]
    # renumber the chosen tasks 0..n-1 so per-task arrays are only as large as the sample
    names, task_idx = np.unique(answers.task_idx[keep], return_inverse=True)
    return Answers.from_indices(
        task_idx,
        answers.worker_idx[keep],
        answers.label_idx[keep],
        tasks=answers.tasks[names],
        workers=answers.workers,
        labels=answers.labels,
    )


def auto(
    answers: Answers,
    *,
    gold: IntArray | None = None,
    seed: int = 0,
    candidates: Sequence[str] = tuple(CANDIDATES),
    share: float = 0.1,
    folds: int = 2,
    max_answers: int = 100_000,
) -> AggregationResult:
    """Fit every candidate on ~90% of the answers, score each on predicting the hidden 10%,
    refit the winner on everything.

    Held-out likelihood is a general rule that needs no gold and no per-data-set constants: a
    model rich enough to capture real worker behaviour (Dawid–Skene's full confusion matrices,
    MACE's spam habits, GLAD's task difficulty) predicts new answers better, while one that
    overfits thin data predicts them worse. Ties (equal scores, e.g. no answer can be hidden)
    go to the earlier candidate, Dawid–Skene, the best method on average in the benchmark. The
    split is drawn from `seed`. `params["held_out"]` reports each candidate's score in nats per
    answer, in candidate order.

    On more than `max_answers` answers the choice is made on a random set of whole tasks
    holding about `max_answers` of them, with a single split: enough answers to tell the
    models apart, and it keeps `auto` within about two single fits' time on a million answers.
    """
    sample = _task_sample(answers, max_answers, seed)
    log_probs = held_out_log_probs(
        sample,
        candidates=candidates,
        share=share,
        folds=folds if sample is answers else 1,
        seed=seed,
    )
    best = choose_method(log_probs)
    names = list(candidates)
    scores = {n: float(v.mean()) if v.size else 0.0 for n, v in log_probs.items()}
    result = CANDIDATES[best](answers, gold=gold, seed=seed)
    return AggregationResult(
        method=f"auto:{best}",
        labels=result.labels,
        posteriors=result.posteriors,
        worker_skill=result.worker_skill,
        iterations=result.iterations,
        log_likelihood=result.log_likelihood,
        worker_confusion=result.worker_confusion,
        params={**result.params, "held_out": np.array([scores[n] for n in names])},
    )
