"""C-01/C-02/C-04/C-10: the login endpoint over HTTP."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import time_machine
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from datadam.access import throttle
from datadam.domain.enums import OrgKind, Role
from datadam.storage.types import utcnow
from datadam.web.app import create_app
from tests.access.helpers import PASSWORD, dump, log_in, make_user

LOGIN = "/api/v1/auth/login"


def _cookie_header(response) -> str:  # type: ignore[no-untyped-def]
    return response.headers["set-cookie"]


def test_login_sets_a_safe_cookie_and_returns_the_user(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    response = log_in(client)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"user", "csrf_token"}
    assert set(body["user"]) == {"id", "email", "display_name", "pseudonym", "locale"}
    assert body["user"]["pseudonym"].startswith("w_")
    cookie = _cookie_header(response)
    assert cookie.startswith("datadam_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http in this test
    assert response.headers["cache-control"] == "no-store"
    raw = client.cookies["datadam_session"]
    assert raw not in dump(db) and PASSWORD not in dump(db)


def test_cookie_is_secure_over_https(app, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    with TestClient(app, base_url="https://testserver") as https_client:
        assert "Secure" in _cookie_header(log_in(https_client))


@pytest.mark.parametrize(("trust", "secure"), [(True, True), (False, False)])
def test_cookie_is_secure_behind_a_trusted_proxy(db, settings, trust, secure) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    proxied = settings.model_copy(update={"trust_proxy": trust})
    with TestClient(create_app(proxied, db)) as proxied_client:
        response = log_in(proxied_client, headers={"X-Forwarded-Proto": "https"})
    assert ("Secure" in _cookie_header(response)) is secure


def test_a_planted_session_id_is_replaced_at_login(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    client.cookies.set("datadam_session", "planted-by-an-attacker", domain="testserver.local")
    log_in(client)
    first = client.cookies["datadam_session"]
    assert first != "planted-by-an-attacker"
    log_in(client)
    second = client.cookies["datadam_session"]
    assert second != first
    client.cookies.set("datadam_session", first, domain="testserver.local")
    assert client.get("/api/v1/me").json()["error"]["code"] == "session_expired"


def test_wrong_password_and_unknown_email_look_the_same(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    wrong = log_in(client, password="not my password")
    unknown = log_in(client, email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    assert "set-cookie" not in wrong.headers


def test_lockout_over_http_with_retry_after(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(throttle.MAX_PER_ACCOUNT):
            assert log_in(client, password="guess guess").status_code == 401
        locked = log_in(client)  # the right password
        assert locked.status_code == 429
        assert locked.json()["error"]["code"] == "too_many_attempts"
        assert int(locked.headers["retry-after"]) == 15 * 60
        clock.shift(throttle.WINDOW + timedelta(seconds=1))
        assert log_in(client).status_code == 200


def test_overlong_password_is_refused_fast_without_hashing(
    client, db, settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    calls: list[str] = []
    monkeypatch.setattr(PasswordHasher, "verify", lambda *a: calls.append("verify"))
    monkeypatch.setattr(PasswordHasher, "hash", lambda *a: calls.append("hash"))
    started = time.process_time()  # CPU time: what a flood of such requests would cost
    response = log_in(client, password="x" * 1025)
    used = time.process_time() - started
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "password_too_long"
    assert calls == []
    # C-01 asks < 50 ms; CPU time, unlike wall time, does not grow when other work loads the
    # machine, and the margin covers the test client's own request handling.
    assert used < 0.5


def test_unknown_fields_are_refused(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    response = client.post(
        LOGIN, json={"email": "ana@example.org", "password": PASSWORD, "role": "admin"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_field"
    assert response.json()["error"]["field"] == "role"


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        (None, 415),
        ("multipart/form-data; boundary=x", 422),
    ],
)
def test_login_needs_a_json_body(client, db, settings, content_type, status) -> None:  # type: ignore[no-untyped-def]
    """Login CSRF: a cross-site form cannot send application/json without a preflight."""
    make_user(db, settings)
    body = json.dumps({"email": "ana@example.org", "password": PASSWORD})
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(LOGIN, content=body.encode(), headers=headers)
    assert response.status_code == status
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_login_from_another_site_is_refused(client, db, settings, site) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    response = log_in(client, headers={"Sec-Fetch-Site": site})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert log_in(client, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_me_lists_memberships(client, db, settings, world) -> None:  # type: ignore[no-untyped-def]
    org = world.org(OrgKind.VENDOR, slug="crowd-co")
    person = world.person((org, Role.WORKER), (org, Role.INSPECTOR))
    log_in(client, email=person.email, password="correct horse battery staple")
    me = client.get("/api/v1/me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["user"]["email"] == person.email
    assert body["csrf_token"]
    assert body["memberships"] == [
        {
            "organization": {"id": org, "slug": "crowd-co", "name": "Crowd-Co", "kind": "vendor"},
            "role": role,
        }
        for role in ("inspector", "worker")
    ]
    by_token = TestClient(client.app).get("/api/v1/me", headers=person.headers)
    assert by_token.status_code == 200
    assert by_token.json()["csrf_token"] is None
