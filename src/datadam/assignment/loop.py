"""The worker loop on bare drivers, for a server that answers next task and submit on its
event loop: no thread-pool hop, no SQLAlchemy connection or transaction objects per call.

The rules are `assignment.service`'s own conversations (`next_task_steps`, `prepare_submission`,
`store`); only the transactions differ:

- SQLite (`SqliteLoop`): statements take tens of microseconds and writers queue on one lock
  anyway, so they run synchronously on the event loop, on connections that never wait for
  the lock: a lock held elsewhere makes the call fail at once (`Fallback`), and the caller
  runs the blocking route in the thread pool, where it waits for the lock.
- PostgreSQL (`PostgresLoop`): each statement is a network round trip, so the calls await
  psycopg's async connections from a small pool owned by the server's event loop. The pool is
  opened on first use and closed when the server shuts down.

Both raise `Fallback` for the rare calls they leave to the blocking path: an answer to a gold
question (scored with the ORM in the same transaction), and a submission that met a unique
constraint (a racing duplicate, which the blocking path answers as a replay). Every
transaction is atomic, so such a retry is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import weakref
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any, TypeVar

import orjson
from sqlalchemy.exc import IntegrityError, OperationalError

from datadam.access.actor import Actor
from datadam.access.authn import actor_from_token_rows, sha256_hex, token_actor
from datadam.assignment.queue import (
    WINDOW,
    aware,
    level0_floor,
    own_or_claim_parts,
    own_or_claim_sql,
    reap_due,
)
from datadam.assignment.service import (
    SUBMIT_PG,
    ProjectRow,
    Submission,
    Task,
    check_work,
    checked_result,
    context_from,
    context_statement,
    leased_context,
    next_task_after,
    next_task_steps,
    project_statement,
    store,
    store_params,
    submission_key,
    submit_pg_parts,
)
from datadam.domain.enums import AssignmentStatus, ProjectStatus, Stage
from datadam.errors import InputError, NotAllowed
from datadam.storage.conversation import Rows, Steps, ask, drive_async, drive_sqlite, run_async
from datadam.storage.db import Database, prepare_sqlite_connection
from datadam.storage.types import utcnow

T = TypeVar("T")
PG_POOL_SIZE = 8
CHECKPOINT_EVERY_S = 0.5
MAX_OWNERS = 100_000  # remembered token owners; forgotten all at once when full
# Leases this server gave, kept for a submit in one statement (with the item's payload, to
# validate against): about one per active worker; the oldest go first beyond this many.
MAX_LEASES = 2_000
# A worker paused by gold accuracy or not yet qualified: refused work, not a failed submit.
GATE_CODES = ("worker_paused", "qualification_required")


class Fallback(Exception):
    """Leave this call to the blocking path (see the module docstring)."""


@dataclass(frozen=True)
class Submitted:
    """A stored submission and, when asked for, the worker's next task."""

    done: Submission
    upcoming: Task | None
    next_checked: bool


@dataclass(frozen=True)
class _Stored:
    submission: Submission
    worker_id: int


