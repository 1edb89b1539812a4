"""C-04: session lifecycle over HTTP: logout, password change, idle and absolute timeouts."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from fastapi.testclient import TestClient

from datadam.storage.tables import User
from datadam.storage.types import utcnow
from tests.access.helpers import PASSWORD, log_in, make_user

ME = "/api/v1/me"


def _session(client: TestClient) -> dict[str, str]:
    response = log_in(client)
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def _code(response) -> str:  # type: ignore[no-untyped-def]
    return response.json()["error"]["code"]


def test_logout_ends_the_session(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    csrf = _session(client)
    cookie = client.cookies["datadam_session"]
    response = client.post("/api/v1/auth/logout", headers=csrf)
    assert response.status_code == 204
    assert 'datadam_session=""' in response.headers["set-cookie"]
    client.cookies.set("datadam_session", cookie, domain="testserver.local")
    replay = client.get(ME)
    assert replay.status_code == 401 and _code(replay) == "session_expired"


def test_logout_needs_the_csrf_token(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    _session(client)
    response = client.post("/api/v1/auth/logout")
    assert response.status_code == 403 and _code(response) == "csrf_failed"
    assert client.get(ME).status_code == 200


def test_password_change_logs_out_other_sessions(app, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    with TestClient(app) as laptop, TestClient(app) as phone:
        csrf = _session(laptop)
        _session(phone)
        changed = laptop.post(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "a brand new secret"},
            headers=csrf,
        )
        assert changed.status_code == 204, changed.text
        assert laptop.get(ME).status_code == 200
        stale = phone.get(ME)
        assert stale.status_code == 401 and _code(stale) == "session_expired"
        assert log_in(phone).status_code == 401
        assert log_in(phone, password="a brand new secret").status_code == 200


def test_password_change_rules_over_http(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    csrf = _session(client)
    for new, code in [("short", "password_too_short"), ("iloveyou1", "password_too_common")]:
        response = client.post(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": new},
            headers=csrf,
        )
        assert response.status_code == 422 and _code(response) == code
        assert response.json()["error"]["field"] == "new_password"
    wrong = client.post(
        "/api/v1/me/password",
        json={"current_password": "not it at all", "new_password": "a brand new secret"},
        headers=csrf,
    )
    assert wrong.status_code == 422 and _code(wrong) == "wrong_password"
    extra = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new secret", "user_id": 2},
        headers=csrf,
    )
    assert extra.status_code == 422 and _code(extra) == "unknown_field"


def test_password_change_needs_a_session_not_a_token(client, world) -> None:  # type: ignore[no-untyped-def]
    person = world.person()
    response = client.post(
        "/api/v1/me/password",
        json={"current_password": "correct horse battery staple", "new_password": "new secret 123"},
        headers=person.headers,
    )
    assert response.status_code == 403 and _code(response) == "session_required"


def test_idle_timeout(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    idle = timedelta(minutes=settings.session_idle_minutes)
    with time_machine.travel(utcnow(), tick=False) as clock:
        _session(client)
        clock.shift(idle - timedelta(minutes=1))
        assert client.get(ME).status_code == 200  # activity keeps the session alive
        clock.shift(idle - timedelta(minutes=1))
        assert client.get(ME).status_code == 200
        clock.shift(idle + timedelta(seconds=1))
        expired = client.get(ME)
        assert expired.status_code == 401 and _code(expired) == "session_expired"


def test_absolute_timeout(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    step = timedelta(minutes=settings.session_idle_minutes - 5)
    absolute = timedelta(hours=settings.session_absolute_hours)
    with time_machine.travel(utcnow(), tick=False) as clock:
        _session(client)
        elapsed = timedelta(0)
        while elapsed + step < absolute:
            clock.shift(step)
            elapsed += step
            assert client.get(ME).status_code == 200
        clock.shift(absolute - elapsed + timedelta(seconds=1))
        expired = client.get(ME)
        assert expired.status_code == 401 and _code(expired) == "session_expired"


def test_deactivated_user_loses_the_session(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    user_id = make_user(db, settings)
    _session(client)
    with db.write() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.is_active = False
    response = client.get(ME)
    assert response.status_code == 401
