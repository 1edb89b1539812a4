"""The audit trail as auditors read it: filter, page, export and verify the event log.

Readers are the program office and the quality agency (oversight); the trail is read-only
for everyone, auditors included. Actors appear by their pseudonym, never their name or
e-mail. Pages are keyset-paginated on the event id, newest first, so a page costs the same
at any depth and events appended meanwhile never shift a page.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import sees_all_projects
from datadam.audit import verify_events
from datadam.errors import InputError, NotAllowed
from datadam.storage.tables import Event, User

EXPORT_BATCH = 1000
EXPORT_COLUMNS = (
    "id",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "organization_id",
    "project_id",
    "before",
    "after",
    "prev_hash",
    "hash",
)


def require_trail_reader(actor: Actor) -> None:
    if not sees_all_projects(actor):
        raise NotAllowed("only the program office and the quality agency read the audit trail")


@dataclass(frozen=True)
class TrailFilter:
    """What to show. Every field is optional; dates are whole UTC days, both inclusive."""

    actor: str | None = None  # a pseudonym
    action: str | None = None  # exact, or a prefix ending in "." (e.g. "project.")
    object_type: str | None = None
    object_id: str | None = None
    project_id: int | None = None
    organization_id: int | None = None
    since: date | None = None
    until: date | None = None

    def key(self) -> str:
        """A stable text of the filter, so a cursor is only valid for the same filter."""
        return json.dumps(
            {k: (str(v) if v is not None else None) for k, v in self.__dict__.items()},
            sort_keys=True,
        )

    def check(self) -> None:
        for name in ("actor", "action", "object_type", "object_id"):
            value = getattr(self, name)
            if value is not None and len(value) > 100:
                raise InputError(f"{name} must be at most 100 characters", field=name)
        if self.since and self.until and self.since > self.until:
            raise InputError("the start date is after the end date", field="since")


def _query(session: Session, flt: TrailFilter) -> Any:
    query = select(Event, User.pseudonym).outerjoin(User, User.id == Event.actor_id)
    if flt.actor:
        query = query.where(User.pseudonym == flt.actor)
    if flt.action:
        if flt.action.endswith("."):
            query = query.where(Event.action.startswith(flt.action, autoescape=True))
        else:
            query = query.where(Event.action == flt.action)
    if flt.object_type:
        query = query.where(Event.object_type == flt.object_type)
    if flt.object_id:
        object_id = flt.object_id
        if object_id.startswith("w_"):  # a person, named by pseudonym as the trail shows them
            found = session.execute(select(User.id).where(User.pseudonym == object_id)).scalar()
            object_id = str(found) if found is not None else object_id
        query = query.where(Event.object_id == object_id)
    if flt.project_id is not None:
        query = query.where(Event.project_id == flt.project_id)
    if flt.organization_id is not None:
        query = query.where(Event.organization_id == flt.organization_id)
    if flt.since:
        query = query.where(Event.at >= datetime.combine(flt.since, time(), tzinfo=UTC))
    if flt.until:
        end = datetime.combine(flt.until + timedelta(days=1), time(), tzinfo=UTC)
        query = query.where(Event.at < end)
    return query


# Keys of `before`/`after` that hold a person's user id; readers see the pseudonym instead.
PERSON_KEYS = frozenset(
    {
        "user_id",
        "worker_id",
        "rework_worker_id",
        "inspector_id",
        "author_id",
        "created_by",
        "appeal_resolved_by",
    }
)


def _person_ids(event: Event) -> set[int]:
    found = set()
    if event.object_type == "user" and event.object_id.isdigit():
        found.add(int(event.object_id))
    for side in (event.before, event.after):
        if isinstance(side, dict):
            found |= {v for k, v in side.items() if k in PERSON_KEYS and isinstance(v, int)}
    return found


def _pseudonyms(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.pseudonym).where(User.id.in_(sorted(ids))))
    return {int(i): p for i, p in rows}


def _masked(side: dict[str, Any] | None, names: dict[int, str]) -> dict[str, Any] | None:
    if not isinstance(side, dict):
        return side
    return {
        k: (names.get(v, "?") if k in PERSON_KEYS and isinstance(v, int) else v)
        for k, v in side.items()
    }


def public_event(
    event: Event, actor_pseudonym: str | None, names: dict[int, str] | None = None
) -> dict[str, Any]:
    """An event as readers see it: people appear by pseudonym, never by user id (the stored
    event, which the hash covers, keeps the id; `verify` checks the stored form)."""
    names = names or {}
    object_id = event.object_id
    if event.object_type == "user" and object_id.isdigit():
        object_id = names.get(int(object_id), "?")
    return {
        "id": int(event.id),
        "at": event.at,
        "actor": actor_pseudonym,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": object_id,
        "organization_id": event.organization_id,
        "project_id": event.project_id,
        "before": _masked(event.before, names),
        "after": _masked(event.after, names),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _public_rows(session: Session, rows: Any) -> list[dict[str, Any]]:
    ids: set[int] = set()
    for event, _pseudonym in rows:
        ids |= _person_ids(event)
    names = _pseudonyms(session, ids)
    return [public_event(event, pseudonym, names) for event, pseudonym in rows]


def list_events(
    session: Session,
    actor: Actor,
    flt: TrailFilter,
    *,
    before_id: int | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int | None]:
    """One page, newest first; returns the rows and the id to continue below (or None)."""
    require_trail_reader(actor)
    flt.check()
    query = _query(session, flt).order_by(Event.id.desc()).limit(limit + 1)
    if before_id is not None:
        query = query.where(Event.id < before_id)
    rows = session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    events = _public_rows(session, rows)
    return events, (events[-1]["id"] if more and events else None)


def iter_events(session: Session, flt: TrailFilter) -> Iterator[dict[str, Any]]:
    """Every matching event, oldest first, read in batches (for exports)."""
    last = 0
    while True:
        query = _query(session, flt).where(Event.id > last).order_by(Event.id).limit(EXPORT_BATCH)
        rows = session.execute(query).all()
        if not rows:
            return
        yield from _public_rows(session, rows)
        last = int(rows[-1][0].id)


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return "" if value is None else str(value)


def _cell(value: Any) -> str:
    text = _text(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text  # spreadsheets must not run a stored value as a formula
    return text


def export_lines(rows: Iterator[dict[str, Any]], fmt: str) -> Iterator[str]:
    """The export as text chunks: `csv` (with a header) or `jsonl`."""
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row, ensure_ascii=False, sort_keys=True, default=_text) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in EXPORT_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_bad_event: int | None
    message: str


def verify_trail(session: Session, actor: Actor) -> ChainReport:
    """Walk the whole hash chain; name the first event that breaks it."""
    require_trail_reader(actor)
    problem = next(iter(verify_events(session)), None)
    count = session.execute(select(func.count()).select_from(Event)).scalar_one()
    if problem is None:
        return ChainReport(True, int(count), None, f"the chain of {count} events holds")
    return ChainReport(False, int(count), problem.event_id, problem.message)