class SqliteLoop:
    """The worker loop on a bare `sqlite3` connection, run on the event loop.

    As on PostgreSQL (see `PostgresLoop`), the token is checked in the same statement as the
    project or the assignment, with the owner of a token seen before taken from `owners`.

    Its connections do not checkpoint the write-ahead log themselves: copying the log back
    into the database file took about a tenth of the event loop's time under load. A
    `_Checkpointer` thread does it instead, on the machine's other core.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.owners: dict[str, int] = {}
        self._local = threading.local()
        self._checkpointer = _Checkpointer(self.db.engine.url.database or ":memory:", self)

    def close(self) -> None:
        self._checkpointer.stop.set()

    async def next_task(self, token: str, project_id: int) -> Task | None:
        token_hash = sha256_hex(token)
        owner = self.owners.get(token_hash)
        with self._connection() as conn:
            if owner is None:
                actor = drive_sqlite(conn, token_actor(token))
                _remember(self.owners, token_hash, actor.user_id)
                return _write(conn, next_task_steps("sqlite", actor, project_id))
            return _write(conn, _next_with_token("sqlite", token_hash, owner, project_id))

    async def submit(
        self, token: str, assignment_id: int, result: Any, key: str, next_in: int | None
    ) -> Submitted:
        key = submission_key(key)
        with self._connection() as conn:
            statement = _with_token("sqlite", sha256_hex(token), context_statement(assignment_id))
            actor, rows = _split_token(drive_sqlite(conn, ask(*statement)))
            ctx = context_from(actor, assignment_id, rows)
            if ctx.item_stage == Stage.GOLD.value:
                raise Fallback
            clean = drive_sqlite(conn, checked_result(self.db, ctx, result))
            done = _write(conn, store("sqlite", ctx, actor.user_id, key, clean))
            upcoming, checked = None, next_in is not None
            if next_in is not None:
                try:
                    upcoming = _write(conn, next_task_steps("sqlite", actor, next_in))
                except NotAllowed as refused:
                    if refused.code not in GATE_CODES:
                        raise
                    checked = False
            return Submitted(done, upcoming, checked)

    def _connection(self) -> Any:
        """This thread's own connection (the server's event loop has one thread), on which a
        write lock held elsewhere fails at once."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            path = self.db.engine.url.database
            conn = sqlite3.connect(path or ":memory:", timeout=0, check_same_thread=False)
            prepare_sqlite_connection(conn, 0.0)
            conn.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer.start_once()
            self._local.conn = conn
        return contextlib.nullcontext(conn)


class _Checkpointer(threading.Thread):
    """Checkpoints the SQLite write-ahead log every `CHECKPOINT_EVERY_S` seconds (PASSIVE: it
    never waits for, nor blocks, readers and writers), for the event loop's connections, which
    have automatic checkpoints turned off. It ends with the server (`SqliteLoop.close`), or when
    its loop is gone. Other connections (the blocking routes, the CLI) keep SQLite's automatic
    checkpoints, so the log is also kept short without it."""

    def __init__(self, path: str, owner: SqliteLoop) -> None:
        super().__init__(name="datadam-sqlite-checkpoint", daemon=True)
        self.path = path
        self.owner = weakref.ref(owner)
        self.stop = threading.Event()
        self._started_once = threading.Lock()

    def start_once(self) -> None:
        with self._started_once:
            if not self.is_alive() and not self.stop.is_set() and self.ident is None:
                self.start()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=1.0)
        try:
            while not self.stop.wait(CHECKPOINT_EVERY_S) and self.owner() is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()


def _next_with_token(
    dialect: str, token_hash: str, owner: int, project_id: int
) -> Steps[Task | None]:
    """Next task with the token checked in its first statement (see `PostgresLoop`)."""
    statement = _with_token(dialect, token_hash, project_statement(dialect, project_id, owner))
    actor, rows = _split_token((yield from ask(*statement)))
    if actor.user_id != owner:
        raise Fallback  # cannot happen: a token keeps its owner
    return (yield from next_task_after(dialect, actor, project_id, rows))


def _remember(owners: dict[str, int], token_hash: str, user_id: int) -> None:
    if len(owners) >= MAX_OWNERS:
        owners.clear()
    owners[token_hash] = user_id


