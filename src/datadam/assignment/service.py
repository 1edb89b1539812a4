"""Next task, submit and skip: the worker's loop, with permissions and idempotency.

A submission is acknowledged only after its transaction commits. Submitting twice with the same
`client_submission_id` returns the first annotation; reusing the id for a different result is
refused (409 `idempotency_key_reused`). A late submit after the lease expired is accepted when
the item still has room, else refused with 409 `assignment_expired` (the browser keeps the
draft). Time is the server's: client-sent times are never trusted.

Each call reads the project and its vendor grants in one statement and checks the actor's
permissions on every call (a removed membership takes effect at once). A submit validates the
result before taking SQLite's write lock; on PostgreSQL, where there is no global write lock,
the read and the write share one transaction to save round trips.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction, project_actions
from datadam.assignment.queue import (
    Lease,
    aware,
    db_time,
    lease_new_item,
    live_lease_from,
    lock_worker_sql,
    own_leases_statement,
    release_lease,
)
from datadam.domain.enums import ProjectStatus, Stage
from datadam.errors import Conflict, InputError, NotAllowed, NotFound
from datadam.gold.injection import (
    GATE_COLUMNS,
    GATE_JOIN,
    check_gate,
    lease_gold_item,
    record_gold_result,
)
from datadam.stages.transitions import COUNT_LATE_SUBMISSION_SQL, COUNT_SUBMISSION_SQL
from datadam.storage.conversation import Rows, Statement, Steps, ask, drive
from datadam.storage.db import Database
from datadam.storage.types import utcnow

MAX_SUBMISSION_ID = 64


@dataclass(frozen=True)
class ProjectRow:
    id: int
    owner_org_id: int
    overlap: int
    lease_seconds: int
    status: str
    schema_version: int


@dataclass(frozen=True)
class Task:
    """What a worker receives: the lease and the item to label."""

    assignment_id: int
    project_id: int
    item_id: int
    payload: dict[str, Any]
    media_key: str | None
    leased_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Submission:
    annotation_id: int
    assignment_id: int
    item_id: int
    submitted_at: datetime
    replayed: bool


def _load_json(value: Any) -> Any:
    if isinstance(value, str | bytes):
        return orjson.loads(value)
    return value


_PROJECT = (
    "SELECT p.id, p.owner_org_id, p.overlap, p.lease_seconds, p.status, p.schema_version, "
    f"pa.organization_id{GATE_COLUMNS}FROM project p{{lock}} "  # noqa: S608 - constants only
    f"LEFT JOIN project_access pa ON pa.project_id = p.id{GATE_JOIN} WHERE p.id = :p"
)


def check_work(actor: Actor, project_id: int, rows: list[Any], first: int) -> ProjectRow:
    """The project from rows whose columns from `first` on are the project's (+ a vendor id)."""
    if not rows:
        raise NotFound(f"no project {project_id}", field="project_id")
    head = rows[0]
    vendors = [r[first + 6] for r in rows if r[first + 6] is not None]
    project = ProjectRow(*head[first : first + 6])
    actions = project_actions(actor, owner_org_id=project.owner_org_id, granted_org_ids=vendors)
    if ProjectAction.VIEW not in actions:
        raise NotFound(f"no project {project_id}", field="project_id")
    if ProjectAction.WORK not in actions:
        raise NotAllowed("only workers of this project can take tasks", code="forbidden")
    return project


def project_statement(
    dialect: str, project_id: int, worker_id: int, *, lock: bool = True
) -> Statement:
    """Next task's first statement: the project, its vendors and gate, and (unless the caller
    locks the worker with a statement of its own) the worker's lock."""
    sql = _PROJECT.format(lock=lock_worker_sql(dialect) if lock else "")
    return sql, {"p": project_id, "w": worker_id}


def next_task_steps(dialect: str, actor: Actor, project_id: int) -> Steps[Task | None]:
    """Inside a write transaction: the worker's current task, a new one, or None."""
    found = yield from ask(*project_statement(dialect, project_id, actor.user_id))
    return (yield from next_task_after(dialect, actor, project_id, found))


def next_task_after(
    dialect: str, actor: Actor, project_id: int, found: Rows, own: Rows | None = None
) -> Steps[Task | None]:
    """`next_task_steps` once `project_statement` has answered (and, when given, the
    worker's `own_leases_statement`, read after their lock)."""
    project = check_work(actor, project_id, found.rows, 0)
    gold_rate = yield from check_gate(
        project_id=project.id, worker_id=actor.user_id, gate=found.rows[0][7:11]
    )
    if project.status != ProjectStatus.ACTIVE.value:
        return None
    if own is None:
        own = yield from ask(*own_leases_statement(project.id, actor.user_id))
    lease = yield from live_lease_from(dialect, project.id, own)
    if lease is None and gold_rate > 0:
        lease = yield from lease_gold_item(
            dialect, project=project, worker_id=actor.user_id, rate=gold_rate
        )
    if lease is None:
        lease = yield from lease_new_item(dialect, project=project, worker_id=actor.user_id)
    return None if lease is None else (yield from _task_for(lease))


