"""Truth inference and agreement: crowd answers in, one label per task with a confidence out.

Pure NumPy/SciPy, arrays in and arrays out; nothing here touches storage or the web layer.
`aggregate(answers, method=...)` runs one of `METHODS` on an `Answers` table; `gold` (an array
over tasks, -1 where unknown) fixes those tasks' truth during fitting.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy.typing as npt

from datadam.aggregation.answers import Answers
from datadam.aggregation.auto import auto
from datadam.aggregation.dawid_skene import dawid_skene
from datadam.aggregation.glad import glad
from datadam.aggregation.mace import mace
from datadam.aggregation.majority import majority_vote
from datadam.aggregation.onecoin import one_coin_dawid_skene
from datadam.aggregation.result import AggregationResult
from datadam.aggregation.wawa import worker_weighted_vote

#: Every method by its command-line name. Each takes (answers, *, gold=None, seed=0, ...).
METHODS: dict[str, Callable[..., AggregationResult]] = {
    "mv": majority_vote,
    "wawa": worker_weighted_vote,
    "ds": dawid_skene,
    "onecoin": one_coin_dawid_skene,
    "glad": glad,
    "mace": mace,
    "auto": auto,
}


def aggregate(
    answers: Answers,
    method: str = "auto",
    *,
    gold: npt.ArrayLike | None = None,
    seed: int = 0,
    **options: object,
) -> AggregationResult:
    """Run `method` (a key of `METHODS`) on `answers`; extra keyword options go to the method
    (tolerances, iteration limits, priors)."""
    try:
        fit = METHODS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}") from None
    return fit(answers, gold=gold, seed=seed, **options)


__all__ = ["METHODS", "AggregationResult", "Answers", "aggregate"]
