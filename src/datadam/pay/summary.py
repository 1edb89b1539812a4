"""The manager's view of a project's pay while it runs: is the piece rate fair?

For each worker of the project over a period (default: the current month so far): measured
hours, items, earnings and effective hourly pay at the project's terms; the median of the
workers' effective hourly pay against the minimum wage in force; and the piece rate at which
the median worker, and every worker, would reach the minimum without a top-up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction, sees_all_projects
from datadam.errors import NotAllowed
from datadam.pay.period import (
    Tally,
    ceil_div,
    hourly_amount,
    period_bounds,
    price_work,
    submitted_between,
    worked_time_between,
)
from datadam.pay.rates import MinimumWages, current_terms
from datadam.pay.task_rates import current_task_rates
from datadam.pay.worktime import US_PER_HOUR
from datadam.projects.service import get_project_for
from datadam.storage.tables import User
from datadam.storage.types import utcnow


def _median_low(values: list[int]) -> int | None:
    """The lower median (an integer, never a float): half the workers earn at most this."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def _median_high(values: list[int]) -> int | None:
    """The upper median: a rate that covers at least half of the workers."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def pay_summary(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    period: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    view = get_project_for(session, actor, project_id)
    if ProjectAction.MANAGE not in view.actions and not sees_all_projects(actor):
        raise NotAllowed("only the project's managers and the program's oversight see its pay")
    now = now or utcnow()
    if period is None:
        start = datetime(now.year, now.month, 1, tzinfo=UTC)
        end = now
        label = f"{now.year:04d}-{now.month:02d}"
    else:
        start, end = period_bounds(period)
        label = period
    terms = current_terms(session, project_id, now=now)
    wage = MinimumWages(session).at(terms.country, now.date())
    minimum = None if wage is None else int(wage.hourly_minor)
    tallies: dict[int, Tally] = {}
    for work in price_work(
        session,
        submitted_between(session, start, end, project_id=project_id),
        worked_time_between(session, start, end, project_id=project_id),
    ):
        if work.withheld is not None:
            continue
        tally = tallies.setdefault(work.worker_id, Tally(work.worker_id, 0, work.currency))
        tally.add(work, work.amount)
    names = _pseudonyms(session, list(tallies))
    workers = []
    hourly: list[int] = []
    needed: list[int] = []
    for worker_id, tally in sorted(tallies.items()):
        effective = tally.hourly(tally.earnings)
        if effective is not None:
            hourly.append(effective)
        rate = None
        if minimum is not None and tally.items > 0:
            owed = ceil_div(minimum * tally.duration_us, US_PER_HOUR)
            rest = owed - hourly_amount(terms.hourly_rate_minor, tally.duration_us)
            rate = max(0, ceil_div(rest, tally.items))
            needed.append(rate)
        workers.append(
            {
                "worker": names.get(worker_id),
                "worked_seconds": tally.duration_us // 1_000_000,
                "items": tally.items,
                "earnings_minor": tally.earnings,
                "effective_hourly_minor": effective,
                "below_minimum": minimum is not None
                and effective is not None
                and effective < minimum,
                "piece_rate_needed_minor": rate,
            }
        )
    median = _median_low(hourly)
    return {
        "project_id": project_id,
        "period": label,
        "from": start,
        "to": end,
        "currency": terms.currency,
        "country": terms.country,
        "piece_rate_minor": terms.piece_rate_minor,
        "hourly_rate_minor": terms.hourly_rate_minor,
        "minimum_hourly_minor": minimum,
        "median_effective_hourly_minor": median,
        "below_minimum": minimum is not None and median is not None and median < minimum,
        "workers_below_minimum": sum(1 for w in workers if w["below_minimum"]),
        "suggested_piece_rate_minor": _median_high(needed),
        "piece_rate_for_every_worker_minor": max(needed) if needed else None,
        "workers": workers,
        "task_rates": [r.public() for r in current_task_rates(session, project_id, terms, now=now)],
    }


def _pseudonyms(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.pseudonym).where(User.id.in_(ids)))
    return {row[0]: row[1] for row in rows}