_PAYLOAD = "SELECT payload, media_key FROM item WHERE id = :i"


def _task_for(lease: Lease) -> Steps[Task]:
    payload, media_key = lease.payload, lease.media_key
    if payload is None:
        item = yield from ask(
            "SELECT payload, media_key FROM item WHERE id = :i", {"i": lease.item_id}
        )
        payload, media_key = item.rows[0]
    return Task(
        lease.assignment_id,
        lease.project_id,
        lease.item_id,
        _load_json(payload),
        media_key,
        lease.leased_at,
        lease.expires_at,
    )


def next_task(db: Database, actor: Actor, project_id: int) -> Task | None:
    """The worker's current task, or a new one, or None when nothing is left for them.

    A simultaneous ask of the same worker through the server's fast path may win the one live
    lease (`uq_assignment_live_worker`): asking once more then finds that lease."""
    try:
        with db.write_engine.begin() as conn:
            return drive(conn, next_task_steps(db.dialect, actor, project_id))
    except IntegrityError:
        with db.write_engine.begin() as conn:
            return drive(conn, next_task_steps(db.dialect, actor, project_id))


def skip_task(db: Database, actor: Actor, assignment_id: int, reason: str) -> None:
    reason = reason.strip()
    if not reason:
        raise InputError("please say why you skip this item", field="reason")
    with db.write_engine.begin() as conn:
        drive(conn, _skip(db.dialect, actor, assignment_id, reason[:500]))


_OWNER = "SELECT worker_id, status FROM assignment WHERE id = :a"


def _skip(dialect: str, actor: Actor, assignment_id: int, reason: str) -> Steps[None]:
    owner = (
        yield from ask(
            "SELECT worker_id, status FROM assignment WHERE id = :a", {"a": assignment_id}
        )
    ).first()
    if owner is None or owner[0] != actor.user_id:
        raise NotFound(f"no assignment {assignment_id}", field="assignment_id")
    released = yield from release_lease(
        dialect, assignment_id=assignment_id, worker_id=actor.user_id, reason=reason
    )
    if not released:
        raise Conflict(f"this assignment is {owner[1]}, not active", code="not_active")


@dataclass(frozen=True)
class _Context:
    assignment_id: int
    item_id: int
    project: ProjectRow
    status: str
    leased_at: datetime
    payload: dict[str, Any]
    item_stage: str


def leased_context(
    assignment_id: int, item_id: int, project: ProjectRow, leased_at: datetime, payload: Any
) -> _Context:
    """The context of an active lease on a queue item, as the server that leased it knows it
    (an item's payload never changes once imported)."""
    return _Context(
        assignment_id, item_id, project, "active", aware(leased_at), payload, Stage.LABELING.value
    )


_CONTEXT = (
    "SELECT a.item_id, a.worker_id, a.status, a.leased_at, i.payload, "
    "p.id, p.owner_org_id, p.overlap, p.lease_seconds, p.status, p.schema_version, "
    "pa.organization_id, i.stage FROM assignment a JOIN item i ON i.id = a.item_id "
    "JOIN project p ON p.id = a.project_id "
    "LEFT JOIN project_access pa ON pa.project_id = p.id WHERE a.id = :a"
)


def context_statement(assignment_id: int) -> Statement:
    return _CONTEXT, {"a": assignment_id}


def load_context(actor: Actor, assignment_id: int) -> Steps[_Context]:
    """The assignment, its item and project, checked against the actor's permissions."""
    found = yield from ask(*context_statement(assignment_id))
    return context_from(actor, assignment_id, found)


def context_from(actor: Actor, assignment_id: int, found: Rows) -> _Context:
    """The answer of `context_statement`, checked against the actor's permissions."""
    rows = found.rows
    if not rows or rows[0][1] != actor.user_id:
        raise NotFound(f"no assignment {assignment_id}", field="assignment_id")
    item_id, _worker, status, leased_at, payload = rows[0][:5]
    project = check_work(actor, rows[0][5], rows, 5)
    return _Context(
        assignment_id,
        item_id,
        project,
        status,
        aware(leased_at),
        _load_json(payload),
        rows[0][12],
    )


_EXISTING = (
    "SELECT id, assignment_id, item_id, result, submitted_at FROM annotation "
    "WHERE project_id = :p AND worker_id = :w AND client_submission_id = :k"
)


def _existing(ctx: _Context, worker_id: int, key: str) -> Steps[Any]:
    found = yield from ask(_EXISTING, {"p": ctx.project.id, "w": worker_id, "k": key})
    return found.first()


