"""Hand-written statements on the driver's cursor, for the few hot paths that cannot afford
SQLAlchemy's per-call compilation and result processing.

Statements are written with `:name` parameters and translated once per dialect (psycopg wants
`%(name)s`). They run inside the SQLAlchemy connection's transaction, and driver errors come
out as SQLAlchemy's (`IntegrityError`, `OperationalError`, ...), so callers and the web
layer's error mapping see the same exceptions as for ORM statements.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


@cache
def for_dialect(sql: str, dialect: str) -> str:
    """`:name` parameters as the driver wants them (psycopg: `%(name)s`)."""
    if dialect == "postgresql":
        return _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))
    return sql


def run(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> Any:
    """Execute on the driver's cursor inside the connection's transaction; returns the cursor."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    statement = for_dialect(sql, conn.dialect.name)
    try:
        cursor.execute(statement, params or {})
    except conn.dialect.loaded_dbapi.Error as err:
        raise _wrapped(conn, statement, params, err) from err
    return cursor


def _wrapped(conn: Connection, statement: str, params: Any, err: Exception) -> Exception:
    return DBAPIError.instance(statement, params, err, conn.dialect.loaded_dbapi.Error)
