"""Request dependencies, named so that a route's signature states what it needs."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from datadam.access import authn
from datadam.access.actor import Actor
from datadam.errors import BadRequest, NotAllowed, NotAuthenticated
from datadam.settings import Settings
from datadam.storage.db import Database
from datadam.storage.types import utcnow

SESSION_COOKIE = "datadam_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_TOUCH_EVERY = timedelta(seconds=60)


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the
# thread pool, and each such hop costs more CPU than the work itself.


async def get_db(request: Request) -> Database:
    return request.app.state.db


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


Db = Annotated[Database, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def client_ip(request: Request, settings: Settings) -> str:
    """The caller's address; behind a trusted proxy, the last hop it appended."""
    if settings.trust_proxy:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1][:64]
    return (request.client.host if request.client else "unknown")[:64]


def is_https(request: Request, settings: Settings) -> bool:
    """Whether the browser reached us over HTTPS (directly, or via a trusted proxy)."""
    if request.url.scheme == "https":
        return True
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return settings.trust_proxy and proto == "https"


def check_fetch_site(request: Request) -> None:
    """Refuse requests a browser marks as coming from another site or origin.

    Browsers set `Sec-Fetch-Site`; a page on another port of the same host is "same-site"
    but not "same-origin", and is refused too. Clients that send no such header (scripts,
    older browsers) are judged by the CSRF token alone.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise NotAllowed("Cross-site requests are not accepted.", code="csrf_failed")


def _check_csrf(request: Request, expected: str) -> None:
    """Browser sessions must echo the session's CSRF token on every state-changing request.

    Synchronizer token: it lives in the server-side session row and is sent by the page in
    the `X-CSRF-Token` header (or a form field the page layer copies to `request.state`).
    Requests authenticated by an API token carry no ambient credential and are exempt.
    """
    check_fetch_site(request)
    sent = request.headers.get(CSRF_HEADER) or getattr(request.state, "form_csrf", None) or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise NotAllowed("The form's security token is missing or wrong.", code="csrf_failed")


def current_actor(request: Request, db: Db, settings: AppSettings) -> Actor:
    """The authenticated actor, from a Bearer API token or the session cookie."""
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    if "access_token" in request.query_params or "token" in request.query_params:
        raise BadRequest(
            "Send API tokens in the Authorization header, never in the URL.", code="token_in_url"
        )
    token = _bearer(request)
    if token is not None:
        with db.engine.connect() as conn:
            actor = authn.actor_from_token(conn, token)
        request.state.actor = actor
        return actor
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        raise NotAuthenticated("Please log in.", code="not_authenticated")
    with db.read() as session:
        user, row = authn.resolve_session(
            session,
            raw,
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_absolute_hours),
        )
        actor = authn.actor_for(
            session, user, via="session", session_hash=row.id_hash, csrf_token=row.csrf_token
        )
        needs_touch = utcnow() - row.last_seen_at > _TOUCH_EVERY
    if request.method in UNSAFE_METHODS:
        _check_csrf(request, actor.csrf_token or "")
    if needs_touch:
        _touch_session(db, actor.session_hash or "")
    request.state.actor = actor
    return actor


def _touch_session(db: Database, id_hash: str) -> None:
    from datadam.storage.tables import LoginSession

    with db.write() as session:
        row = session.get(LoginSession, id_hash)
        if row is not None:
            row.last_seen_at = utcnow()


async def _current_actor_dependency(request: Request, db: Db, settings: AppSettings) -> Actor:
    """API-token requests resolve on the event loop (two indexed reads, no writes, well under a
    millisecond); browser sessions, which may write `last_seen_at`, go to the thread pool."""
    if _bearer(request) is not None:
        return current_actor(request, db, settings)
    return await run_in_threadpool(current_actor, request, db, settings)


CurrentActor = Annotated[Actor, Depends(_current_actor_dependency)]


async def session_actor(actor: CurrentActor) -> Actor:
    """The actor, who must have logged in with a password (not an API token).

    Changing the password and creating API tokens need a browser session, so that a leaked
    token cannot be used to mint more tokens or to lock the owner out.
    """
    if actor.via != "session":
        raise NotAllowed("Log in with your password to do this.", code="session_required")
    return actor


SessionActor = Annotated[Actor, Depends(session_actor)]
