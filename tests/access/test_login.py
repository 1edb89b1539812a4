"""C-01/C-04: the login service, sessions, logout and password change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from datadam.access import authn, login, passwords
from datadam.errors import InputError, NotAuthenticated
from datadam.settings import Settings
from datadam.storage.db import Database
from datadam.storage.tables import Event, LoginSession
from tests.access.helpers import PASSWORD, dump, make_user, stored_hash

IP = "203.0.113.7"


def _login(
    db: Database, settings: Settings, email: str = "ana@example.org", password: str = PASSWORD, **kw
):  # type: ignore[no-untyped-def]
    return login.login(db, email=email, password=password, ip=IP, settings=settings, **kw)


def _events(db: Database) -> list[Event]:
    with db.read() as session:
        return list(session.execute(select(Event).order_by(Event.id)).scalars())


def test_login_opens_a_session_stored_only_as_a_hash(db: Database, settings: Settings) -> None:
    user_id = make_user(db, settings)
    result = _login(db, settings, email="ANA@example.org ")
    assert result.actor.user_id == user_id
    assert len(result.session_id) >= 43  # 256 bits, url-safe base64
    with db.read() as session:
        row = session.get(LoginSession, authn.sha256_hex(result.session_id))
        assert row is not None and row.csrf_token == result.csrf_token
    assert result.session_id not in dump(db)
    assert [e.action for e in _events(db)][-1] == "login"


def test_every_login_gets_a_new_session_id(db: Database, settings: Settings) -> None:
    make_user(db, settings)
    first = _login(db, settings)
    second = _login(db, settings, replaces_session=first.session_id)
    assert first.session_id != second.session_id
    with db.read() as session:
        old = session.get(LoginSession, authn.sha256_hex(first.session_id))
        assert old is not None and old.revoked_at is not None


@pytest.mark.parametrize("email", ["ana@example.org", "nobody@example.org"])
def test_one_verification_for_known_and_unknown_email(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch, email: str
) -> None:
    make_user(db, settings)
    passwords.verify_password(None, "warm the dummy hash", settings=settings)
    calls: list[int] = []
    original = PasswordHasher.verify
    monkeypatch.setattr(
        PasswordHasher, "verify", lambda self, *a: calls.append(1) or original(self, *a)
    )
    with pytest.raises(NotAuthenticated) as caught:
        _login(db, settings, email=email, password="not the password")
    assert caught.value.code == "invalid_credentials"
    assert len(calls) == 1


def test_inactive_user_cannot_log_in(db: Database, settings: Settings) -> None:
    make_user(db, settings, active=False)
    with pytest.raises(NotAuthenticated) as caught:
        _login(db, settings)
    assert caught.value.code == "invalid_credentials"


def test_outdated_hash_is_upgraded_at_login(db: Database, settings: Settings) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=8)
    user_id = make_user(db, settings, password_hash=old.hash(PASSWORD))
    before = stored_hash(db, user_id)
    _login(db, settings)
    after = stored_hash(db, user_id)
    assert after != before and after.startswith("$argon2id$")
    assert passwords.verify_password(after, PASSWORD, settings=settings) == (True, False)
    assert _events(db)[-1].after == {"ip": IP, "rehashed": True}


def test_failed_logins_leave_no_password_or_unknown_email(db: Database, settings: Settings) -> None:
    make_user(db, settings)
    with pytest.raises(NotAuthenticated):
        _login(db, settings, password="Wrong-Secret-123")
    with pytest.raises(NotAuthenticated):
        _login(db, settings, email="Typed-My-Password-Here", password="Wrong-Secret-123")
    failed = [e for e in _events(db) if e.action == "login_failed"]
    assert [e.after["reason"] for e in failed] == ["password", "unknown_email"]  # type: ignore[index]
    events_text = repr([(e.object_id, e.before, e.after) for e in _events(db)])
    assert "Wrong-Secret-123" not in events_text
    assert "typed-my-password-here" not in events_text.lower()
    assert "Wrong-Secret-123" not in dump(db)
    assert PASSWORD not in dump(db)


def test_logout_revokes_the_session(db: Database, settings: Settings) -> None:
    make_user(db, settings)
    result = _login(db, settings)
    login.logout(db, actor=result.actor)
    with db.read() as session, pytest.raises(NotAuthenticated) as caught:
        authn.resolve_session(
            session,
            result.session_id,
            idle=timedelta(hours=1),
            absolute=timedelta(hours=1),
        )
    assert caught.value.code == "session_expired"
    assert _events(db)[-1].action == "logout"


def test_password_change_ends_other_sessions_only(db: Database, settings: Settings) -> None:
    make_user(db, settings)
    mine = _login(db, settings)
    other = _login(db, settings)
    ended = login.change_password(
        db,
        actor=mine.actor,
        current_password=PASSWORD,
        new_password="a brand new secret",
        ip=IP,
        settings=settings,
    )
    assert ended == 1
    with db.read() as session:
        kept = session.get(LoginSession, authn.sha256_hex(mine.session_id))
        gone = session.get(LoginSession, authn.sha256_hex(other.session_id))
        assert kept is not None and kept.revoked_at is None
        assert gone is not None and gone.revoked_at is not None
    assert _login(db, settings, password="a brand new secret").actor.user_id == mine.actor.user_id
    with pytest.raises(NotAuthenticated):
        _login(db, settings)
    text = dump(db)
    assert "a brand new secret" not in text and PASSWORD not in text


def test_password_change_checks_the_current_password_and_rules(
    db: Database, settings: Settings
) -> None:
    make_user(db, settings)
    mine = _login(db, settings)
    with pytest.raises(InputError) as caught:
        login.change_password(
            db,
            actor=mine.actor,
            current_password="wrong one!",
            new_password="a brand new secret",
            ip=IP,
            settings=settings,
        )
    assert (caught.value.code, caught.value.field) == ("wrong_password", "current_password")
    with pytest.raises(InputError) as caught:
        login.change_password(
            db,
            actor=mine.actor,
            current_password=PASSWORD,
            new_password="password1",
            ip=IP,
            settings=settings,
        )
    assert (caught.value.code, caught.value.field) == ("password_too_common", "new_password")