def _write(conn: Any, steps: Steps[T]) -> T:
    """A conversation in a `BEGIN IMMEDIATE` transaction; `Fallback` when the lock is held."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        raise Fallback from err
    try:
        result = drive_sqlite(conn, steps)
        conn.execute("COMMIT")
    except BaseException as err:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(err, OperationalError | IntegrityError | sqlite3.OperationalError):
            raise Fallback from err
        raise
    return result


class PostgresLoop:
    """The worker loop on psycopg's async connections (autocommit), awaited on the event loop.

    Each round trip costs the server about 0.1 ms of CPU in psycopg, more than the database
    work of a statement, so the usual pair is two statements, each its own transaction. Both
    read the token's row (with the owner's memberships) and the project's rows (vendors and
    quality gate) in common table expressions (`_CLEARED`), and write only when those rows
    are exactly as they were when this worker was last cleared for the project by
    `check_work` (their fingerprint is kept in `cleared`) and the token is within its time:

    - next task (`_quick_next_sql`): end the worker's expired leases and return their live
      lease or lease a new item (`queue.own_or_claim_parts`). The rows come back either way;
      when they changed they are judged again, and the lease takes a second statement.
    - submit of a lease this server gave (`_QUICK_SUBMIT`, the result validated against the
      schema and item the server knows from the lease): move, count and store
      (`service.submit_pg_parts`). Otherwise, or when nothing was stored, the submit reads
      the token with the assignment's context first and stores in a second statement, which
      is where replays, late submissions and refusals are answered.

    The statements name the worker before the token is checked, so the owner comes from
    `owners`, the owners of tokens seen before (a token never changes owner); the token itself
    is checked on every call, in the same statement.

    Everything less usual runs the service's conversations inside a transaction: a project
    with quality settings (gold, pauses, qualification), a reap that is due, windows with
    nothing for the worker; or goes to the blocking path (`Fallback`).
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.owners: dict[str, int] = {}
        # (token hash, project id) -> (fingerprint of the rows that cleared the worker, the
        # project as those rows told); forgotten all at once when full
        self.cleared: dict[tuple[str, int], tuple[str, ProjectRow]] = {}
        # assignment id -> (token hash, task) of leases given by this server, oldest first
        self.leases: dict[int, tuple[str, Task]] = {}
        self._pool: Any = None
        self._opening: asyncio.Lock | None = None

    async def next_task(self, token: str, project_id: int) -> Task | None:
        pool = await self._open()
        token_hash = sha256_hex(token)
        owner = self.owners.get(token_hash)
        async with pool.connection() as conn:
            if owner is None:
                owner = (await drive_async(conn, token_actor(token))).user_id
                _remember(self.owners, token_hash, owner)
            return await self._next_quick(conn, token_hash, owner, project_id)

    def _hold(self, token_hash: str, task: Task | None) -> Task | None:
        """Remember a lease this server gave, for a submit in one statement."""
        if task is not None:
            if len(self.leases) >= MAX_LEASES:
                del self.leases[next(iter(self.leases))]  # the oldest
            self.leases[task.assignment_id] = (token_hash, task)
        return task

    async def submit(
        self, token: str, assignment_id: int, result: Any, key: str, next_in: int | None
    ) -> Submitted:
        key = submission_key(key)
        pool = await self._open()
        token_hash = sha256_hex(token)
        async with pool.connection() as conn:
            done = await self._submit_quick(conn, token_hash, assignment_id, result, key)
            if done is None:
                done = await self._submit_read_first(conn, token_hash, assignment_id, result, key)
            upcoming, checked = None, next_in is not None
            if next_in is not None:
                try:
                    upcoming = await self._next_quick(conn, token_hash, done.worker_id, next_in)
                except NotAllowed as refused:
                    if refused.code not in GATE_CODES:
                        raise
                    checked = False
            return Submitted(done.submission, upcoming, checked)

    async def _submit_quick(
        self, conn: Any, token_hash: str, assignment_id: int, result: Any, key: str
    ) -> _Stored | None:
        """One statement for a lease this server gave to a worker still cleared for its
        project (see above); None when that does not apply or nothing was stored."""
        held = self.leases.pop(assignment_id, None)
        owner = self.owners.get(token_hash)
        if held is None or held[0] != token_hash or owner is None:
            return None
        task = held[1]
        known = self.cleared.get((token_hash, task.project_id))
        if known is None:
            return None
        fingerprint, project = known
        ctx = leased_context(assignment_id, task.item_id, project, task.leased_at, task.payload)
        try:
            clean = await drive_async(conn, checked_result(self.db, ctx, result))
        except InputError:
            return None  # answered by the usual path, which checks the token first
        now = utcnow()
        params = store_params("postgresql", ctx, owner, key, clean, now)
        params |= {"h": token_hash, "fp": fingerprint}
        try:
            found = await run_async(conn, _QUICK_SUBMIT, params)
        except IntegrityError as err:
            raise Fallback from err  # a racing duplicate: answered as a replay there
        stored = found.rows[0][0]
        if stored is None:
            return None  # the rows changed, a replay, or a late submission: nothing written
        return _Stored(Submission(stored, assignment_id, task.item_id, now, False), owner)

    async def _submit_read_first(
        self, conn: Any, token_hash: str, assignment_id: int, result: Any, key: str
    ) -> _Stored:
        """Two statements: the token with the assignment's context, then the store."""
        found = await run_async(
            conn, *_with_token("postgresql", token_hash, context_statement(assignment_id))
        )
        actor, rows = _split_token(found)
        ctx = context_from(actor, assignment_id, rows)
        if ctx.item_stage == Stage.GOLD.value:
            raise Fallback
        clean = await drive_async(conn, checked_result(self.db, ctx, result))
        now = utcnow()
        params = store_params("postgresql", ctx, actor.user_id, key, clean, now)
        try:
            stored = (await run_async(conn, SUBMIT_PG, params)).first()
        except IntegrityError as err:
            raise Fallback from err  # a racing duplicate: answered as a replay there
        if stored is None:
            raise Fallback  # nothing changed: a replay, or a late submission
        done = Submission(stored[0], ctx.assignment_id, ctx.item_id, now, False)
        return _Stored(done, actor.user_id)

    async def _next_quick(
        self, conn: Any, token_hash: str, owner: int, project_id: int
    ) -> Task | None:
        """Next task for a token whose owner is known: usually one statement (see above)."""
        known = None if reap_due(project_id) else self.cleared.get((token_hash, project_id))
        floor = await drive_async(conn, level0_floor("postgresql", project_id))
        try:
            found = await run_async(conn, *_quick_next(token_hash, owner, project_id, known, floor))
        except IntegrityError:  # the worker's other ask won the one live lease
            found = await run_async(conn, *_quick_next(token_hash, owner, project_id, None, 0))
        actor, rows = _split_token(found)
        if actor.user_id != owner:
            raise Fallback  # cannot happen: a token keeps its owner
        if rows.rows and rows.rows[0][_PROJECT_WIDTH + 1]:
            # The rows that cleared this worker before, unchanged: the statement leased.
            task = _task(project_id, rows.rows[0][_PROJECT_WIDTH + 2 :])
            if task is not None:
                return self._hold(token_hash, task)
            return await self._next_in_transaction(conn, actor, project_id)
        return await self._judge_and_lease(conn, token_hash, actor, project_id, rows, floor)

    async def _judge_and_lease(
        self, conn: Any, token_hash: str, actor: Actor, project_id: int, found: Rows, floor: int
    ) -> Task | None:
        """Rows not seen or changed since the worker was cleared: judge them, lease apart."""
        rows = [row[:_PROJECT_WIDTH] for row in found.rows]
        project = check_work(actor, project_id, rows, 0)
        if rows[0][7] is not None or reap_due(project.id):
            return await self._next_in_transaction(conn, actor, project_id)
        if project.status != ProjectStatus.ACTIVE.value:
            return None
        if len(self.cleared) >= MAX_OWNERS:
            self.cleared.clear()
        fingerprint = found.rows[0][_PROJECT_WIDTH]
        self.cleared[(token_hash, project_id)] = (fingerprint, project)
        params = _lease_params(
            project_id, actor.user_id, project.overlap, project.lease_seconds, floor
        )
        try:
            row = (await run_async(conn, own_or_claim_sql(project.overlap), params)).first()
        except IntegrityError:
            row = None  # the worker's other ask won the one live lease: find it below
        task = _task(project_id, row)
        if task is not None:
            return self._hold(token_hash, task)
        return await self._next_in_transaction(conn, actor, project_id)

    async def _next_in_transaction(self, conn: Any, actor: Actor, project_id: int) -> Task | None:
        async with conn.transaction():
            return await drive_async(conn, next_task_steps("postgresql", actor, project_id))

    async def _open(self) -> Any:
        if self._pool is not None:
            return self._pool
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                from psycopg_pool import AsyncConnectionPool

                url = self.db.engine.url.set(drivername="postgresql")
                pool = AsyncConnectionPool(
                    url.render_as_string(hide_password=False),
                    min_size=1,
                    max_size=PG_POOL_SIZE,
                    kwargs={"connect_timeout": 10, "autocommit": True},
                    open=False,
                )
                await pool.open()
                self._pool = pool
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


