"""Generated over every route: C-06 anonymous access, C-10 response fields, C-43 CSRF.

The JSON API (`/api/`) is checked here in full. HTML pages answer anonymous visitors with a
redirect to the login page and carry their CSRF token in a form field; their own tests cover
that, and this file only checks that no page serves an anonymous visitor except the public ones.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Route

from datadam.web.app import create_app
from tests.access.helpers import fingerprint, log_in, make_user

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC = {
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/platform-key"),  # the public key that verifies certificates offline
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/openapi.json"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/language"),
}
FORBIDDEN_FIELDS = ["password*", "*_hash", "token*", "secret*", "bank_*", "rrn*"]
ALLOWED_FIELDS = {
    ("TokenCreated", "token"),  # the one response that shows a new token, once
    # a worker's own payout details, served only to them and their vendor's admins
    # (tests/pay/test_pay_web.py and the C-09 crawl hold everyone else to a pseudonym)
    ("ProfilePublic", "bank_name"),
    ("ProfilePublic", "bank_account"),
}


def all_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) for every endpoint, through FastAPI's included routers."""
    found: set[tuple[str, str]] = set()

    def visit(route: Any) -> None:
        if hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                for method in getattr(context.original_route, "methods", None) or ():
                    found.add((method, context.path))
        elif isinstance(route, Route) and route.methods:
            for method in route.methods:
                found.add((method, route.path))

    for route in app.routes:
        visit(route)
    return sorted((m, p) for m, p in found if m != "HEAD")


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    return [(m, p) for m, p in all_routes(app) if p.startswith("/api/")]


def test_the_route_list_is_complete(app) -> None:  # type: ignore[no-untyped-def]
    routes = all_routes(app)
    assert ("POST", "/api/v1/auth/login") in routes
    assert ("DELETE", "/api/v1/tokens/{token_id}") in routes
    assert len(routes) > 20


def test_anonymous_gets_401_everywhere_but_the_public_list(client, app) -> None:  # type: ignore[no-untyped-def]
    wrong = []
    for method, path in all_routes(app):
        if (method, path) in PUBLIC or path.startswith("/static"):
            continue
        kwargs: dict[str, Any] = {"json": {}} if method in UNSAFE else {}
        response = client.request(method, concrete(path), follow_redirects=False, **kwargs)
        if not path.startswith("/api/"):
            to_login = response.status_code == 303 and response.headers["location"].startswith(
                "/login"
            )
            if not (to_login or response.status_code in (401, 403)):
                wrong.append((method, path, response.status_code, None))
            continue
        code = response.json().get("error", {}).get("code") if response.content else None
        if (response.status_code, code) != (401, "not_authenticated"):
            wrong.append((method, path, response.status_code, code))
    assert wrong == []


def test_docs_are_off_in_production(settings, db) -> None:  # type: ignore[no-untyped-def]
    production = settings.model_copy(update={"env": "production", "password_profile": "rfc9106"})
    with TestClient(create_app(production, db)) as prod:
        for path in ("/docs", "/openapi.json", "/redoc"):
            assert prod.get(path).status_code == 404


def _response_properties(schema: dict[str, Any]) -> set[tuple[str, str]]:
    """(schema name, property) for every schema reachable from a response."""
    components = schema.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    found: set[tuple[str, str]] = set()

    def walk(node: Any, owner: str) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    walk(components.get(name, {}), name)
                return
            for prop, sub in (node.get("properties") or {}).items():
                found.add((owner, prop))
                walk(sub, owner)
            for key, value in node.items():
                if key != "properties":
                    walk(value, owner)
        elif isinstance(node, list):
            for value in node:
                walk(value, owner)

    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for response in (operation.get("responses") or {}).values():
                walk(response.get("content", {}), "inline")
    return found


def test_no_response_schema_exposes_secrets(app) -> None:  # type: ignore[no-untyped-def]
    properties = _response_properties(app.openapi())
    assert ("UserPublic", "pseudonym") in properties
    leaks = sorted(
        (owner, prop)
        for owner, prop in properties
        if any(fnmatch.fnmatch(prop.lower(), pattern) for pattern in FORBIDDEN_FIELDS)
        and (owner, prop) not in ALLOWED_FIELDS
    )
    assert leaks == []


@pytest.fixture
def two_sessions(app, db, settings):  # type: ignore[no-untyped-def]
    """A logged-in victim (cookie) and another user's CSRF token."""
    make_user(db, settings)
    make_user(db, settings, "eve@example.org")
    victim = TestClient(app)
    mine = log_in(victim).json()["csrf_token"]
    with TestClient(app) as other:
        foreign = log_in(other, email="eve@example.org").json()["csrf_token"]
    yield victim, mine, foreign
    victim.close()


@pytest.mark.parametrize("token", ["missing", "foreign", "cross-site"])
def test_every_unsafe_route_refuses_cookie_requests_without_the_token(
    app, db, two_sessions, token
) -> None:  # type: ignore[no-untyped-def]
    victim, mine, foreign = two_sessions
    headers = {
        "missing": {},
        "foreign": {"X-CSRF-Token": foreign},
        "cross-site": {"X-CSRF-Token": mine, "Sec-Fetch-Site": "same-site"},
    }[token]
    before = fingerprint(db)
    wrong = []
    for method, path in api_routes(app):
        if method not in UNSAFE or (method, path) in PUBLIC:
            continue
        response = victim.request(method, concrete(path), json={}, headers=headers)
        code = response.json().get("error", {}).get("code")
        if (response.status_code, code) != (403, "csrf_failed"):
            wrong.append((method, path, response.status_code, code))
    assert wrong == []
    assert fingerprint(db) == before
    assert victim.get("/api/v1/me").status_code == 200  # still logged in


def test_text_plain_json_is_refused_on_every_unsafe_route(app, db, two_sessions) -> None:  # type: ignore[no-untyped-def]
    victim, mine, _foreign = two_sessions
    before = fingerprint(db)
    for method, path in api_routes(app):
        if method not in UNSAFE:
            continue
        response = victim.request(
            method,
            concrete(path),
            content=b'{"name": "x"}',
            headers={"content-type": "text/plain", "X-CSRF-Token": mine},
        )
        assert response.status_code in (403, 415), (method, path, response.status_code)
    assert fingerprint(db) == before


def test_bearer_requests_need_no_csrf_token(client, world) -> None:  # type: ignore[no-untyped-def]
    person = world.person()
    listed = client.get("/api/v1/tokens", headers=person.headers).json()
    response = client.delete(f"/api/v1/tokens/{listed[0]['id']}", headers=person.headers)
    assert response.status_code == 204


def test_get_routes_change_nothing(app, db, two_sessions) -> None:  # type: ignore[no-untyped-def]
    victim, _mine, _foreign = two_sessions
    before = fingerprint(db)
    for method, path in api_routes(app):
        if method == "GET":
            response = victim.get(concrete(path), follow_redirects=False)
            assert response.status_code < 500, path
    assert fingerprint(db) == before
