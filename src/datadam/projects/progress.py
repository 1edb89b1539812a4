"""How far a project has come: labels over time, items by state, labels per worker.

Read-only aggregate queries for the manager's project page. Each is one grouped scan of one
project's rows through an index that starts with `project_id`, so the cost grows with the
project, never with the whole database, and the results stay small (at most `MAX_BUCKETS`
time buckets, one row per worker) whatever the project size:

* items by state read only `ix_item_queue` (project_id, stage, n_taken): an index-only scan;
* labels per worker read only `uq_annotation_submission` (project_id, worker_id, ...);
* labels over time group the project's annotations by UTC hour in the database (a cheap
  text prefix on SQLite, `date_trunc` on PostgreSQL); Python then shifts the hours by the
  reader's whole-hour UTC offset and folds them into days. This one reads table rows, since
  no index holds `submitted_at`; an index on (project_id, submitted_at) would make it
  index-only too.

Workers appear only under their per-project pseudonym (the same HMAC the export uses), so a
manager can match the page with an export but cannot join projects to identify a person.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from datadam.domain.enums import Stage
from datadam.errors import InputError
from datadam.exporting.jsonl import worker_pseudonym
from datadam.storage.tables import Annotation, Item, Project
from datadam.storage.types import utcnow

Unit = Literal["day", "hour"]
MAX_BUCKETS = 120
SLOW_SECONDS = 0.5  # results slower than this are cached ...
CACHE_SECONDS = 60.0  # ... for this long, per process
_CACHE_ENTRIES = 64
_cache: OrderedDict[tuple[str, int, int, int, str], tuple[float, ProjectProgress]] = OrderedDict()
_cache_lock = threading.Lock()
HOURLY_UP_TO_DAYS = 2  # a project whose labels span at most this many days is shown by hour
_STEP = {"day": timedelta(days=1), "hour": timedelta(hours=1)}

# Item states shown next to stages: how far an item is in getting its `overlap` labels.
WAITING = "waiting"  # nobody has it yet
IN_PROGRESS = "in_progress"  # leased or partly labelled
COMPLETE = "complete"  # has all the labels the project asks for
_DONE_STAGES = frozenset({Stage.INSPECTION.value, Stage.ACCEPTED.value, Stage.RELEASED.value})


@dataclass(frozen=True)
class Bucket:
    start: datetime  # aware; in UTC shifted by the offset the series was asked for
    labels: int


@dataclass(frozen=True)
class LabelsOverTime:
    unit: Unit
    offset_minutes: int
    buckets: tuple[Bucket, ...]

    @property
    def total(self) -> int:
        return sum(b.labels for b in self.buckets)


@dataclass(frozen=True)
class WorkerCount:
    worker: str  # per-project pseudonym, never a name, e-mail or user id
    labels: int


@dataclass(frozen=True)
class WorkerTable:
    rows: tuple[WorkerCount, ...]  # the busiest workers first
    workers_total: int
    labels_total: int


@dataclass(frozen=True)
class ItemStates:
    by_stage: dict[str, int]
    by_state: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_stage.values())


@dataclass(frozen=True)
class ProjectProgress:
    items: ItemStates
    over_time: LabelsOverTime
    workers: WorkerTable
    as_of: datetime

    @property
    def labels(self) -> int:
        return self.workers.labels_total


def _hour_key(dialect: str) -> Any:
    """The UTC hour of `submitted_at`, as text (SQLite) or a naive timestamp (PostgreSQL)."""
    if dialect == "sqlite":
        # SQLite stores these as naive UTC text, "YYYY-MM-DD HH:MM:SS.ffffff"
        return func.substr(Annotation.submitted_at, 1, 13)
    return func.date_trunc("hour", func.timezone("UTC", Annotation.submitted_at))


def _as_hour(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.strptime(value, "%Y-%m-%d %H").replace(tzinfo=UTC)
    return value.replace(tzinfo=UTC)


def _floor(at: datetime, unit: Unit) -> datetime:
    at = at.replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0) if unit == "day" else at


def hourly_counts(session: Session, project_id: int) -> dict[datetime, int]:
    """Submitted labels per UTC hour (aware datetimes), hours without labels left out."""
    dialect = session.get_bind().dialect.name
    hour = _hour_key(dialect).label("hour")
    rows = session.execute(
        select(hour, func.count())
        .where(Annotation.project_id == project_id)
        .group_by(literal_column("hour"))
    ).all()
    return {_as_hour(value): n for value, n in rows if value is not None}


def series_from_hours(
    hours: dict[datetime, int],
    *,
    unit: Unit = "day",
    offset_minutes: int = 0,
    until: datetime | None = None,
) -> LabelsOverTime:
    """Fold hourly counts into a gap-filled series of the last `MAX_BUCKETS` days or hours.

    Buckets are in UTC shifted by `offset_minutes`, a whole number of hours (540 for Korea);
    their `start` is that local wall-clock time tagged as UTC. The series runs from the first
    bucket with a label to the bucket holding `until` (default now), so a quiet last week
    shows as zeros rather than being cut off.
    """
    if offset_minutes % 60 or abs(offset_minutes) > 14 * 60:
        raise InputError("the UTC offset must be whole hours, -14 to +14", field="offset")
    shift = timedelta(minutes=offset_minutes)
    counts: dict[datetime, int] = {}
    for hour, n in hours.items():
        key = _floor(hour + shift, unit)
        counts[key] = counts.get(key, 0) + n
    if not counts:
        return LabelsOverTime(unit, offset_minutes, ())
    step = _STEP[unit]
    end = max(_floor((until or utcnow()).astimezone(UTC) + shift, unit), max(counts))
    start = max(min(counts), end - step * (MAX_BUCKETS - 1))
    buckets = []
    at = start
    while at <= end:
        buckets.append(Bucket(at, counts.get(at, 0)))
        at += step
    return LabelsOverTime(unit, offset_minutes, tuple(buckets))


def labels_over_time(
    session: Session,
    project_id: int,
    *,
    unit: Unit = "day",
    offset_minutes: int = 0,
    until: datetime | None = None,
) -> LabelsOverTime:
    """Submitted labels per day or hour (see `series_from_hours` for the buckets)."""
    return series_from_hours(
        hourly_counts(session, project_id), unit=unit, offset_minutes=offset_minutes, until=until
    )


def item_states(session: Session, project: Project) -> ItemStates:
    """Items per stage, and per labeling state (waiting, in progress, complete); known-answer
    (gold) items are not part of the dataset and are left out.

    The state follows from the stage and `n_taken` alone, so the index answers it: an item
    is complete once its labeling stage ended (it got `overlap` labels), in progress while
    labeling with a label or a live lease, and waiting before that.
    """
    rows = session.execute(
        select(Item.stage, Item.n_taken, func.count())
        .where(Item.project_id == project.id, Item.stage != Stage.GOLD.value)
        .group_by(Item.stage, Item.n_taken)
    ).all()
    by_stage: dict[str, int] = {}
    by_state = {WAITING: 0, IN_PROGRESS: 0, COMPLETE: 0}
    for stage, taken, n in rows:
        by_stage[stage] = by_stage.get(stage, 0) + n
        by_state[_state(stage, taken)] += n
    return ItemStates(by_stage, by_state)


def _state(stage: str, taken: int) -> str:
    if stage in _DONE_STAGES:
        return COMPLETE
    if stage == Stage.LABELING.value and taken > 0:
        return IN_PROGRESS
    return WAITING


def worker_counts(
    session: Session, project_id: int, *, secret: str, limit: int = 50
) -> WorkerTable:
    """The `limit` busiest workers (most labels first), with totals over every worker."""
    labels = func.count().label("labels")
    rows = session.execute(
        select(Annotation.worker_id, labels)
        .where(Annotation.project_id == project_id)
        .group_by(Annotation.worker_id)
    ).all()
    ranked = sorted(rows, key=lambda row: (-row[1], row[0]))
    top = tuple(
        WorkerCount(worker=worker_pseudonym(secret, project_id, worker_id), labels=n)
        for worker_id, n in ranked[:limit]
    )
    return WorkerTable(top, len(rows), sum(n for _w, n in rows))


def clear_progress_cache() -> None:
    """Forget every kept result (tests; a maintainer after fixing data by hand)."""
    with _cache_lock:
        _cache.clear()


def project_progress(
    session: Session,
    project: Project,
    *,
    secret: str,
    offset_minutes: int = 0,
    worker_limit: int = 50,
    now: datetime | None = None,
    max_age: float = CACHE_SECONDS,
) -> ProjectProgress:
    """Everything the project page charts: by day, or by hour while labels span two days.

    A result that took longer than `SLOW_SECONDS` to compute (a project of a million items)
    is kept for `max_age` seconds in this process, so reloading a big project's page does
    not rescan it each time; `as_of` says when the numbers were taken. Small projects are
    always computed fresh. `max_age=0` bypasses the cache.
    """
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    key = (
        database,
        project.id,
        offset_minutes,
        worker_limit,
        hashlib.sha256(secret.encode()).hexdigest(),
    )
    use_cache = now is None and max_age > 0
    if use_cache:
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < max_age:
            return hit[1]
    started = time.monotonic()
    hours = hourly_counts(session, project.id)
    series = series_from_hours(hours, offset_minutes=offset_minutes, until=now)
    if 0 < len(series.buckets) <= HOURLY_UP_TO_DAYS:
        series = series_from_hours(hours, unit="hour", offset_minutes=offset_minutes, until=now)
    result = ProjectProgress(
        items=item_states(session, project),
        over_time=series,
        workers=worker_counts(session, project.id, secret=secret, limit=worker_limit),
        as_of=now or utcnow(),
    )
    if use_cache and time.monotonic() - started >= SLOW_SECONDS:
        with _cache_lock:
            _cache[key] = (started, result)
            while len(_cache) > _CACHE_ENTRIES:
                _cache.popitem(last=False)
    return result
