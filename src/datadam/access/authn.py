"""Turning a session cookie or an API token into an `Actor`.

Session ids and API tokens are 256-bit random strings; the database stores only their SHA-256,
so a copy of the database does not let anyone log in. Permissions are read from the database on
every request: removing a membership takes effect on the next request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor, Grant
from datadam.audit import record_event
from datadam.domain.enums import OrgKind, Role
from datadam.errors import NotAuthenticated, NotFound
from datadam.storage.conversation import Steps, ask
from datadam.storage.raw import run
from datadam.storage.tables import ApiToken, LoginSession, Membership, Organization, User
from datadam.storage.types import utcnow

TOKEN_PREFIX = "ddt_"  # noqa: S105 - a public prefix that makes leaked tokens greppable


def sha256_hex(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def load_grants(session: Session, user_id: int) -> tuple[Grant, ...]:
    rows = session.execute(
        select(Membership.organization_id, Organization.kind, Membership.role)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.organization_id, Membership.role)
    ).all()
    return tuple(Grant(org_id, OrgKind(kind), Role(role)) for org_id, kind, role in rows)


def actor_for(session: Session, user: User, **extra: object) -> Actor:
    return Actor(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        pseudonym=user.pseudonym,
        grants=load_grants(session, user.id),
        locale=user.locale,
        **extra,  # type: ignore[arg-type]
    )


def create_session(session: Session, user_id: int) -> tuple[str, str]:
    """Start a browser session; returns (raw session id for the cookie, CSRF token)."""
    raw = new_secret()
    csrf = secrets.token_urlsafe(24)
    session.add(LoginSession(id_hash=sha256_hex(raw), user_id=user_id, csrf_token=csrf))
    return raw, csrf


def resolve_session(
    session: Session, raw: str, *, idle: timedelta, absolute: timedelta
) -> tuple[User, LoginSession]:
    """The live session for a cookie value, or NotAuthenticated(session_expired)."""
    row = session.get(LoginSession, sha256_hex(raw))
    now = utcnow()
    if row is None or row.revoked_at is not None:
        raise NotAuthenticated(
            "Your session has ended; please log in again.", code="session_expired"
        )
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        raise NotAuthenticated(
            "Your session has expired; please log in again.", code="session_expired"
        )
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("This account is not active.", code="account_inactive")
    return user, row


def create_token(
    session: Session, user_id: int, *, name: str, expires_in: timedelta | None
) -> tuple[ApiToken, str]:
    """Issue an API token; the raw value is returned once and never stored."""
    raw = TOKEN_PREFIX + new_secret()
    token = ApiToken(
        user_id=user_id,
        name=name,
        token_hash=sha256_hex(raw),
        expires_at=utcnow() + expires_in if expires_in else None,
    )
    session.add(token)
    session.flush()
    return token, raw


def resolve_token(session: Session, raw: str) -> User:
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == sha256_hex(raw))
    ).scalar_one_or_none()
    if row is None:
        raise NotAuthenticated("The API token is not valid.", code="invalid_token")
    if row.revoked_at is not None:
        raise NotAuthenticated("The API token was revoked.", code="token_revoked")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise NotAuthenticated("The API token has expired.", code="token_expired")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("This account is not active.", code="account_inactive")
    return user


def list_tokens_of_user(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.execute(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
        ).scalars()
    )


def revoke_token_of_user(session: Session, *, user_id: int, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; another user's token is NotFound, like a missing one.

    Revoking twice is harmless: the first revocation time is kept.
    """
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFound("No such API token.", code="token_not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record_event(
            session,
            actor_id=user_id,
            action="token_revoked",
            object_type="api_token",
            object_id=row.id,
            after={"name": row.name},
        )
    return row


def issue_token(
    session: Session, *, user_id: int, name: str, expires_in_days: int | None
) -> tuple[ApiToken, str]:
    """Create a token for the user and record it; the raw value is returned once."""
    expires_in = timedelta(days=expires_in_days) if expires_in_days else None
    token, raw = create_token(session, user_id, name=name, expires_in=expires_in)
    record_event(
        session,
        actor_id=user_id,
        action="token_created",
        object_type="api_token",
        object_id=token.id,
        after={"name": name, "expires_at": token.expires_at},
    )
    return token, raw


# One statement: the token, its user and every membership (LEFT JOIN: a user without any
# still authenticates, with no grants).
ACTOR_BY_KEY_SQL = (  # parameter :h, the token's sha256_hex
    "SELECT u.id, u.email, u.display_name, u.pseudonym, u.locale, u.is_active, "
    "t.revoked_at, t.expires_at, m.organization_id, o.kind, m.role "
    "FROM api_token t JOIN user_account u ON u.id = t.user_id "
    "LEFT JOIN membership m ON m.user_id = u.id "
    "LEFT JOIN organization o ON o.id = m.organization_id "
    "WHERE t.token_hash = :h ORDER BY m.organization_id, m.role"
)


def _when(value: Any) -> datetime | None:
    """A stored time as aware UTC (SQLite hands back naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def actor_from_token(conn: Connection, raw: str) -> Actor:
    """The hot path of every scripted request: one indexed statement on the driver's cursor,
    no ORM session. Same rules and errors as `resolve_token` + `actor_for`."""
    return actor_from_token_rows(run(conn, ACTOR_BY_KEY_SQL, {"h": sha256_hex(raw)}).fetchall())


def token_actor(raw: str) -> Steps[Actor]:
    """`actor_from_token` as a conversation step, for the worker loop's drivers."""
    found = yield from ask(ACTOR_BY_KEY_SQL, {"h": sha256_hex(raw)})
    return actor_from_token_rows(found.rows)


def actor_from_token_rows(rows: list[Any]) -> Actor:
    """The actor from the rows of `ACTOR_BY_KEY_SQL` (for callers holding a bare driver
    connection), or NotAuthenticated."""
    if not rows:
        raise NotAuthenticated("The API token is not valid.", code="invalid_token")
    user_id, email, display_name, pseudonym, locale, is_active, revoked_at, expires_at = rows[0][:8]
    if revoked_at is not None:
        raise NotAuthenticated("The API token was revoked.", code="token_revoked")
    expires = _when(expires_at)
    if expires is not None and expires <= utcnow():
        raise NotAuthenticated("The API token has expired.", code="token_expired")
    if not is_active:
        raise NotAuthenticated("This account is not active.", code="account_inactive")
    grants = tuple(
        Grant(row[8], OrgKind(row[9]), Role(row[10])) for row in rows if row[8] is not None
    )
    return Actor(
        user_id=user_id,
        email=email,
        display_name=display_name,
        pseudonym=pseudonym,
        grants=grants,
        locale=locale,
        via="token",
    )
