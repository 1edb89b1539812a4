"""Next task, submit and skip: the worker's loop, with permissions and idempotency.

A submission is acknowledged only after its transaction commits. Submitting twice with the same
`client_submission_id` returns the first annotation; reusing the id for a different result is
refused (409 `idempotency_key_reused`). A late submit after the lease expired is accepted when
the item still has room, else refused with 409 `assignment_expired` (the browser keeps the
draft). Time is the server's: client-sent times are never trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction, project_actions
from datadam.assignment.queue import Lease, _aware, _db_time, lease_next_item, release_lease
from datadam.domain.enums import Stage
from datadam.errors import Conflict, InputError, NotAllowed, NotFound
from datadam.stages.transitions import COUNT_LATE_SUBMISSION_SQL, COUNT_SUBMISSION_SQL
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
    schema: Any
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
        import orjson

        return orjson.loads(value)
    return value


def _project_for_work(conn: Connection, actor: Actor, project_id: int) -> ProjectRow:
    row = conn.execute(
        text(
            "SELECT id, owner_org_id, overlap, lease_seconds, status, schema, schema_version "
            "FROM project WHERE id = :p"
        ),
        {"p": project_id},
    ).first()
    if row is None:
        raise NotFound(f"no project {project_id}", field="project_id")
    vendors = [
        r[0]
        for r in conn.execute(
            text("SELECT organization_id FROM project_access WHERE project_id = :p"),
            {"p": project_id},
        )
    ]
    actions = project_actions(actor, owner_org_id=row.owner_org_id, granted_org_ids=vendors)
    if ProjectAction.VIEW not in actions:
        raise NotFound(f"no project {project_id}", field="project_id")
    if ProjectAction.WORK not in actions:
        raise NotAllowed("only workers of this project can take tasks", code="forbidden")
    return ProjectRow(
        row.id,
        row.owner_org_id,
        row.overlap,
        row.lease_seconds,
        row.status,
        row.schema,
        row.schema_version,
    )


def _task_for(conn: Connection, lease: Lease) -> Task:
    item = conn.execute(
        text("SELECT payload, media_key FROM item WHERE id = :i"), {"i": lease.item_id}
    ).one()
    return Task(
        lease.assignment_id,
        lease.project_id,
        lease.item_id,
        _load_json(item.payload),
        item.media_key,
        lease.leased_at,
        lease.expires_at,
    )


def next_task(db: Database, actor: Actor, project_id: int) -> Task | None:
    """The worker's current task, or a new one, or None when nothing is left for them."""
    with db.write_engine.begin() as conn:
        project = _project_for_work(conn, actor, project_id)
        lease = lease_next_item(conn, project=project, worker_id=actor.user_id)
        return None if lease is None else _task_for(conn, lease)


def skip_task(db: Database, actor: Actor, assignment_id: int, reason: str) -> None:
    reason = reason.strip()
    if not reason:
        raise InputError("please say why you skip this item", field="reason")
    with db.write_engine.begin() as conn:
        owner = conn.execute(
            text("SELECT worker_id, status FROM assignment WHERE id = :a"), {"a": assignment_id}
        ).first()
        if owner is None or owner.worker_id != actor.user_id:
            raise NotFound(f"no assignment {assignment_id}", field="assignment_id")
        if not release_lease(
            conn, assignment_id=assignment_id, worker_id=actor.user_id, reason=reason[:500]
        ):
            raise Conflict(f"this assignment is {owner.status}, not active", code="not_active")


@dataclass(frozen=True)
class _Context:
    assignment_id: int
    item_id: int
    project: ProjectRow
    status: str
    leased_at: datetime
    payload: dict[str, Any]


def _load_context(db: Database, actor: Actor, assignment_id: int) -> _Context:
    with db.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT a.item_id, a.worker_id, a.status, a.leased_at, a.project_id, i.payload "
                "FROM assignment a JOIN item i ON i.id = a.item_id WHERE a.id = :a"
            ),
            {"a": assignment_id},
        ).first()
        if row is None or row.worker_id != actor.user_id:
            raise NotFound(f"no assignment {assignment_id}", field="assignment_id")
        project = _project_for_work(conn, actor, row.project_id)
    return _Context(
        assignment_id,
        row.item_id,
        project,
        row.status,
        _aware(row.leased_at),
        _load_json(row.payload),
    )


def _existing(conn: Connection, ctx: _Context, worker_id: int, key: str) -> Any:
    return conn.execute(
        text(
            "SELECT id, assignment_id, item_id, result, submitted_at FROM annotation "
            "WHERE project_id = :p AND worker_id = :w AND client_submission_id = :k"
        ),
        {"p": ctx.project.id, "w": worker_id, "k": key},
    ).first()


