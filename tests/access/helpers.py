"""Helpers for the authentication tests: users with known passwords, logins, DB fingerprints."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select, text

from datadam.access import passwords
from datadam.access.people import create_user
from datadam.settings import Settings
from datadam.storage.db import Database
from datadam.storage.tables import Base, User

PASSWORD = "correct horse battery"


def make_user(
    db: Database,
    settings: Settings,
    email: str = "ana@example.org",
    *,
    password: str = PASSWORD,
    password_hash: str | None = None,
    active: bool = True,
) -> int:
    digest = password_hash or passwords.hash_password(password, settings=settings)
    with db.write() as session:
        user = create_user(session, email=email, display_name=email, password_hash=digest)
        user.is_active = active
        return user.id


def stored_hash(db: Database, user_id: int) -> str:
    with db.read() as session:
        user = session.get(User, user_id)
        assert user is not None
        return user.password_hash


def log_in(client: Any, email: str = "ana@example.org", password: str = PASSWORD, **kw: Any) -> Any:
    return client.post("/api/v1/auth/login", json={"email": email, "password": password}, **kw)


def fingerprint(db: Database) -> str:
    """A digest of every row of every table: equal before and after means nothing changed."""
    digest = hashlib.sha256()
    with db.read() as session:
        for table in Base.metadata.sorted_tables:
            order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
            rows = session.execute(text(f'SELECT * FROM "{table.name}" ORDER BY {order}'))
            for row in rows:
                digest.update(repr((table.name, tuple(row))).encode())
    return digest.hexdigest()


def dump(db: Database) -> str:
    """Every stored value as text, to search for secrets that must never be stored."""
    parts: list[str] = []
    with db.read() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)
