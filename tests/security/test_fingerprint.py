"""The matrix's "nothing changed" check must see every committed write, including writes made
by other connections after a cached fingerprint was taken."""

from __future__ import annotations

from sqlalchemy import text

from tests.security.support import db_fingerprint, fingerprint_diff


def test_fingerprint_sees_a_write_by_another_connection(db, world) -> None:  # type: ignore[no-untyped-def]
    org = world.org()
    first = db_fingerprint(db)
    assert db_fingerprint(db) == first  # nothing written: same answer
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE organization SET name = name || 'x' WHERE id = :o"), {"o": org})
    assert fingerprint_diff(first, db_fingerprint(db)) == ["organization"]


def test_fingerprint_ignores_a_rolled_back_write(db, world) -> None:  # type: ignore[no-untyped-def]
    world.org()
    first = db_fingerprint(db)
    with db.engine.connect() as conn:
        conn.execute(text("UPDATE organization SET name = 'changed'"))
        conn.rollback()
    assert fingerprint_diff(first, db_fingerprint(db)) == []
