"""The worker loop on bare drivers, for a server that answers next task and submit on its
event loop: no thread-pool hop, no SQLAlchemy connection or transaction objects per call.

The rules are `assignment.service`'s own conversations (`next_task_steps`, `prepare_submission`,
`store`); only the transactions differ:

- SQLite (`SqliteLoop`): statements take tens of microseconds and writers queue on one lock
  anyway, so they run synchronously on the event loop through the database's `nowait` twin.
  A lock held elsewhere makes the call fail at once (`Fallback`), and the caller runs the
  blocking route in the thread pool, where it waits for the lock.
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
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError

from datadam.access.actor import Actor
from datadam.access.authn import token_actor
from datadam.assignment.service import (
    Submission,
    Task,
    next_task_steps,
    prepare_submission,
    store,
    submission_key,
)
from datadam.domain.enums import Stage
from datadam.errors import NotAllowed
from datadam.storage.conversation import Steps, drive_async, drive_sqlite
from datadam.storage.db import Database

T = TypeVar("T")
PG_POOL_SIZE = 8
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


class SqliteLoop:
    """The worker loop on a bare `sqlite3` connection, run on the event loop."""

    def __init__(self, db: Database) -> None:
        self.db = db.nowait

    async def next_task(self, token: str, project_id: int) -> Task | None:
        with self._connection() as conn:
            actor = drive_sqlite(conn, token_actor(token))
            return _write(conn, next_task_steps("sqlite", actor, project_id))

    async def submit(
        self, token: str, assignment_id: int, result: Any, key: str, next_in: int | None
    ) -> Submitted:
        key = submission_key(key)
        with self._connection() as conn:
            actor = drive_sqlite(conn, token_actor(token))
            ctx, clean = drive_sqlite(
                conn, prepare_submission(self.db, actor, assignment_id, result)
            )
            if ctx.item_stage == Stage.GOLD.value:
                raise Fallback
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
        return _Checkout(self.db)


class _Checkout:
    """A pooled connection of the nowait engine, as its bare `sqlite3` connection."""

    def __init__(self, db: Database) -> None:
        self.pooled = db.engine.raw_connection()

    def __enter__(self) -> Any:
        return self.pooled.driver_connection

    def __exit__(self, *exc: object) -> None:
        self.pooled.close()


def _write(conn: Any, steps: Steps[T]) -> T:
    """A conversation in a `BEGIN IMMEDIATE` transaction; `Fallback` when the lock is held."""
    import sqlite3

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
    """The worker loop on psycopg's async connections, awaited on the event loop."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pool: Any = None
        self._opening: asyncio.Lock | None = None

    async def next_task(self, token: str, project_id: int) -> Task | None:
        pool = await self._open()
        async with pool.connection() as conn:
            actor = await drive_async(conn, token_actor(token))
            return await drive_async(conn, next_task_steps("postgresql", actor, project_id))

    async def submit(
        self, token: str, assignment_id: int, result: Any, key: str, next_in: int | None
    ) -> Submitted:
        key = submission_key(key)
        pool = await self._open()
        try:
            async with pool.connection() as conn:
                actor = await drive_async(conn, token_actor(token))
                ctx, clean = await drive_async(
                    conn, prepare_submission(self.db, actor, assignment_id, result)
                )
                if ctx.item_stage == Stage.GOLD.value:
                    raise Fallback
                done = await drive_async(conn, store("postgresql", ctx, actor.user_id, key, clean))
        except IntegrityError as err:
            raise Fallback from err
        upcoming, checked = None, next_in is not None
        if next_in is not None:
            try:
                upcoming = await self._next_for(pool, actor, next_in)
            except NotAllowed as refused:
                if refused.code not in GATE_CODES:
                    raise
                checked = False
        return Submitted(done, upcoming, checked)

    async def _next_for(self, pool: Any, actor: Actor, project_id: int) -> Task | None:
        async with pool.connection() as conn:
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
                    kwargs={"connect_timeout": 10},
                    open=False,
                )
                await pool.open()
                self._pool = pool
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
