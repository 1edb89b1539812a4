"""A database conversation written once and run on either driver, blocking or async.

The worker loop (next task, submit) is the platform's hottest path, and the web server runs it
without a thread-pool hop: on SQLite through a bare `sqlite3` connection on the event loop, on
PostgreSQL through psycopg's async connection. The rest of the platform (pages, demo, tests)
calls the same operations from ordinary blocking code inside a SQLAlchemy transaction.

So that the rules live in one place, each operation is a generator that *yields* the statements
it wants run, as `(sql, params)` with `:name` parameters, and receives each statement's `Rows`
back; its return value is the operation's result.

`drive` runs a conversation on a SQLAlchemy connection, `drive_sqlite` on a bare `sqlite3`
connection and `drive_async` on a psycopg `AsyncConnection`. Driver errors come out as
SQLAlchemy's (`IntegrityError`, `OperationalError`, ...) whichever runner ran them, so callers
handle one set of exceptions.
Transactions belong to the caller: a conversation never begins or commits.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from datadam.storage.raw import for_dialect, run

T = TypeVar("T")


class Rows(NamedTuple):
    """What a statement gave back: its rows (empty when it returns none) and rowcount."""

    rows: list[Any]
    rowcount: int

    def first(self) -> Any:
        return self.rows[0] if self.rows else None


Statement = tuple[str, dict[str, Any]]
Steps = Generator[Statement, Rows, T]


def ask(sql: str, params: dict[str, Any]) -> Steps[Rows]:
    """One statement inside a conversation: `rows = yield from ask(sql, params)`."""
    return (yield (sql, params))


def drive(conn: Connection, steps: Steps[T]) -> T:
    """Run a conversation inside a SQLAlchemy connection's transaction."""

    def one(sql: str, params: dict[str, Any]) -> Rows:
        cursor = run(conn, sql, params)
        return Rows(cursor.fetchall() if cursor.description else [], cursor.rowcount)

    return _run_blocking(steps, one)


def _run_blocking(steps: Steps[T], one: Any) -> T:
    try:
        wanted = next(steps)
        while True:
            wanted = steps.send(one(*wanted))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def drive_sqlite(connection: Any, steps: Steps[T]) -> T:
    """Run a conversation on a bare `sqlite3` connection (the caller holds the transaction)."""
    import sqlite3

    def one(sql: str, params: dict[str, Any]) -> Rows:
        try:
            cursor = connection.execute(sql, params)
            return Rows(cursor.fetchall() if cursor.description else [], cursor.rowcount)
        except sqlite3.Error as err:
            raise DBAPIError.instance(sql, params, err, sqlite3.Error) from err

    return _run_blocking(steps, one)


async def drive_async(connection: Any, steps: Steps[T]) -> T:
    """Run a conversation on a psycopg `AsyncConnection` (the caller holds the transaction)."""
    try:
        wanted = next(steps)
        while True:
            wanted = steps.send(await run_async(connection, *wanted))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def run_async(connection: Any, sql: str, params: dict[str, Any]) -> Rows:
    """One statement on a psycopg `AsyncConnection`, errors as SQLAlchemy's."""
    import psycopg

    statement = for_dialect(sql, "postgresql")
    cursor = connection.cursor()
    try:
        await cursor.execute(statement, params)
        return Rows(await cursor.fetchall() if cursor.description else [], cursor.rowcount)
    except psycopg.Error as err:
        raise DBAPIError.instance(statement, params, err, psycopg.Error) from err
