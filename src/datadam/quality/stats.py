"""Small statistics the quality metrics and report share: Wilson intervals, rank correlation."""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, *, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (95% by default); None without trials.

    Chosen over the normal approximation because it stays inside [0, 1] and keeps its
    coverage near 0 and 1, where quality rates live (a worker with 10 of 10 gold right).
    """
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(successes: int, trials: int) -> dict[str, object]:
    """`{"successes", "trials", "rate", "ci_low", "ci_high"}` with nulls when undefined."""
    ci = wilson_interval(successes, trials)
    return {
        "successes": int(successes),
        "trials": int(trials),
        "rate": round(successes / trials, 6) if trials else None,
        "ci_low": round(ci[0], 6) if ci else None,
        "ci_high": round(ci[1], 6) if ci else None,
    }
