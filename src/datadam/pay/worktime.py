"""Measured working time, from the server's clock only (C-39, C-44).

The task page sends a heartbeat about every 15 s while it is visible and in use. The server
stamps each with its own time; the client sends no time at all. An assignment's active time
is the heartbeat coverage between lease and submit: the points lease, heartbeats..., submit
(each clamped into [lease, min(submit, lease + lease length)]) are sorted, and every gap
between neighbours counts unless it is longer than `IDLE_GAP` (the worker was away). So the
result is never negative, never more than the lease, and a clock that jumps backwards can
only shorten it. Without any heartbeat (an older page, a script) the annotation's
`active_seconds` (lease to submit, capped at the lease) is used.

Only submitted work is paid: heartbeats of an assignment that was never submitted earn
nothing. Time outside labeling (training, qualification tests, rework) is recorded as
`worked_time` rows by the workflows that own it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction, project_actions
from datadam.domain.enums import AssignmentStatus
from datadam.errors import Conflict, InputError, NotFound
from datadam.projects.service import vendor_ids_of
from datadam.storage.tables import Assignment, Project, WorkedTime, WorkFlag, WorkHeartbeat
from datadam.storage.types import utcnow

HEARTBEAT_MIN_INTERVAL = timedelta(seconds=5)
IDLE_GAP = timedelta(seconds=60)
WORK_SOURCES = ("training", "qualification", "rework", "other")
FLAG_FAST_HEARTBEATS = "heartbeat_too_fast"
US_PER_HOUR = 3_600_000_000


def to_us(delta: timedelta) -> int:
    """A duration in whole microseconds (exact: timedelta counts microseconds)."""
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def active_time_us(
    *,
    leased_at: datetime,
    submitted_at: datetime,
    lease_seconds: int,
    heartbeats: Iterable[datetime],
    idle_gap: timedelta = IDLE_GAP,
) -> int:
    """Heartbeat coverage between lease and submit, in microseconds (see the module doc)."""
    start = leased_at
    stop = min(submitted_at, leased_at + timedelta(seconds=lease_seconds))
    if stop <= start:
        return 0
    points = sorted({start, stop, *(min(max(t, start), stop) for t in heartbeats)})
    total = timedelta(0)
    for before, after in zip(points, points[1:], strict=False):
        gap = after - before
        if gap <= idle_gap:
            total += gap
    return to_us(total)


def fallback_us(active_seconds: float, lease_seconds: int) -> int:
    """The annotation's own measure, bounded to [0, lease]."""
    seconds = min(max(float(active_seconds), 0.0), float(lease_seconds))
    return round(seconds * 1_000_000)


@dataclass(frozen=True)
class SubmittedWork:
    """One annotation with what is needed to measure and pay it."""

    annotation_id: int
    assignment_id: int
    project_id: int
    worker_id: int
    leased_at: datetime
    submitted_at: datetime
    active_seconds: float
    lease_seconds: int


def heartbeats_by_assignment(
    session: Session, assignment_ids: list[int]
) -> dict[int, list[datetime]]:
    found: dict[int, list[datetime]] = defaultdict(list)
    for start in range(0, len(assignment_ids), 500):
        chunk = assignment_ids[start : start + 500]
        rows = session.execute(
            select(WorkHeartbeat.assignment_id, WorkHeartbeat.at).where(
                WorkHeartbeat.assignment_id.in_(chunk)
            )
        )
        for assignment_id, at in rows:
            found[assignment_id].append(at)
    return found


def measure(session: Session, works: list[SubmittedWork]) -> dict[int, int]:
    """Active microseconds per annotation id."""
    beats = heartbeats_by_assignment(session, [w.assignment_id for w in works])
    measured: dict[int, int] = {}
    for work in works:
        points = beats.get(work.assignment_id)
        if points:
            measured[work.annotation_id] = active_time_us(
                leased_at=work.leased_at,
                submitted_at=work.submitted_at,
                lease_seconds=work.lease_seconds,
                heartbeats=points,
            )
        else:
            measured[work.annotation_id] = fallback_us(work.active_seconds, work.lease_seconds)
    return measured


