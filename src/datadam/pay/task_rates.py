"""Rates per kind of work: labeling, training, qualification tests, rework and other time.

A project's terms (`rates.PayTerms`) pay every kind of work the same. A manager may set a
different rate for one kind (say training at the minimum wage, rework by the item) in
`pay_task_rate`; it is history like the terms: the row in force when the work was done
applies. How each kind is paid:

- labeling (a submitted annotation): the piece rate per item plus the hourly rate for its
  measured time;
- training, qualification, rework, other (a `worked_time` row): the hourly rate for its
  duration, plus the piece rate once per row for rework (a row is one item corrected);
  training and qualification rows never earn a piece rate.

Kinds with no row of their own use the project's terms: labeling at both rates, the other
kinds at the hourly rate only. The minimum-wage guarantee covers every kind either way.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.audit import record_event
from datadam.errors import InputError
from datadam.pay.rates import MAX_RATE_MINOR, PayTerms
from datadam.projects.service import get_project_for
from datadam.storage.tables import PayTaskRate
from datadam.storage.types import utcnow

TASK_TYPES = ("labeling", "training", "qualification", "rework", "other")
PIECE_PAID = frozenset({"labeling", "rework"})


@dataclass(frozen=True)
class TaskRate:
    task_type: str
    piece_rate_minor: int
    hourly_rate_minor: int
    effective_from: datetime | None = None

    def public(self) -> dict[str, object]:
        return {
            "task_type": self.task_type,
            "piece_rate_minor": self.piece_rate_minor,
            "hourly_rate_minor": self.hourly_rate_minor,
            "effective_from": self.effective_from,
        }


def default_rate(task_type: str, terms: PayTerms) -> TaskRate:
    """The project's terms as they apply to one kind of work."""
    piece = terms.piece_rate_minor if task_type == "labeling" else 0
    return TaskRate(task_type, piece, terms.hourly_rate_minor, None)


def work_amount(rate: TaskRate, duration_us: int, hourly_amount: int) -> int:
    """What one piece of work of `rate.task_type` earns; `hourly_amount` is the hourly rate
    applied to its duration (rounded by the caller)."""
    piece = rate.piece_rate_minor if rate.task_type in PIECE_PAID else 0
    return hourly_amount + piece


class TaskRateHistory:
    """Task-type rates of some projects over time; `at` falls back to the project's terms."""

    def __init__(self, session: Session, project_ids: list[int]) -> None:
        self._rows: dict[tuple[int, str], list[PayTaskRate]] = defaultdict(list)
        for start in range(0, len(project_ids), 500):
            rows = session.execute(
                select(PayTaskRate)
                .where(PayTaskRate.project_id.in_(project_ids[start : start + 500]))
                .order_by(PayTaskRate.effective_from, PayTaskRate.id)
            ).scalars()
            for row in rows:
                self._rows[(row.project_id, row.task_type)].append(row)
        self._starts = {k: [r.effective_from for r in rows] for k, rows in self._rows.items()}

    def at(self, project_id: int, task_type: str, moment: datetime, terms: PayTerms) -> TaskRate:
        key = (project_id, task_type)
        rows = self._rows.get(key)
        if rows:
            index = bisect.bisect_right(self._starts[key], moment) - 1
            if index >= 0:
                row = rows[index]
                return TaskRate(
                    task_type,
                    int(row.piece_rate_minor),
                    int(row.hourly_rate_minor),
                    row.effective_from,
                )
        return default_rate(task_type, terms)


def current_task_rates(
    session: Session, project_id: int, terms: PayTerms, *, now: datetime | None = None
) -> list[TaskRate]:
    history = TaskRateHistory(session, [project_id])
    moment = now or utcnow()
    return [history.at(project_id, kind, moment, terms) for kind in TASK_TYPES]


def set_task_rate(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    task_type: str,
    piece_rate_minor: int,
    hourly_rate_minor: int,
    now: datetime | None = None,
) -> TaskRate:
    """A rate for one kind of work from now on (the project's managers; audited)."""
    view = get_project_for(session, actor, project_id)
    view.require(ProjectAction.MANAGE)
    if task_type not in TASK_TYPES:
        raise InputError(f"task_type is one of {', '.join(TASK_TYPES)}", field="task_type")
    for name, value in (
        ("piece_rate_minor", piece_rate_minor),
        ("hourly_rate_minor", hourly_rate_minor),
    ):
        if not 0 <= value <= MAX_RATE_MINOR:
            raise InputError(f"{name} must be between 0 and {MAX_RATE_MINOR}", field=name)
    now = now or utcnow()
    history = TaskRateHistory(session, [project_id])
    before = history.at(project_id, task_type, now, PayTerms())
    row = PayTaskRate(
        project_id=project_id,
        task_type=task_type,
        piece_rate_minor=piece_rate_minor,
        hourly_rate_minor=hourly_rate_minor,
        effective_from=now,
        set_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    after = TaskRate(task_type, piece_rate_minor, hourly_rate_minor, now)
    record_event(
        session,
        actor_id=actor.user_id,
        action="project.task_rate.update",
        object_type="project",
        object_id=project_id,
        organization_id=view.project.owner_org_id,
        project_id=project_id,
        before=before.public() if before.effective_from else None,
        after=after.public(),
    )
    return after
