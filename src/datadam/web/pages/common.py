"""What every page shares: rendering in the reader's language, the page actor, CSRF for forms,
HTML error pages, and the login, logout, password and language pages.

Pages use the same session and CSRF token as the JSON API (`web/deps.py`). A form carries
the token in a hidden `csrf_token` field, which `read_form_csrf` copies to
`request.state.form_csrf` before `current_actor` checks it; fetch and htmx send it in the
`X-CSRF-Token` header, read from `<meta name="csrf-token">`. Before login there is no
session, so the login and language forms use a random per-browser token kept in an
HttpOnly cookie (double submit) plus the `Sec-Fetch-Site`/`Origin` checks.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from babel.dates import format_datetime, format_timedelta, get_timezone
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from datadam import errors
from datadam.access import login as login_service
from datadam.access.actor import Actor
from datadam.access.policies import sees_all_projects
from datadam.domain.enums import OrgKind, Role
from datadam.i18n import (
    DEFAULT_LOCALE,
    LOCALE_NAMES,
    LOCALES,
    N_,
    from_accept_language,
    normalise_locale,
    translations,
)
from datadam.web.deps import (
    SESSION_COOKIE,
    UNSAFE_METHODS,
    AppSettings,
    Db,
    check_fetch_site,
    client_ip,
    current_actor,
    is_https,
)
from datadam.web.errors import status_for

WEB_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
LANG_COOKIE = "datadam_lang"
FORM_COOKIE = "datadam_form"  # pre-login CSRF token (double submit)
CSRF_FIELD = "csrf_token"
_YEAR = 365 * 24 * 3600


# ---------------------------------------------------------------- templates and language


@cache
def static_version() -> str:
    """A short hash of the static files, appended to their URLs so new releases load fresh."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(
                f"{path.relative_to(STATIC_DIR)}:{stat.st_size}:{stat.st_mtime_ns}".encode()
            )
    return digest.hexdigest()[:10]


def static_url(path: str) -> str:
    return f"/static/{path}?v={static_version()}"


@cache
def environment(locale: str) -> Environment:
    """One Jinja environment per language, so translations never leak between requests."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["static"] = static_url
    env.filters["datetime"] = partial(_format_datetime, locale=locale)
    env.filters["isotime"] = _iso_utc
    env.filters["duration"] = partial(_format_duration, locale=locale)
    env.globals["locale_names"] = LOCALE_NAMES
    return env


def _format_datetime(value: datetime | None, *, locale: str) -> str:
    """Server-side text for a time (Korea time for Korean readers, else UTC); the page's
    script replaces it with the reader's own time zone."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    zone = "Asia/Seoul" if locale == "ko" else "UTC"
    return format_datetime(value, "medium", tzinfo=get_timezone(zone), locale=locale)