def _replay(row: Any, result: dict[str, Any]) -> Submission:
    if _load_json(row.result) != result:
        raise Conflict(
            "this submission id was already used for a different result",
            field="client_submission_id",
            code="idempotency_key_reused",
        )
    return Submission(row.id, row.assignment_id, row.item_id, _aware(row.submitted_at), True)


def _take_slot(conn: Connection, ctx: _Context, worker_id: int, now: datetime) -> None:
    """Mark the assignment submitted and count the label on the item, or raise Conflict."""
    moved = conn.execute(
        text(
            "UPDATE assignment SET status = 'submitted', finished_at = :now "
            "WHERE id = :a AND worker_id = :w AND status = 'active'"
        ),
        {"a": ctx.assignment_id, "w": worker_id, "now": _db_time(conn, now)},
    ).rowcount
    if moved == 1:
        conn.execute(
            text(COUNT_SUBMISSION_SQL),
            {
                "i": ctx.item_id,
                "overlap": ctx.project.overlap,
                "labeling": Stage.LABELING.value,
                "inspection": Stage.INSPECTION.value,
            },
        )
        return
    status = conn.execute(
        text("SELECT status FROM assignment WHERE id = :a"), {"a": ctx.assignment_id}
    ).scalar_one()
    if status != "expired":
        raise Conflict(
            f"this assignment is {status}",
            code="already_submitted" if status == "submitted" else "not_active",
        )
    room = conn.execute(
        text(COUNT_LATE_SUBMISSION_SQL),
        {
            "i": ctx.item_id,
            "overlap": ctx.project.overlap,
            "labeling": Stage.LABELING.value,
            "inspection": Stage.INSPECTION.value,
        },
    ).rowcount
    if room != 1:
        raise Conflict(
            "your time for this item ran out and others have finished it; your draft is kept",
            code="assignment_expired",
        )
    conn.execute(
        text("UPDATE assignment SET status = 'submitted', finished_at = :now WHERE id = :a"),
        {"a": ctx.assignment_id, "now": _db_time(conn, now)},
    )


def submit_task(
    db: Database, actor: Actor, assignment_id: int, *, result: Any, client_submission_id: str
) -> Submission:
    """Validate and store a result; idempotent by `client_submission_id`."""
    key = client_submission_id.strip()
    if not key or len(key) > MAX_SUBMISSION_ID:
        raise InputError(
            "client_submission_id must be 1-64 characters", field="client_submission_id"
        )
    ctx = _load_context(db, actor, assignment_id)
    clean = validate_for_project(ctx.project, result, ctx.payload)
    try:
        with db.write_engine.begin() as conn:
            previous = _existing(conn, ctx, actor.user_id, key)
            if previous is not None:
                return _replay(previous, clean)
            now = utcnow()
            _take_slot(conn, ctx, actor.user_id, now)
            active = max(0.0, min((now - ctx.leased_at).total_seconds(), ctx.project.lease_seconds))
            import orjson

            annotation_id = conn.execute(
                text(
                    "INSERT INTO annotation (project_id, item_id, assignment_id, worker_id, result,"
                    " schema_version, client_submission_id, started_at, submitted_at,"
                    " active_seconds) VALUES (:p, :i, :a, :w, :r, :v, :k, :s, :now, :act)"
                    " RETURNING id"
                ),
                {
                    "p": ctx.project.id,
                    "i": ctx.item_id,
                    "a": ctx.assignment_id,
                    "w": actor.user_id,
                    "r": orjson.dumps(clean).decode(),
                    "v": ctx.project.schema_version,
                    "k": key,
                    "s": _db_time(conn, ctx.leased_at),
                    "now": _db_time(conn, now),
                    "act": active,
                },
            ).scalar_one()
            return Submission(annotation_id, ctx.assignment_id, ctx.item_id, now, False)
    except IntegrityError:
        with db.engine.connect() as conn:
            previous = _existing(conn, ctx, actor.user_id, key)
        if previous is None:
            raise Conflict("this item was already submitted", code="already_submitted") from None
        return _replay(previous, clean)


_compiled: dict[tuple[int, int], Any] = {}


def validate_for_project(project: ProjectRow, result: Any, payload: dict[str, Any]) -> Any:
    """Check a result against the project's schema (parsed once per schema version)."""
    from datadam.schema import parse_schema, validate_result

    key = (project.id, project.schema_version)
    schema = _compiled.get(key)
    if schema is None:
        schema = parse_schema(_load_json(project.schema))
        _compiled[key] = schema
    return validate_result(schema, result, payload)