def _replay(row: Any, result: dict[str, Any]) -> Submission:
    annotation_id, assignment_id, item_id, stored, submitted_at = row
    if _load_json(stored) != result:
        raise Conflict(
            "this submission id was already used for a different result",
            field="client_submission_id",
            code="idempotency_key_reused",
        )
    return Submission(annotation_id, assignment_id, item_id, aware(submitted_at), True)


_MOVE = (
    "UPDATE assignment SET status = 'submitted', finished_at = :now "
    "WHERE id = :a AND worker_id = :w AND status = 'active'"
)
_INSERT_ANNOTATION = (
    "INSERT INTO annotation (project_id, item_id, assignment_id, worker_id, result,"
    " schema_version, client_submission_id, started_at, submitted_at, active_seconds)"
    " {source} RETURNING id"
)
_VALUES = "VALUES (:p, :i, :a, :w, :r, :v, :k, :s, :now, :act)"


# PostgreSQL: mark the assignment submitted, count the label (the shared transition statement,
# applied only when the assignment moved) and store the annotation in one round trip.
@cache
def submit_pg_parts(guard: str) -> str:
    """`SUBMIT_PG`'s common table expressions, the last one `stored`; the assignment moves
    only where the SQL condition `guard` (a constant) holds."""
    return (
        f"moved AS ({_MOVE} AND {guard} RETURNING item_id), counted AS ("  # noqa: S608
        f"{COUNT_SUBMISSION_SQL} AND EXISTS (SELECT 1 FROM moved) RETURNING id), stored AS ("
        + _INSERT_ANNOTATION.format(
            source="SELECT :p, :i, :a, :w, CAST(:r AS jsonb), :v, :k, :s, :now, :act FROM moved"
        )
        + ")"
    )


_SUBMIT_PG = f"WITH {submit_pg_parts('true')} SELECT id FROM stored"  # noqa: S608


def _stage_params(ctx: _Context) -> dict[str, Any]:
    return {
        "i": ctx.item_id,
        "overlap": ctx.project.overlap,
        "labeling": Stage.LABELING.value,
        "inspection": Stage.INSPECTION.value,
    }


def _late_slot(dialect: str, ctx: _Context, now: datetime) -> Steps[None]:
    """The assignment was not active: refuse, or take a slot back for a late submission."""
    found = yield from ask("SELECT status FROM assignment WHERE id = :a", {"a": ctx.assignment_id})
    status = found.rows[0][0]
    if status != "expired":
        raise Conflict(
            f"this assignment is {status}",
            code="already_submitted" if status == "submitted" else "not_active",
        )
    counted = yield from ask(COUNT_LATE_SUBMISSION_SQL, _stage_params(ctx))
    if counted.rowcount != 1:
        raise Conflict(
            "your time for this item ran out and others have finished it; your draft is kept",
            code="assignment_expired",
        )
    yield from ask(
        "UPDATE assignment SET status = 'submitted', finished_at = :now WHERE id = :a",
        {"a": ctx.assignment_id, "now": db_time(dialect, now)},
    )


def store(dialect: str, ctx: _Context, worker_id: int, key: str, clean: Any) -> Steps[Submission]:
    """Inside a write transaction: take the slot and store the annotation; a replay of an
    earlier submission with the same key answers with it; Conflict when the assignment
    cannot be used."""
    now = utcnow()
    params = store_params(dialect, ctx, worker_id, key, clean, now)
    if dialect == "postgresql":
        row = (yield from ask(_SUBMIT_PG, params)).first()
        if row is not None:
            return Submission(row[0], ctx.assignment_id, ctx.item_id, now, False)
    elif (yield from ask(_MOVE, params)).rowcount == 1:
        yield from ask(COUNT_SUBMISSION_SQL, params)
        row = (yield from ask(_INSERT_ANNOTATION.format(source=_VALUES), params)).first()
        return Submission(row[0], ctx.assignment_id, ctx.item_id, now, False)
    previous = yield from _existing(ctx, worker_id, key)
    if previous is not None:
        return _replay(previous, clean)
    yield from _late_slot(dialect, ctx, now)
    row = (yield from ask(_INSERT_ANNOTATION.format(source=_VALUES), params)).first()
    return Submission(row[0], ctx.assignment_id, ctx.item_id, now, False)


def store_params(
    dialect: str, ctx: _Context, worker_id: int, key: str, clean: Any, now: datetime
) -> dict[str, Any]:
    active = max(0.0, min((now - ctx.leased_at).total_seconds(), ctx.project.lease_seconds))
    return _stage_params(ctx) | {
        "p": ctx.project.id,
        "a": ctx.assignment_id,
        "w": worker_id,
        "r": orjson.dumps(clean).decode(),
        "v": ctx.project.schema_version,
        "k": key,
        "s": db_time(dialect, ctx.leased_at),
        "now": db_time(dialect, now),
        "act": active,
    }