def _iso_utc(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _format_duration(seconds: float | None, *, locale: str) -> str:
    if seconds is None:
        return ""
    return format_timedelta(
        timedelta(seconds=seconds), threshold=1.5, format="short", locale=locale
    )


def page_locale(request: Request, actor: Actor | None = None) -> str:
    """The cookie the reader chose, else their account's language, else the browser's."""
    chosen = normalise_locale(request.cookies.get(LANG_COOKIE))
    if chosen:
        return chosen
    if actor is not None and normalise_locale(actor.locale):
        return normalise_locale(actor.locale) or DEFAULT_LOCALE
    return from_accept_language(request.headers.get("accept-language")) or DEFAULT_LOCALE


def gettext(request: Request, actor: Actor | None = None) -> Callable[[str], str]:
    return translations(page_locale(request, actor)).gettext


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go to after a form; anything pointing off-site becomes `default`."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in value):
        return default
    return value[:2000]


def _form_token(request: Request) -> tuple[str, bool]:
    """The pre-login form token from the cookie, or a new one (and whether it is new)."""
    existing = request.cookies.get(FORM_COOKIE, "")
    if 20 <= len(existing) <= 100 and existing.isascii():
        return existing, False
    return secrets.token_urlsafe(32), True


def nav_for(request: Request, actor: Actor | None) -> list[dict[str, str]]:
    """Navigation links the actor may use; pages that are not installed are left out."""
    if actor is None:
        return []
    links: list[tuple[str, str]] = []
    if Role.WORKER in {g.role for g in actor.grants}:
        links += [("/work", N_("Work")), ("/work/history", N_("My history"))]
        links.append(("/work/rework", N_("Returned work")))
        links.append(("/work/pay", N_("My pay")))
    if actor.orgs_with_role(Role.ADMIN, Role.MANAGER):
        links.append(("/manage", N_("Manage")))
    if actor.orgs_with_role(Role.ADMIN, Role.MANAGER, Role.INSPECTOR):
        links.append(("/inspect", N_("Inspect")))
    if sees_all_projects(actor):
        links.append(("/program", N_("Program")))
    elif actor.orgs_with_role(Role.ADMIN, Role.MANAGER):
        links.append(("/program/scorecards", N_("Scorecards")))
    if Role.WORKER in {g.role for g in actor.grants} or any(
        g.role in (Role.ADMIN, Role.MANAGER) and g.kind in (OrgKind.INSTITUTION, OrgKind.VENDOR)
        for g in actor.grants
    ):
        links.append(("/talent", N_("Talent pool")))
    if actor.orgs_with_role(Role.ADMIN):
        links.append(("/payouts", N_("Payouts")))
    here = request.url.path
    return [
        {
            "href": href,
            "label": label,
            "current": "page" if here == href else ("true" if here.startswith(href + "/") else ""),
        }
        for href, label in links
    ]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    actor: Actor | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page in the reader's language with the layout's shared values."""
    locale = page_locale(request, actor)
    token = actor.csrf_token if actor is not None and actor.csrf_token else None
    new_form_cookie = False
    if token is None:
        token, new_form_cookie = _form_token(request)
    values = {
        "request": request,
        "actor": actor,
        "locale": locale,
        "locales": LOCALES,
        "csrf_token": token,
        "nav": nav_for(request, actor),
        "here": request.url.path
        + (f"?{request.url.query}" if request.url.query and len(request.url.query) < 500 else ""),
    }
    values.update(context or {})
    html = environment(locale).get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = locale
    if new_form_cookie:
        _set_cookie(request, response, FORM_COOKIE, token, max_age=None)
    return response


def _set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None
) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ---------------------------------------------------------------- actor, CSRF and errors


async def read_form_csrf(request: Request) -> None:
    """Copy a form's hidden CSRF field to `request.state`, where `current_actor` looks."""
    if request.method not in UNSAFE_METHODS:
        return
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        if isinstance(value, str):
            request.state.form_csrf = value


def page_actor(
    request: Request,
    db: Db,
    settings: AppSettings,
    _form: Annotated[None, Depends(read_form_csrf)],
) -> Actor:
    """The logged-in actor; pages answer with a redirect to the login page instead of 401."""
    return current_actor(request, db, settings)


PageActor = Annotated[Actor, Depends(page_actor)]


def optional_actor(request: Request, db: Db, settings: AppSettings) -> Actor | None:
    """The actor when a valid session cookie came with a safe request; else None."""
    if request.method in UNSAFE_METHODS or not request.cookies.get(SESSION_COOKIE):
        return None
    try:
        return current_actor(request, db, settings)
    except errors.DatadamError:
        return None


async def check_anonymous_form(request: Request) -> dict[str, str]:
    """The form fields of a pre-login form, after the double-submit and same-origin checks."""
    check_fetch_site(request)
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise errors.NotAllowed("Cross-site requests are not accepted.", code="csrf_failed")
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    expected = request.cookies.get(FORM_COOKIE, "")
    sent = fields.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise errors.NotAllowed(
            "The form's security token is missing or wrong.", code="csrf_failed"
        )
    return fields


ERROR_MESSAGES = {
    "csrf_failed": N_("This form has expired. Please go back, reload the page and try again."),
    "not_found": N_("This page does not exist, or you may not see it."),
    "forbidden": N_("You may not do this."),
    "too_many_attempts": N_("Too many failed logins. Please wait a few minutes and try again."),
    "database_busy": N_("The server is busy. Please try again in a moment."),
    "own_work": N_("Nobody inspects their own work: this piece is yours, so someone else will."),
}


def error_page(request: Request, exc: errors.DatadamError) -> Response:
    if isinstance(exc, errors.NotAuthenticated):
        target = "/login"
        if request.method == "GET":
            target += "?next=" + quote(safe_next(request.url.path), safe="/")
        return redirect(target)
    status = status_for(exc)
    message = ERROR_MESSAGES.get(exc.code) or ERROR_MESSAGES.get(
        {404: "not_found", 403: "forbidden"}.get(status, ""), ""
    )
    actor = getattr(request.state, "actor", None)
    response = render(
        request,
        "error.html",
        {"status": status, "message": message, "code": exc.code, "detail": exc.message},
        actor=actor,
        status_code=status,
    )
    if isinstance(exc, errors.TooMany):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


class PageRoute(APIRoute):
    """A route whose errors become HTML pages (and a login redirect) instead of JSON bodies."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except errors.DatadamError as exc:
                return error_page(request, exc)

        return page_handler


def page_router() -> APIRouter:
    """A router for HTML pages: errors render as pages and the routes stay out of /docs."""
    return APIRouter(route_class=PageRoute, include_in_schema=False)


# ---------------------------------------------------------------- login, logout, password


router = page_router()

LOGIN_MESSAGES = {
    "invalid_credentials": N_("The e-mail or password is wrong."),
    "too_many_attempts": N_("Too many failed logins. Please wait a few minutes and try again."),
    "password_too_long": N_("The e-mail or password is wrong."),
}
PASSWORD_MESSAGES = {
    "wrong_password": N_("The current password is wrong."),
    "password_too_short": N_("The new password is too short (at least %(n)s characters)."),
    "password_too_common": N_("This password is too common. Please choose another."),
    "password_too_long": N_("The new password is too long."),
    "mismatch": N_("The two new passwords are not the same."),
}


@router.get("/")
def home(request: Request, db: Db, settings: AppSettings) -> Response:
    """Send each person to where they work: workers to their projects, managers to theirs."""
    actor = optional_actor(request, db, settings)
    if actor is None:
        return redirect("/login")
    roles = {g.role for g in actor.grants}
    if sees_all_projects(actor):
        return redirect("/program")
    if Role.WORKER in roles or not roles:
        return redirect("/work")
    if roles & {Role.ADMIN, Role.MANAGER}:
        return redirect("/manage")
    if Role.INSPECTOR in roles:
        return redirect("/inspect")
    return redirect("/work")


@router.get("/login")
def login_page(request: Request, db: Db, settings: AppSettings, next: str = "/") -> Response:
    actor = optional_actor(request, db, settings)
    if actor is not None:
        return redirect(safe_next(next))
    return render(request, "auth/login.html", {"next": safe_next(next), "email": ""})


@router.post("/login")
async def login_submit(request: Request, db: Db, settings: AppSettings) -> Response:
    fields = await check_anonymous_form(request)
    email = fields.get("email", "").strip()[:254]
    target = safe_next(fields.get("next"))
    try:
        result = login_service.login(
            db,
            email=email,
            password=fields.get("password", ""),
            ip=client_ip(request, settings),
            settings=settings,
            replaces_session=request.cookies.get(SESSION_COOKIE),
        )
    except (errors.NotAuthenticated, errors.TooMany, errors.InputError) as exc:
        message = LOGIN_MESSAGES.get(exc.code, LOGIN_MESSAGES["invalid_credentials"])
        status = 429 if isinstance(exc, errors.TooMany) else 401
        response = render(
            request,
            "auth/login.html",
            {"next": target, "email": email, "error": message},
            status_code=status,
        )
        if isinstance(exc, errors.TooMany):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    response = redirect(target)
    _set_cookie(request, response, SESSION_COOKIE, result.session_id, max_age=None)
    response.delete_cookie(FORM_COOKIE, path="/")
    return response


@router.post("/logout")
def logout_submit(request: Request, actor: PageActor, db: Db) -> Response:
    login_service.logout(db, actor=actor)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/account/password")
def password_page(request: Request, actor: PageActor) -> Response:
    return render(request, "auth/password.html", {}, actor=actor)


@router.post("/account/password")
async def password_submit(
    request: Request, actor: PageActor, db: Db, settings: AppSettings
) -> Response:
    if actor.via != "session":
        raise errors.NotAllowed("Log in with your password to do this.", code="session_required")
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    new = fields.get("new_password", "")
    error: tuple[str, str] | None = None
    if new != fields.get("new_password_again", ""):
        error = ("new_password_again", "mismatch")
    else:
        try:
            login_service.change_password(
                db,
                actor=actor,
                current_password=fields.get("current_password", ""),
                new_password=new,
                ip=client_ip(request, settings),
                settings=settings,
            )
        except (errors.InputError, errors.TooMany) as exc:
            error = (exc.field or "current_password", exc.code)
    if error is not None:
        field, code = error
        from datadam.access.passwords import MIN_PASSWORD_CHARS

        return render(
            request,
            "auth/password.html",
            {
                "error_field": field,
                "error": PASSWORD_MESSAGES.get(code, PASSWORD_MESSAGES["wrong_password"]),
                "min_chars": MIN_PASSWORD_CHARS,
            },
            actor=actor,
            status_code=422,
        )
    return render(request, "auth/password.html", {"done": True}, actor=actor)


@router.post("/language")
async def language_submit(request: Request, db: Db, settings: AppSettings) -> Response:
    """Remember the chosen language in a cookie (no account change), then go back."""
    await read_form_csrf(request)
    try:
        current_actor(request, db, settings)
    except errors.NotAuthenticated:
        await check_anonymous_form(request)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    response = redirect(safe_next(fields.get("next")))
    locale = normalise_locale(fields.get("lang"))
    if locale:
        _set_cookie(request, response, LANG_COOKIE, locale, max_age=_YEAR)
    return response