# The token's row with its memberships folded into arrays, so that it can share a statement
# with the rows of another query: `_with_token` puts it beside every row of that query (or
# beside one empty row), `_split_token` takes the two apart. SQLite's arrays are JSON text.
_OWNER_ROW_SQL = (
    "SELECT u.id, u.email, u.display_name, u.pseudonym, u.locale, u.is_active, t.revoked_at, "
    "t.expires_at, {agg}(m.organization_id{order}), {agg}(o.kind{order}), {agg}(m.role{order}) "
    "FROM api_token t JOIN user_account u ON u.id = t.user_id "
    "LEFT JOIN {members} m ON m.user_id = u.id "
    "LEFT JOIN organization o ON o.id = m.organization_id "
    "WHERE t.token_hash = :h GROUP BY u.id, t.id"
)
_OWNER_ROW = {
    "postgresql": _OWNER_ROW_SQL.format(
        agg="array_agg", order=" ORDER BY m.organization_id, m.role", members="membership"
    ),
    # json_group_array keeps the order of its input (SQLite 3.40 has no ORDER BY in aggregates)
    "sqlite": _OWNER_ROW_SQL.format(
        agg="json_group_array",
        order="",
        members="(SELECT * FROM membership ORDER BY organization_id, role)",
    ),
}
_TOKEN_WIDTH = 11


