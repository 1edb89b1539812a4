"""Who gets which item next: the overlap-safe assignment engine.

Rules (issue "platform core"):
- a worker is offered an item they have never been assigned (so never one they labeled,
  skipped or let expire), whose submitted plus live assignments are fewer than the overlap;
- items closest to completion come first, then import order;
- asking again while holding a live lease returns the same assignment (one live lease per
  worker and project, a partial unique index since migration 0008; the transactional path on
  PostgreSQL also serialises one worker's concurrent asks with an advisory lock, SQLite does so
  with its single writer);
- an abandoned lease expires and its slot returns to the pool. The worker's own expired lease
  is ended as soon as they ask again; other workers' expired leases are reaped at most every
  `REAP_EVERY_S` seconds per project and process.

Correctness under concurrency does not rest on an isolation level. `item.n_taken` (submitted
plus live assignments) is only ever raised by a conditional UPDATE (`n_taken < overlap`), which
the database applies atomically: SQLite inside a `BEGIN IMMEDIATE` transaction (one writer at a
time), PostgreSQL after locking the row with `FOR UPDATE SKIP LOCKED`. `UNIQUE(item_id,
worker_id)` on assignments and annotations stands behind both.

The candidate scan is bounded: per fill level (n_taken = overlap-1 down to 0) at most `WINDOW`
items in id order are looked at, so a lone worker facing thousands of their own half-finished
items does not make next-task slower over time. Only when every window holds nothing for the
worker does an unbounded scan run.

Speed: this is the hot path of every worker, so the statements are written by hand, with
`:name` parameters translated once per dialect, and each operation is a conversation
(`storage.conversation`) that blocking code and the server's event loop run alike. The
candidate scan and the claim are one statement; on PostgreSQL the claim, the new assignment
and the item's payload are one round trip, and `own_or_claim_sql` adds the worker's own leases
to it for the server's autocommit fast path (`assignment.loop`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from datadam.domain.enums import AssignmentStatus, Stage
from datadam.storage.conversation import Rows, Statement, Steps, ask
from datadam.storage.types import utcnow

WINDOW = 16  # per fill level; 64 meant 4x the NOT-SEEN probes and ~6% less SQLite throughput
# PostgreSQL: unseen candidates kept per claim, more than the other claims that can hold one
# row lock each at a time (the server's pool of 8 connections)
CANDIDATES = 12
REAP_BATCH = 200
REAP_EVERY_S = 2.0
FLOOR_EVERY_S = 1.0
ADVISORY_NAMESPACE = 7301  # pg_advisory_xact_lock(namespace, worker id): one asker per worker

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
    payload: Any = None  # the item's payload when the claim already read it
    media_key: str | None = None


_last_reap: dict[int, float] = {}
# PostgreSQL, per project: (when it was read, the lowest id of an item at fill level 0). An
# item leaves level 0 for good once taken, and its old entry in `ix_item_queue` stays behind
# as a dead entry until the table is vacuumed; the level-0 window starts at this floor instead
# of stepping over all of them on every claim (29 index pages after 12,000 labels, growing).
# Read again every FLOOR_EVERY_S, and forgotten when this process gives a slot back; an item
# that another process puts back at level 0 below the floor waits at most that long, and the
# unbounded scan, which has no floor, still finds it before anyone is told the queue is empty.
_floors: dict[int, tuple[float, int]] = {}
# `ORDER BY id LIMIT 1`, not min(id): PostgreSQL reads all of the level's index entries for
# the aggregate (440 ms on 1M items) but stops at the first live one for the limit.
_FLOOR = (
    "SELECT COALESCE((SELECT id FROM item WHERE project_id = :p AND stage = :stage "
    "AND n_taken = 0 ORDER BY id LIMIT 1), (SELECT max(id) FROM item) + 1, 0)"
)


def level0_floor(dialect: str, project_id: int) -> Steps[int]:
    """The id the level-0 window starts from (0 on SQLite, which updates index entries in
    place and leaves no dead ones behind)."""
    if dialect != "postgresql":
        return 0
    now = time.monotonic()
    known = _floors.get(project_id)
    if known is not None and now - known[0] < FLOOR_EVERY_S:
        return known[1]
    found = yield from ask(_FLOOR, {"p": project_id, "stage": _LABELING})
    floor = int(found.rows[0][0])
    _floors[project_id] = (now, floor)
    return floor


def _give_back(item_id: int) -> Steps[None]:
    """Give an item's slot back; it may now be at level 0 below a floor (see `_floors`)."""
    yield from ask(_GIVE_BACK, {"i": item_id})
    _floors.clear()


