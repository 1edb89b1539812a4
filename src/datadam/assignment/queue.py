"""Who gets which item next: the overlap-safe assignment engine.

Rules (issue "platform core"):
- a worker is offered an item they have never been assigned (so never one they labeled,
  skipped or let expire), whose submitted plus live assignments are fewer than the overlap;
- items closest to completion come first, then import order;
- asking again while holding a live lease returns the same assignment;
- an abandoned lease expires and its slot returns to the pool.

Correctness under concurrency does not rest on an isolation level. `item.n_taken` (submitted
plus live assignments) is only ever raised by a conditional UPDATE (`n_taken < overlap`), which
the database applies atomically: SQLite inside a `BEGIN IMMEDIATE` transaction (one writer at a
time), PostgreSQL after locking the row with `FOR UPDATE SKIP LOCKED`. `UNIQUE(item_id,
worker_id)` on assignments and annotations stands behind both.

The candidate scan is bounded: per fill level (n_taken = overlap-1 down to 0) at most `WINDOW`
items in id order are looked at, so a lone worker facing thousands of their own half-finished
items does not make next-task slower over time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text

from datadam.domain.enums import AssignmentStatus, ProjectStatus, Stage
from datadam.storage.types import utcnow

WINDOW = 64
REAP_BATCH = 200
REAP_EVERY_S = 2.0

_LABELING = Stage.LABELING.value
_ACTIVE = AssignmentStatus.ACTIVE.value


@dataclass(frozen=True)
class Lease:
    assignment_id: int
    item_id: int
    project_id: int
    leased_at: datetime
    expires_at: datetime
    reused: bool


_last_reap: dict[int, float] = {}


def find_live_lease(conn: Connection, *, project_id: int, worker_id: int) -> Lease | None:
    row = conn.execute(
        text(
            "SELECT id, item_id, leased_at, expires_at FROM assignment "
            "WHERE worker_id = :w AND project_id = :p AND status = :active "
            "ORDER BY id LIMIT 1"
        ),
        {"w": worker_id, "p": project_id, "active": _ACTIVE},
    ).first()
    if row is None:
        return None
    expires_at = _aware(row.expires_at)
    if expires_at <= utcnow():
        return None
    return Lease(row.id, row.item_id, project_id, _aware(row.leased_at), expires_at, True)


def reap_expired(conn: Connection, *, project_id: int, force: bool = False) -> int:
    """Expire leases past their time and give their slots back. Returns how many."""
    now_mono = time.monotonic()
    if not force and now_mono - _last_reap.get(project_id, -1e9) < REAP_EVERY_S:
        return 0
    _last_reap[project_id] = now_mono
    now = _db_time(conn, utcnow())
    ids = [
        r[0]
        for r in conn.execute(
            text(
                "SELECT id FROM assignment WHERE project_id = :p AND status = :active "
                "AND expires_at <= :now ORDER BY expires_at LIMIT :n"
            ),
            {"p": project_id, "active": _ACTIVE, "now": now, "n": REAP_BATCH},
        )
    ]
    if not ids:
        return 0
    item_ids = [
        r[0]
        for r in conn.execute(
            text(
                "UPDATE assignment SET status = 'expired', finished_at = :now "
                "WHERE id IN :ids AND status = :active RETURNING item_id"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": ids, "now": now, "active": _ACTIVE},
        )
    ]
    if item_ids:
        conn.execute(
            text("UPDATE item SET n_taken = n_taken - 1 WHERE id = :i AND n_taken > 0"),
            [{"i": i} for i in item_ids],
        )
    return len(item_ids)


def _candidates(conn: Connection, *, project_id: int, worker_id: int, level: int) -> list[int]:
    ids = [
        r[0]
        for r in conn.execute(
            text(
                "SELECT id FROM item WHERE project_id = :p AND stage = :stage AND n_taken = :k "
                "ORDER BY id LIMIT :n"
            ),
            {"p": project_id, "stage": _LABELING, "k": level, "n": WINDOW},
        )
    ]
    if not ids:
        return []
    seen = {
        r[0]
        for r in conn.execute(
            text(
                "SELECT item_id FROM assignment WHERE worker_id = :w AND item_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"w": worker_id, "ids": ids},
        )
    }
    return [i for i in ids if i not in seen]


def _fallback_candidates(
    conn: Connection, *, project_id: int, worker_id: int, overlap: int
) -> list[int]:
    """The unbounded scan, used only when every bounded window was the worker's own items."""
    return [
        r[0]
        for r in conn.execute(
            text(
                "SELECT i.id FROM item i WHERE i.project_id = :p AND i.stage = :stage "
                "AND i.n_taken < :overlap AND NOT EXISTS (SELECT 1 FROM assignment a "
                "WHERE a.item_id = i.id AND a.worker_id = :w) ORDER BY i.n_taken DESC, i.id "
                "LIMIT :n"
            ),
            {"p": project_id, "stage": _LABELING, "overlap": overlap, "w": worker_id, "n": WINDOW},
        )
    ]