def _with_token(
    dialect: str, token_hash: str, other: tuple[str, dict[str, Any]]
) -> tuple[str, dict[str, Any]]:
    sql = (
        f"SELECT tk.*, o.* FROM (SELECT 1) one LEFT JOIN ({_OWNER_ROW[dialect]}) tk ON 1 = 1 "  # noqa: S608
        f"LEFT JOIN ({other[0]}) o ON 1 = 1"
    )
    return sql, other[1] | {"h": token_hash}


def _split_token(found: Rows) -> tuple[Actor, Rows]:
    """The actor (or NotAuthenticated) and the other query's rows."""
    first = found.rows[0]
    key = tuple(str(v) if isinstance(v, list) else v for v in first[:_TOKEN_WIDTH])
    actor = _actors.get(key)
    if actor is None or _expired(first[7]):
        actor = actor_from_token_rows(_token_rows(first))
        if len(_actors) >= MAX_OWNERS:
            _actors.clear()
        _actors[key] = actor
    rows = [row[_TOKEN_WIDTH:] for row in found.rows if row[_TOKEN_WIDTH] is not None]
    return actor, Rows(rows, len(rows))


# Actors built from token rows, keyed by the whole row as read (user, token state and
# memberships), so that any change read from the database builds a new one; only the
# expiry time, which passes without a change, is checked again on every call.
_actors: dict[tuple[Any, ...], Actor] = {}


def _expired(expires_at: Any) -> bool:
    if expires_at is None:
        return False
    return aware(expires_at) <= utcnow()