_OWN_LEASES = (
    "SELECT id, item_id, leased_at, expires_at FROM assignment "
    "WHERE worker_id = :w AND project_id = :p AND status = :active ORDER BY id"
)
_END_LEASE = (
    "UPDATE assignment SET status = 'expired', finished_at = :now "
    "WHERE id = :a AND status = :active RETURNING item_id"
)
_GIVE_BACK = "UPDATE item SET n_taken = n_taken - 1 WHERE id = :i AND n_taken > 0"


def own_leases_statement(project_id: int, worker_id: int) -> Statement:
    return _OWN_LEASES, {"w": worker_id, "p": project_id, "active": _ACTIVE}


def live_lease_from(dialect: str, project_id: int, own: Rows) -> Steps[Lease | None]:
    """The worker's live lease in the project from `own_leases_statement`'s answer, ending
    any of theirs that ran out of time."""
    now = utcnow()
    live = None
    for assignment_id, item_id, leased_at, expires_at in own.rows:
        expires_at = aware(expires_at)
        if expires_at > now and live is None:
            live = Lease(assignment_id, item_id, project_id, aware(leased_at), expires_at, True)
        elif expires_at <= now:
            yield from _end_lease(dialect, assignment_id, now)
    return live


def _end_lease(dialect: str, assignment_id: int, now: datetime) -> Steps[None]:
    ended = yield from ask(
        _END_LEASE, {"a": assignment_id, "now": db_time(dialect, now), "active": _ACTIVE}
    )
    if ended.rows:
        yield from _give_back(ended.rows[0][0])


def reap_expired(dialect: str, *, project_id: int, force: bool = False) -> Steps[int]:
    """Expire leases past their time and give their slots back. Returns how many."""
    now_mono = time.monotonic()
    if not force and not reap_due(project_id):
        return 0
    _last_reap[project_id] = now_mono
    now = db_time(dialect, utcnow())
    due = yield from ask(
        "SELECT id FROM assignment WHERE project_id = :p AND status = :active "
        "AND expires_at <= :now ORDER BY expires_at LIMIT :n",
        {"p": project_id, "active": _ACTIVE, "now": now, "n": REAP_BATCH},
    )
    given_back = 0
    for (assignment_id,) in due.rows:
        ended = yield from ask(_END_LEASE, {"a": assignment_id, "now": now, "active": _ACTIVE})
        if ended.rows:
            yield from _give_back(ended.rows[0][0])
            given_back += 1
    return given_back


_NOT_SEEN = "NOT EXISTS (SELECT 1 FROM assignment a WHERE a.item_id = c.id AND a.worker_id = :w)"
# PostgreSQL turns NOT EXISTS into an anti-join, and with a fresh project's stale statistics it
# read all of the worker's assignments once per candidate through the worker index (1.4 ms per
# claim after 250 labels, growing with every label). A scalar subquery stays a per-candidate
# probe, and `worker_id + 0` leaves UNIQUE(item_id, worker_id) as its only usable index,
# whatever the statistics say.
_NOT_SEEN_PG = (
    "(SELECT 1 FROM assignment a WHERE a.item_id = c.id AND a.worker_id + 0 = :w LIMIT 1) IS NULL"
)


@cache
def _pick_sql(dialect: str, overlap: int, bounded: bool) -> str:
    """The unseen candidates with room: per fill level a window, or (unbounded) all."""
    if bounded:
        floor = " AND id >= :floor" if dialect == "postgresql" else ""  # see `_floors`
        windows = " UNION ALL ".join(
            f"SELECT * FROM (SELECT id, n_taken FROM item WHERE project_id = :p "  # noqa: S608
            f"AND stage = :stage AND n_taken = {level}{floor if level == 0 else ''} "
            f"ORDER BY id LIMIT :n) w{level}"
            for level in range(overlap - 1, -1, -1)
        )
        source = f"({windows}) c"
    else:
        source = (
            "(SELECT id, n_taken FROM item WHERE project_id = :p AND stage = :stage "
            "AND n_taken < :overlap) c"
        )
    # Built from constants and integer levels only; values are always bound parameters.
    if dialect == "postgresql" and bounded:
        # The windows come in order of preference (fullest level first, then id), and the
        # scan stops at the first CANDIDATES unseen ones, the best of them: one NOT-SEEN
        # probe per candidate kept rather than per window item (48 with overlap 3).
        return f"SELECT c.id FROM {source} WHERE {_NOT_SEEN_PG} LIMIT {CANDIDATES}"  # noqa: S608
    not_seen = _NOT_SEEN_PG if dialect == "postgresql" else _NOT_SEEN
    return f"SELECT c.id FROM {source} WHERE {not_seen}"  # noqa: S608