SUBMIT_PG = _SUBMIT_PG  # one statement: move, count and store (PostgreSQL)


def submission_key(client_submission_id: str) -> str:
    key = client_submission_id.strip()
    if not key or len(key) > MAX_SUBMISSION_ID:
        raise InputError(
            "client_submission_id must be 1-64 characters", field="client_submission_id"
        )
    return key


def prepare_submission(
    db: Database, actor: Actor, assignment_id: int, result: Any
) -> Steps[tuple[_Context, Any]]:
    """Read-only: the assignment's context and the result checked against the schema."""
    ctx = yield from load_context(actor, assignment_id)
    return ctx, (yield from checked_result(db, ctx, result))


def checked_result(db: Database, ctx: _Context, result: Any) -> Steps[Any]:
    """The result validated against the project's schema (a statement only on a cache miss)."""
    schema = yield from schema_steps(db, ctx.project)
    return _validate(schema, result, ctx.payload)


def submit_task(
    db: Database, actor: Actor, assignment_id: int, *, result: Any, client_submission_id: str
) -> Submission:
    """Validate and store a result; idempotent by `client_submission_id`.

    A first submission moves the assignment before anything else is read; only when that
    finds the assignment no longer active is the key looked up (a replay) or the late rule
    applied. Two racing submissions with one key are settled by `UNIQUE(project, worker,
    key)`: the loser rolls back and answers with the winner's annotation. On SQLite the
    result is validated before the write lock is taken; on PostgreSQL, where there is no
    global write lock, the read and the write share one transaction to save round trips.
    """
    key = submission_key(client_submission_id)
    try:
        if db.is_postgres:
            with db.write_engine.begin() as conn:
                ctx, clean = drive(conn, prepare_submission(db, actor, assignment_id, result))
                return _stored(db, conn, ctx, actor.user_id, key, clean)
        with db.engine.connect() as conn:
            ctx, clean = drive(conn, prepare_submission(db, actor, assignment_id, result))
        with db.write_engine.begin() as conn:
            return _stored(db, conn, ctx, actor.user_id, key, clean)
    except IntegrityError:
        with db.engine.connect() as conn:
            ctx, clean = drive(conn, prepare_submission(db, actor, assignment_id, result))
            previous = drive(conn, _existing(ctx, actor.user_id, key))
        if previous is None:
            raise Conflict("this item was already submitted", code="already_submitted") from None
        return _replay(previous, clean)


def _stored(
    db: Database, conn: Connection, ctx: _Context, worker_id: int, key: str, clean: Any
) -> Submission:
    """`store`, then, for an answer to a gold question, its score (same transaction)."""
    done = drive(conn, store(db.dialect, ctx, worker_id, key, clean))
    if ctx.item_stage == Stage.GOLD.value and not done.replayed:
        record_gold_result(
            conn,
            project_id=ctx.project.id,
            worker_id=worker_id,
            item_id=ctx.item_id,
            annotation_id=done.annotation_id,
            result=clean,
            schema=project_schema(db, ctx.project),
        )
    return done


# Parsed schemas per engine (so that two databases in one process never share an entry) and
# per (project, schema version): a schema change always bumps the version.
_compiled: weakref.WeakKeyDictionary[Any, dict[tuple[int, int], Any]] = weakref.WeakKeyDictionary()


def validate_for_project(
    db: Database, project: ProjectRow, result: Any, payload: dict[str, Any]
) -> Any:
    """Check a result against the project's schema (parsed once per schema version)."""
    return _validate(project_schema(db, project), result, payload)


def _validate(schema: Any, result: Any, payload: dict[str, Any]) -> Any:
    from datadam.schema import validate_result

    return validate_result(schema, result, payload)


def project_schema(db: Database, project: ProjectRow) -> Any:
    """The project's parsed `LabelingSchema`, cached per engine and schema version."""
    steps = schema_steps(db, project)
    try:
        next(steps)
    except StopIteration as cached:
        return cached.value
    with db.engine.connect() as conn:
        return drive(conn, schema_steps(db, project))


def schema_steps(db: Database, project: ProjectRow) -> Steps[Any]:
    """`project_schema` inside a conversation: a statement only when not cached yet."""
    from datadam.schema import parse_schema

    cache = _compiled.setdefault(db.engine, {})
    key = (project.id, project.schema_version)
    schema = cache.get(key)
    if schema is None:
        raw = yield from ask("SELECT schema FROM project WHERE id = :p", {"p": project.id})
        schema = cache[key] = parse_schema(_load_json(raw.rows[0][0]))
    return schema
