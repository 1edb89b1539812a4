"""Logging in and out, and changing a password.

Argon2 runs *outside* database transactions: on SQLite a write transaction holds the
database's single write lock, and a 64 MiB hash must not block every other writer. So a login
reads (throttle, stored hash), verifies, then writes (failure count or new session) in a short
second transaction.

A failed login never says which part was wrong, and an unknown e-mail costs one argon2
verification like a known one. Events never contain a password, a hash or the attempted e-mail
of an unknown account (people type passwords into the e-mail field).
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from datadam.access import authn, passwords, throttle
from datadam.access.actor import Actor
from datadam.audit import record_event
from datadam.errors import InputError, NotAuthenticated
from datadam.settings import Settings
from datadam.storage.db import Database
from datadam.storage.tables import LoginSession, User
from datadam.storage.types import utcnow


class LoggedIn(NamedTuple):
    actor: Actor
    session_id: str  # raw value for the cookie; only its SHA-256 is stored
    csrf_token: str


def _user_by_email(session: Session, email: str) -> User | None:
    return session.execute(
        select(User).where(func.lower(User.email) == throttle.normalise_email(email))
    ).scalar_one_or_none()


def login(
    db: Database,
    *,
    email: str,
    password: str,
    ip: str,
    settings: Settings,
    replaces_session: str | None = None,
) -> LoggedIn:
    """Check the password and open a new session (a fresh id at every login).

    `replaces_session` is the raw id of a session cookie the browser already had; it is
    revoked, so a planted (fixated) id never becomes a logged-in session.
    """
    passwords.check_length(password)
    with db.read() as session:
        throttle.check_login_allowed(session, email=email, ip=ip)
        user = _user_by_email(session, email)
        stored = user.password_hash if user is not None else None
        user_id = user.id if user is not None else None
        active = user is not None and user.is_active
    check = passwords.verify_password(stored, password, settings=settings)
    if not (check.ok and active):
        reason = "unknown_email" if user_id is None else ("inactive" if not active else "password")
        with db.write() as session:
            throttle.record_failure(session, email=email, ip=ip)
            record_event(
                session,
                actor_id=None,
                action="login_failed",
                object_type="user",
                object_id=user_id if user_id is not None else "-",
                after={"ip": ip, "reason": reason},
            )
        raise NotAuthenticated("The e-mail or password is wrong.", code="invalid_credentials")
    new_hash = passwords.rehash(password, settings=settings) if check.needs_rehash else None
    with db.write() as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:  # pragma: no cover - deactivated mid-login
            raise NotAuthenticated("The e-mail or password is wrong.", code="invalid_credentials")
        if new_hash is not None and user.password_hash == stored:
            user.password_hash = new_hash
        if replaces_session:
            _revoke(session, authn.sha256_hex(replaces_session))
        throttle.clear_failures(session, email=email, ip=ip)
        throttle.prune(session)
        raw, csrf = authn.create_session(session, user.id)
        record_event(
            session,
            actor_id=user.id,
            action="login",
            object_type="user",
            object_id=user.id,
            after={"ip": ip, "rehashed": new_hash is not None},
        )
        actor = authn.actor_for(
            session, user, via="session", session_hash=authn.sha256_hex(raw), csrf_token=csrf
        )
    return LoggedIn(actor, raw, csrf)


def _revoke(session: Session, id_hash: str) -> bool:
    result = session.execute(
        update(LoginSession)
        .where(LoginSession.id_hash == id_hash, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


def logout(db: Database, *, actor: Actor) -> None:
    """End the actor's browser session; the cookie is worthless afterwards."""
    if actor.session_hash is None:
        return
    with db.write() as session:
        if _revoke(session, actor.session_hash):
            record_event(
                session,
                actor_id=actor.user_id,
                action="logout",
                object_type="user",
                object_id=actor.user_id,
            )


def change_password(
    db: Database,
    *,
    actor: Actor,
    current_password: str,
    new_password: str,
    ip: str,
    settings: Settings,
) -> int:
    """Replace the password and end every other session of the user; returns how many ended.

    The session making the change stays logged in. API tokens are separate credentials and
    stay valid (they are listed and revoked on their own). A wrong current password counts
    as a failed login, so a stolen session cannot be used to guess the password.
    """
    passwords.check_length(current_password)
    passwords.check_new_password(new_password, field="new_password")
    with db.read() as session:
        throttle.check_login_allowed(session, email=actor.email, ip=ip)
        user = session.get(User, actor.user_id)
        stored = user.password_hash if user is not None else None
    check = passwords.verify_password(stored, current_password, settings=settings)
    if not check.ok:
        with db.write() as session:
            throttle.record_failure(session, email=actor.email, ip=ip)
        raise InputError(
            "The current password is wrong.", field="current_password", code="wrong_password"
        )
    new_hash = passwords.hash_password(new_password, settings=settings)
    with db.write() as session:
        user = session.get(User, actor.user_id)
        if user is None:  # pragma: no cover - deleted mid-request
            raise NotAuthenticated("This account is not active.", code="account_inactive")
        user.password_hash = new_hash
        user.password_changed_at = utcnow()
        others = update(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)
        )
        if actor.session_hash is not None:
            others = others.where(LoginSession.id_hash != actor.session_hash)
        ended = int(getattr(session.execute(others.values(revoked_at=utcnow())), "rowcount", 0))
        record_event(
            session,
            actor_id=user.id,
            action="password_changed",
            object_type="user",
            object_id=user.id,
            after={"sessions_ended": ended},
        )
    return ended
