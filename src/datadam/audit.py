"""The audit trail: every state change appended as a hash-chained event.

Each event's hash covers its canonical content and the previous event's hash, so editing,
removing or reordering any stored event breaks the chain at that event (`verify_events`).
Appends are serialised (SQLite's single writer; a transaction-scoped advisory lock on
PostgreSQL) and `UNIQUE(prev_hash)` forbids a fork even if that lock were bypassed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from datadam.storage.tables import Event
from datadam.storage.types import utcnow

GENESIS = "0" * 64
_EVENT_LOCK_KEY = 0x64616D01


def canonical_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_digest(event: Event) -> str:
    """SHA-256 over a canonical serialisation (sorted keys, fixed time format)."""
    body = {
        "at": canonical_time(event.at),
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "organization_id": event.organization_id,
        "project_id": event.project_id,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _EVENT_LOCK_KEY})


def record_event(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    organization_id: int | None = None,
    project_id: int | None = None,
) -> Event:
    """Append one event inside the caller's write transaction (it commits or rolls back with it)."""
    _lock_chain(session)
    head = session.execute(select(Event.hash).order_by(Event.id.desc()).limit(1)).scalar()
    event = Event(
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        organization_id=organization_id,
        project_id=project_id,
        before=_jsonable(before),
        after=_jsonable(after),
        prev_hash=head or GENESIS,
    )
    event.hash = event_digest(event)
    session.add(event)
    session.flush()
    return event


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str))


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    message: str


def verify_events(session: Session, *, batch: int = 5000) -> Iterator[ChainProblem]:
    """Walk the chain in id order; yield the first problem found (and stop)."""
    expected_prev = GENESIS
    last_id = 0
    while True:
        rows = (
            session.execute(select(Event).where(Event.id > last_id).order_by(Event.id).limit(batch))
            .scalars()
            .all()
        )
        if not rows:
            return
        for event in rows:
            if event.prev_hash != expected_prev:
                yield ChainProblem(
                    event.id, f"event {event.id}: does not follow the previous event"
                )
                return
            if event_digest(event) != event.hash:
                yield ChainProblem(
                    event.id, f"event {event.id}: stored hash does not match contents"
                )
                return
            expected_prev = event.hash
            last_id = event.id