def _best_candidate_pg(overlap: int, bounded: bool, skip_locked: bool = True) -> str:
    """PostgreSQL: the best candidate's id, its row locked. `= ANY(ARRAY(pick))` makes the
    candidates one sub-plan run once. With `IN (pick)` and stale table statistics (a fresh
    project), PostgreSQL re-ran the windows for every labeling item of the project: 160 ms
    per claim on 500 items."""
    lock = "FOR UPDATE SKIP LOCKED" if skip_locked else "FOR UPDATE"
    pick = _pick_sql("postgresql", overlap, bounded)
    return (
        f"SELECT i.id FROM item i WHERE i.id = ANY(ARRAY({pick})) AND i.n_taken < :overlap "  # noqa: S608
        f"AND i.stage = :stage ORDER BY i.n_taken DESC, i.id LIMIT 1 {lock}"
    )


@cache
def _claim_sql(dialect: str, overlap: int, bounded: bool, skip_locked: bool = True) -> str:
    """One statement: pick the best unseen candidate with room and raise its `n_taken`."""
    if dialect == "postgresql":
        return (
            "WITH claimed AS (UPDATE item SET n_taken = n_taken + 1 WHERE id = ("  # noqa: S608
            f"{_best_candidate_pg(overlap, bounded, skip_locked)}"
            ") RETURNING id, payload, media_key), "
            "made AS (INSERT INTO assignment (project_id, item_id, worker_id, status, leased_at,"
            " expires_at) SELECT :p, id, :w, :active, :now, :exp FROM claimed"
            " RETURNING id, item_id)"
            " SELECT made.id, made.item_id, claimed.payload, claimed.media_key "
            "FROM made JOIN claimed ON claimed.id = made.item_id"
        )
    return (
        "UPDATE item SET n_taken = n_taken + 1 WHERE id = ("  # noqa: S608
        f"{_pick_sql(dialect, overlap, bounded)} ORDER BY c.n_taken DESC, c.id LIMIT 1"
        ") AND n_taken < :overlap AND stage = :stage RETURNING id, payload, media_key"
    )


@cache
def own_or_claim_sql(overlap: int) -> str:
    """PostgreSQL, one autocommit statement: end the worker's expired leases, and return their
    live lease (`reused` true) or else claim the best unseen item of the bounded windows and
    lease it (`reused` false). No row: nothing in the windows, ask the transactional path.

    It takes no worker lock: two simultaneous asks of one worker are kept to one lease by the
    partial unique index `uq_assignment_live_worker`, which fails the second. The lease commits
    without waiting for the WAL flush, as in `lock_worker_sql`.
    """
    ctes, answer = own_or_claim_parts(overlap, "true")
    return f"WITH {ctes} {answer}"  # noqa: S608 - constants only


@cache
def own_or_claim_parts(overlap: int, guard: str) -> tuple[str, str]:
    """`own_or_claim_sql` as its common table expressions and its answer, each write done
    only where the SQL condition `guard` (a constant) holds, for a statement that reads
    something else first (`loop.PostgresLoop`)."""
    candidate = _best_candidate_pg(overlap, True)
    ctes = (
        "ended AS (UPDATE assignment SET status = 'expired', finished_at = :now "  # noqa: S608
        "WHERE worker_id = :w AND project_id = :p AND status = :active AND expires_at <= :now "
        f"AND {guard} RETURNING item_id), "
        "given AS (UPDATE item SET n_taken = n_taken - 1 "
        "WHERE id IN (SELECT item_id FROM ended) AND n_taken > 0), "
        "own AS (SELECT a.id, a.item_id, a.leased_at, a.expires_at FROM assignment a, "
        "(SELECT set_config('synchronous_commit', 'off', true)) cfg "
        "WHERE a.worker_id = :w AND a.project_id = :p AND a.status = :active "
        f"AND a.expires_at > :now AND {guard} ORDER BY a.id LIMIT 1), "
        f"claimed AS (UPDATE item SET n_taken = n_taken + 1 WHERE id = ({candidate}) "
        f"AND NOT EXISTS (SELECT 1 FROM own) AND {guard} RETURNING id, payload, media_key), "
        "made AS (INSERT INTO assignment (project_id, item_id, worker_id, status, leased_at,"
        " expires_at) SELECT :p, id, :w, :active, :now, :exp FROM claimed RETURNING id, item_id)"
    )
    answer = (
        "SELECT made.id, made.item_id, claimed.payload, claimed.media_key, "
        "CAST(:now AS timestamptz), CAST(:exp AS timestamptz), false "
        "FROM made JOIN claimed ON claimed.id = made.item_id "
        "UNION ALL SELECT own.id, own.item_id, i.payload, i.media_key, own.leased_at, "
        "own.expires_at, true FROM own JOIN item i ON i.id = own.item_id"
    )
    return ctes, answer