def record_heartbeat(
    session: Session, actor: Actor, assignment_id: int, *, now: datetime | None = None
) -> bool:
    """Store a heartbeat for the actor's own live assignment; False when ignored as too fast.

    Someone else's assignment, or one in a project the actor can no longer work on, is 404;
    an assignment that is finished or whose lease ran out is 409. A heartbeat sooner than
    `HEARTBEAT_MIN_INTERVAL` from the last stored one is not stored; it is counted in a
    `heartbeat_too_fast` flag instead. The distance is taken both ways, so after the clock
    jumps back heartbeats are stored again (measuring clamps and sorts them, see above).
    """
    now = now or utcnow()
    assignment = session.execute(
        select(Assignment).where(Assignment.id == assignment_id).with_for_update()
    ).scalar_one_or_none()
    if assignment is None or assignment.worker_id != actor.user_id:
        raise NotFound(f"no assignment {assignment_id}", field="assignment_id")
    project = session.get(Project, assignment.project_id)
    assert project is not None  # noqa: S101 - a foreign key guarantees it
    actions = project_actions(
        actor,
        owner_org_id=project.owner_org_id,
        granted_org_ids=vendor_ids_of(session, project.id),
    )
    if ProjectAction.WORK not in actions:
        raise NotFound(f"no assignment {assignment_id}", field="assignment_id")
    if assignment.status != AssignmentStatus.ACTIVE.value:
        raise Conflict(f"this assignment is {assignment.status}", code="not_active")
    if assignment.expires_at <= now:
        raise Conflict("the time for this item ran out", code="assignment_expired")
    last = session.execute(
        select(WorkHeartbeat.at)
        .where(WorkHeartbeat.assignment_id == assignment_id)
        .order_by(WorkHeartbeat.id.desc())
        .limit(1)
    ).scalar()
    if last is not None and abs(now - last) < HEARTBEAT_MIN_INTERVAL:
        _flag(session, assignment, FLAG_FAST_HEARTBEATS, now)
        return False
    session.add(WorkHeartbeat(assignment_id=assignment_id, worker_id=actor.user_id, at=now))
    session.flush()
    return True


def _flag(session: Session, assignment: Assignment, kind: str, now: datetime) -> None:
    flag = session.execute(
        select(WorkFlag).where(WorkFlag.assignment_id == assignment.id, WorkFlag.kind == kind)
    ).scalar_one_or_none()
    if flag is None:
        session.add(
            WorkFlag(
                assignment_id=assignment.id,
                worker_id=assignment.worker_id,
                kind=kind,
                count=1,
                first_at=now,
                last_at=now,
            )
        )
    else:
        flag.count += 1
        flag.last_at = max(flag.last_at, now)
    session.flush()


def record_worked_time(
    session: Session,
    *,
    worker_id: int,
    project_id: int,
    source: str,
    duration: timedelta,
    work_ref: str,
    recorded_by: int | None = None,
    now: datetime | None = None,
) -> WorkedTime:
    """Record paid non-labeling time (training, qualification, rework); idempotent by
    `work_ref`. The duration must come from the server's own measurement."""
    if source not in WORK_SOURCES:
        raise InputError(f"source must be one of {', '.join(WORK_SOURCES)}", field="source")
    duration_us = to_us(duration)
    if duration_us <= 0:
        raise InputError("worked time must be positive", field="duration")
    existing = session.execute(
        select(WorkedTime).where(WorkedTime.work_ref == work_ref)
    ).scalar_one_or_none()
    if existing is not None:
        if (existing.worker_id, existing.duration_us) != (worker_id, duration_us):
            raise Conflict(f"{work_ref} is already recorded differently", field="work_ref")
        return existing
    row = WorkedTime(
        worker_id=worker_id,
        project_id=project_id,
        source=source,
        duration_us=duration_us,
        work_ref=work_ref,
        recorded_at=now or utcnow(),
        recorded_by=recorded_by,
    )
    session.add(row)
    session.flush()
    return row
