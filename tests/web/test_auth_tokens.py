"""C-05: API tokens: stored hashed, shown once, expiry, revocation, deactivation, no URLs."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import time_machine
from sqlalchemy import delete, select

from datadam.domain.enums import OrgKind, Role
from datadam.storage.tables import ApiToken, Event, Membership, User
from datadam.storage.types import utcnow
from tests.access.helpers import dump, log_in, make_user

TOKENS = "/api/v1/tokens"


def _csrf(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = log_in(client)
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def _code(response) -> str:  # type: ignore[no-untyped-def]
    return response.json()["error"]["code"]


def test_token_is_shown_once_and_stored_as_sha256(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    csrf = _csrf(client)
    created = client.post(TOKENS, json={"name": "nightly export"}, headers=csrf)
    assert created.status_code == 201, created.text
    body = created.json()
    raw = body["token"]
    assert raw.startswith("ddt_") and len(raw) >= 4 + 43
    assert created.headers["cache-control"] == "no-store"
    listed = client.get(TOKENS).json()
    assert [t["name"] for t in listed] == ["nightly export"]
    assert "token" not in listed[0] and "token_hash" not in listed[0]
    text = dump(db)
    assert raw not in text
    assert hashlib.sha256(raw.encode()).hexdigest() in text
    me = client.get("/api/v1/me", headers=_bearer(raw))
    assert me.status_code == 200
    with db.read() as session:
        actions = list(session.execute(select(Event.action)).scalars())
    assert "token_created" in actions


def test_expired_token(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    raw = client.post(
        TOKENS, json={"name": "t", "expires_in_days": 1}, headers=_csrf(client)
    ).json()["token"]
    with time_machine.travel(utcnow() + timedelta(days=1, seconds=1), tick=False):
        response = client.get("/api/v1/me", headers=_bearer(raw))
    assert response.status_code == 401 and _code(response) == "token_expired"


def test_revoked_token_and_only_own_tokens(client, db, settings, world) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    csrf = _csrf(client)
    created = client.post(TOKENS, json={"name": "t"}, headers=csrf).json()
    stranger = world.person()
    with db.read() as session:
        foreign_id = session.execute(
            select(ApiToken.id).where(ApiToken.user_id == stranger.user_id)
        ).scalar_one()
    refused = client.delete(f"{TOKENS}/{foreign_id}", headers=csrf)
    assert refused.status_code == 404
    assert client.get("/api/v1/me", headers=stranger.headers).status_code == 200
    assert client.delete(f"{TOKENS}/999999", headers=csrf).status_code == 404
    assert client.delete(f"{TOKENS}/{created['id']}", headers=csrf).status_code == 204
    response = client.get("/api/v1/me", headers=_bearer(created["token"]))
    assert response.status_code == 401 and _code(response) == "token_revoked"
    assert client.get(TOKENS).json()[0]["revoked_at"] is not None


def test_token_can_revoke_but_not_create_tokens(client, world) -> None:  # type: ignore[no-untyped-def]
    person = world.person()
    made = client.post(TOKENS, json={"name": "more"}, headers=person.headers)
    assert made.status_code == 403 and _code(made) == "session_required"
    listed = client.get(TOKENS, headers=person.headers).json()
    gone = client.delete(f"{TOKENS}/{listed[0]['id']}", headers=person.headers)
    assert gone.status_code == 204
    assert _code(client.get(TOKENS, headers=person.headers)) == "token_revoked"


def test_deactivated_user_token_is_refused(client, db, world) -> None:  # type: ignore[no-untyped-def]
    person = world.person()
    with db.write() as session:
        user = session.get(User, person.user_id)
        assert user is not None
        user.is_active = False
    response = client.get("/api/v1/me", headers=person.headers)
    assert response.status_code == 401


def test_removed_membership_counts_on_the_next_request(client, db, world) -> None:  # type: ignore[no-untyped-def]
    org = world.org(OrgKind.INSTITUTION)
    person = world.person((org, Role.MANAGER))
    assert len(client.get("/api/v1/me", headers=person.headers).json()["memberships"]) == 1
    with db.write() as session:
        session.execute(delete(Membership).where(Membership.user_id == person.user_id))
    assert client.get("/api/v1/me", headers=person.headers).json()["memberships"] == []


def test_token_in_the_query_string_is_refused(client, world) -> None:  # type: ignore[no-untyped-def]
    person = world.person()
    for name in ("access_token", "token"):
        response = client.get(f"/api/v1/me?{name}={person.token}")
        assert response.status_code == 400
        assert _code(response) == "token_in_url"


def test_token_input_is_checked(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    make_user(db, settings)
    csrf = _csrf(client)
    extra = client.post(TOKENS, json={"name": "t", "user_id": 1}, headers=csrf)
    assert extra.status_code == 422 and _code(extra) == "unknown_field"
    too_long = client.post(TOKENS, json={"name": "t", "expires_in_days": 10_000}, headers=csrf)
    assert too_long.status_code == 422