_INSERT_ASSIGNMENT = (
    "INSERT INTO assignment (project_id, item_id, worker_id, status, leased_at, expires_at)"
    " VALUES (:p, :i, :w, :active, :now, :exp) RETURNING id"
)


def _claim(
    dialect: str, params: dict[str, Any], overlap: int, bounded: bool, **kw: Any
) -> Steps[Any]:
    got = yield from ask(_claim_sql(dialect, overlap, bounded, **kw), params)
    row = got.first()
    if row is None or dialect == "postgresql":
        return row
    item_id, payload, media_key = row
    made = yield from ask(_INSERT_ASSIGNMENT, params | {"i": item_id})
    return made.rows[0][0], item_id, payload, media_key


def lock_worker_sql(dialect: str) -> str:
    """A FROM-clause fragment for next-task's first statement on PostgreSQL, else nothing.

    It serialises one worker's concurrent asks (an advisory lock on the worker id, held to the
    end of the transaction), and commits the lease without waiting for the WAL flush: a lease
    lost in a database crash is harmless (the whole transaction is lost, counters included, and
    the worker simply asks again), while submissions keep the synchronous commit.
    """
    if dialect == "postgresql":
        return f" CROSS JOIN ({_LOCK_WORKER}) lk"
    return ""


_LOCK_WORKER = (  # the namespace is a module constant
    f"SELECT pg_advisory_xact_lock({ADVISORY_NAMESPACE}, CAST(:w AS integer)),"  # noqa: S608
    " set_config('synchronous_commit', 'off', true)"
)


def reap_due(project_id: int) -> bool:
    """Whether the next ask in the project should reap other workers' expired leases."""
    return time.monotonic() - _last_reap.get(project_id, -1e9) >= REAP_EVERY_S


def lease_new_item(dialect: str, *, project: Any, worker_id: int) -> Steps[Lease | None]:
    """Inside a write transaction: a new lease for a worker known to hold no live lease in an
    active project, or None. On PostgreSQL the caller holds the worker's advisory lock (see
    `lock_worker_sql`)."""
    yield from reap_expired(dialect, project_id=project.id)
    now = utcnow()
    expires = now + timedelta(seconds=project.lease_seconds)
    params = {
        "floor": (yield from level0_floor(dialect, project.id)),
        "p": project.id,
        "w": worker_id,
        "stage": _LABELING,
        "overlap": project.overlap,
        "n": WINDOW,
        "active": _ACTIVE,
        "now": db_time(dialect, now),
        "exp": db_time(dialect, expires),
    }
    row = yield from _claim(dialect, params, project.overlap, True)
    if row is None:
        row = yield from _claim(dialect, params, project.overlap, False)
    if row is None and dialect == "postgresql":
        # Every candidate may have been locked by another asker for an instant: wait once
        # for them rather than telling this worker that nothing is left.
        row = yield from _claim(dialect, params, project.overlap, False, skip_locked=False)
    if row is None:
        return None
    assignment_id, item_id, payload, media_key = row
    return Lease(assignment_id, item_id, project.id, now, expires, False, payload, media_key)


def release_lease(dialect: str, *, assignment_id: int, worker_id: int, reason: str) -> Steps[bool]:
    """Skip: end a live lease and give the slot back. False when it was not live."""
    ended = yield from ask(
        "UPDATE assignment SET status = 'skipped', skip_reason = :r, finished_at = :now "
        "WHERE id = :a AND worker_id = :w AND status = :active RETURNING item_id",
        {
            "a": assignment_id,
            "w": worker_id,
            "r": reason,
            "now": db_time(dialect, utcnow()),
            "active": _ACTIVE,
        },
    )
    if not ended.rows:
        return False
    yield from _give_back(ended.rows[0][0])
    return True


def db_time(dialect: str, value: datetime) -> Any:
    """Datetimes as each driver stores them: naive UTC text for SQLite, aware for PostgreSQL."""
    if dialect == "sqlite":
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def aware(value: Any) -> datetime:
    """A stored time as aware UTC (SQLite hands back naive text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
