"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production).

SQLite runs in WAL mode; every *write* transaction starts with `BEGIN IMMEDIATE`, so two
writers queue on the busy timeout instead of failing half-way with "database is locked".
Reads use plain deferred transactions and never wait for writers.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

# How long a SQLite writer waits for the lock before the request fails with 503 database_busy.
# `DATADAM_SQLITE_BUSY_TIMEOUT` (seconds) overrides it, e.g. to test the busy path quickly.
SQLITE_BUSY_TIMEOUT_S = float(os.environ.get("DATADAM_SQLITE_BUSY_TIMEOUT", "30"))


def normalise_url(url: str) -> str:
    """Let users write `postgresql://`; we always speak psycopg 3."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def prepare_sqlite_connection(dbapi_connection: Any, busy_timeout_s: float) -> None:
    """Every SQLite connection of ours: WAL, foreign keys on, BEGIN issued by us."""
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
    cursor.close()


def _configure_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        prepare_sqlite_connection(dbapi_connection, busy_timeout_s)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # On the driver's connection: SQLAlchemy's statement machinery would cost ten times
        # the BEGIN itself, and every worker-loop request begins at least one transaction.
        statement = (
            "BEGIN IMMEDIATE" if conn.get_execution_options().get("datadam_write") else "BEGIN"
        )
        try:
            conn.connection.driver_connection.execute(statement)
        except sqlite3.Error as err:
            raise DBAPIError.instance(statement, None, err, sqlite3.Error) from err


def make_engine(url: str, *, pool_size: int = 20) -> Engine:
    """An engine for `url` (SQLite writers wait up to `SQLITE_BUSY_TIMEOUT_S` for the lock)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        busy = SQLITE_BUSY_TIMEOUT_S
        engine = create_engine(
            url,
            connect_args={"timeout": busy, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        _configure_sqlite(engine, busy)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10},
    )


@dataclass
class Database:
    """One database: a read engine and a write engine sharing a pool."""

    engine: Engine

    def __post_init__(self) -> None:
        self.write_engine = self.engine.execution_options(datadam_write=True)
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; rolled back at the end."""
        with self._read_sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session holding the write lock (SQLite) and committing on success."""
        with self._write_sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str) -> Database:
    return Database(make_engine(url))