def _claim(conn: Connection, candidates: list[int], *, overlap: int) -> int | None:
    """Raise n_taken on the first candidate that still has room; None if all are full."""
    if conn.dialect.name == "postgresql":
        row = conn.execute(
            text(
                "UPDATE item SET n_taken = n_taken + 1 WHERE id = ("
                "SELECT id FROM item WHERE id = ANY(:ids) AND n_taken < :overlap "
                "AND stage = :stage ORDER BY n_taken DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED"
                ") RETURNING id"
            ),
            {"ids": candidates, "overlap": overlap, "stage": _LABELING},
        ).first()
        return None if row is None else row[0]
    for item_id in candidates:
        done = conn.execute(
            text(
                "UPDATE item SET n_taken = n_taken + 1 "
                "WHERE id = :i AND n_taken < :overlap AND stage = :stage"
            ),
            {"i": item_id, "overlap": overlap, "stage": _LABELING},
        )
        if done.rowcount == 1:
            return item_id
    return None


def lease_next_item(conn: Connection, *, project: Any, worker_id: int) -> Lease | None:
    """Inside a write transaction: the worker's live lease, or a new one, or None."""
    if project.status != ProjectStatus.ACTIVE.value:
        return None
    live = find_live_lease(conn, project_id=project.id, worker_id=worker_id)
    if live is not None:
        return live
    reap_expired(conn, project_id=project.id)
    item_id = None
    for level in range(project.overlap - 1, -1, -1):
        candidates = _candidates(conn, project_id=project.id, worker_id=worker_id, level=level)
        if candidates:
            item_id = _claim(conn, candidates, overlap=project.overlap)
            if item_id is not None:
                break
    if item_id is None:
        candidates = _fallback_candidates(
            conn, project_id=project.id, worker_id=worker_id, overlap=project.overlap
        )
        item_id = _claim(conn, candidates, overlap=project.overlap) if candidates else None
    if item_id is None:
        return None
    now = utcnow()
    expires = now + timedelta(seconds=project.lease_seconds)
    assignment_id = conn.execute(
        text(
            "INSERT INTO assignment (project_id, item_id, worker_id, status, leased_at, expires_at)"
            " VALUES (:p, :i, :w, :active, :now, :exp) RETURNING id"
        ),
        {
            "p": project.id,
            "i": item_id,
            "w": worker_id,
            "active": _ACTIVE,
            "now": _db_time(conn, now),
            "exp": _db_time(conn, expires),
        },
    ).scalar_one()
    return Lease(assignment_id, item_id, project.id, now, expires, False)


def release_lease(conn: Connection, *, assignment_id: int, worker_id: int, reason: str) -> bool:
    """Skip: end a live lease and give the slot back. False when it was not live."""
    row = conn.execute(
        text(
            "UPDATE assignment SET status = 'skipped', skip_reason = :r, finished_at = :now "
            "WHERE id = :a AND worker_id = :w AND status = :active RETURNING item_id"
        ),
        {
            "a": assignment_id,
            "w": worker_id,
            "r": reason,
            "now": _db_time(conn, utcnow()),
            "active": _ACTIVE,
        },
    ).first()
    if row is None:
        return False
    conn.execute(
        text("UPDATE item SET n_taken = n_taken - 1 WHERE id = :i AND n_taken > 0"), {"i": row[0]}
    )
    return True


def _db_time(conn: Connection, value: datetime) -> Any:
    """Datetimes as each driver stores them: naive UTC text for SQLite, aware for PostgreSQL."""
    if conn.dialect.name == "sqlite":
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