def _token_rows(first: Any) -> list[tuple[Any, ...]]:
    """`ACTOR_BY_KEY_SQL`'s rows from the folded row (none when the token is unknown)."""
    if first[0] is None:
        return []
    head = tuple(first[:8])
    grants = [orjson.loads(v) if isinstance(v, str) else v for v in first[8:_TOKEN_WIDTH]]
    return [head + grant for grant in zip(*grants, strict=True)]


def _lease_params(
    project_id: int, worker_id: int, overlap: int, lease_s: int, floor: int
) -> dict[str, Any]:
    now = utcnow()
    return {
        "floor": floor,
        "p": project_id,
        "w": worker_id,
        "stage": Stage.LABELING.value,
        "overlap": overlap,
        "n": WINDOW,
        "active": AssignmentStatus.ACTIVE.value,
        "now": now,
        "exp": now + timedelta(seconds=lease_s),
    }


def _task(project_id: int, row: Any) -> Task | None:
    """The task from `own_or_claim_parts`' answer (all NULL: nothing leased)."""
    if row is None or row[0] is None:
        return None
    assignment_id, item_id, payload, media_key, leased_at, expires_at, _reused = row
    return Task(assignment_id, project_id, item_id, payload, media_key, leased_at, expires_at)


# The first statement of next task on PostgreSQL (see `PostgresLoop`): the token's row and the
# project's rows, the fingerprint of both, whether it is the one that cleared the worker (and
# the token is still within its time), and the answer of `own_or_claim_parts`, whose writes
# happen only then.
_PROJECT_COLUMNS = "id, owner, overlap, lease, status, version, vendor, g1, g2, g3, g4"
_PROJECT_WIDTH = 11


# The common table expressions `tk` (the token's row), `pr` (the project's rows), `fp` (their
# fingerprint) and `ok` (a row when that is the fingerprint that cleared the worker, given as
# `:fp`, and the token is still within its time).
_CLEARED = (
    f"tk AS ({_OWNER_ROW['postgresql']}), pr ({_PROJECT_COLUMNS}) AS ("  # noqa: S608
    f"{project_statement('postgresql', 0, 0, lock=False)[0]}), "
    "fp AS (SELECT md5(concat((SELECT array_agg(tk)::text FROM tk), '/', "
    "(SELECT array_agg(pr ORDER BY pr.vendor)::text FROM pr))) AS h), "
    "ok AS (SELECT 1 FROM fp, tk WHERE fp.h = :fp "
    "AND (tk.expires_at IS NULL OR tk.expires_at > :now))"
)
_OK = "EXISTS (SELECT 1 FROM ok)"
# Submit in one statement: the store of `service.SUBMIT_PG`, done only when `ok`.
_QUICK_SUBMIT = f"WITH {_CLEARED}, {submit_pg_parts(_OK)} SELECT (SELECT id FROM stored)"  # noqa: S608


@cache
def _quick_next_sql(overlap: int) -> str:
    ctes, answer = own_or_claim_parts(overlap, _OK)
    return (
        f"WITH {_CLEARED}, {ctes} SELECT tk.*, pr.*, fp.h, {_OK}, res.* "  # noqa: S608
        "FROM (SELECT 1) one LEFT JOIN tk ON true LEFT JOIN pr ON true CROSS JOIN fp "
        f"LEFT JOIN ({answer}) res ON true"
    )


def _quick_next(
    token_hash: str,
    owner: int,
    project_id: int,
    known: tuple[str, ProjectRow] | None,
    floor: int,
) -> tuple[str, dict[str, Any]]:
    if known is None:  # no fingerprint matches "": the statement reads and writes nothing
        fingerprint, overlap, lease_s = "", 1, 0
    else:
        fingerprint, overlap, lease_s = known[0], known[1].overlap, known[1].lease_seconds
    params = _lease_params(project_id, owner, overlap, lease_s, floor)
    return _quick_next_sql(overlap), params | {"h": token_hash, "fp": fingerprint}
