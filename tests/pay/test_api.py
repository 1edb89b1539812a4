"""The pay API: terms and bonuses (project managers), minimum wages (program office),
the manager's pay summary, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from datadam.domain.enums import OrgKind, Role
from datadam.storage.tables import Event
from datadam.storage.types import utcnow
from tests.factories import labeling_team
from tests.pay.helpers import do_item

TERMS = {"piece_rate_minor": 100, "hourly_rate_minor": 0, "currency": "KRW", "country": "KR"}


def test_managers_set_pay_terms_with_an_audit_event(world, db, client) -> None:  # type: ignore[no-untyped-def]
    _inst, _vendor, manager, crew, project = labeling_team(world, workers=1, items=1)
    url = f"/api/v1/projects/{project}/pay"
    assert client.get(url, headers=crew[0].headers).json()["piece_rate_minor"] == 0
    assert client.put(url, headers=crew[0].headers, json=TERMS).status_code == 403
    assert client.put(url, headers=manager.headers, json=TERMS).status_code == 200
    changed = client.put(url, headers=manager.headers, json={**TERMS, "piece_rate_minor": 250})
    assert changed.json()["piece_rate_minor"] == 250
    assert client.get(url, headers=crew[0].headers).json()["piece_rate_minor"] == 250
    bad = client.put(url, headers=manager.headers, json={**TERMS, "piece_rate_minor": -1})
    assert bad.status_code == 422
    with db.read() as session:
        events = (
            session.execute(select(Event).where(Event.action == "project.pay.update"))
            .scalars()
            .all()
        )
    assert [e.actor_id for e in events] == [manager.user_id] * 2
    assert events[1].before["piece_rate_minor"] == 100
    assert events[1].after["piece_rate_minor"] == 250


def test_strangers_cannot_see_or_set_a_projects_pay(world, client) -> None:  # type: ignore[no-untyped-def]
    *_, project = labeling_team(world, workers=1, items=1)
    other = world.org(OrgKind.VENDOR)
    stranger = world.person((other, Role.MANAGER))
    url = f"/api/v1/projects/{project}/pay"
    assert client.get(url, headers=stranger.headers).status_code == 404
    assert client.put(url, headers=stranger.headers, json=TERMS).status_code == 404
    assert client.get(f"{url}-summary", headers=stranger.headers).status_code == 404


def test_minimum_wages_are_shipped_and_edited_by_the_program_office(world, client) -> None:  # type: ignore[no-untyped-def]
    office = world.org(OrgKind.PROGRAM_OFFICE)
    admin = world.person((office, Role.ADMIN))
    *_, crew, _project = labeling_team(world, workers=1, items=1)
    korea = {
        r["effective_from"][:4]: r["hourly_minor"]
        for r in client.get("/api/v1/minimum-wages", headers=crew[0].headers).json()
        if r["country"] == "KR"
    }
    assert korea == {
        "2020": 8590,
        "2021": 8720,
        "2022": 9160,
        "2023": 9620,
        "2024": 9860,
        "2025": 10030,
        "2026": 10320,
    }
    row = {
        "country": "KR",
        "effective_from": "2027-01-01",
        "hourly_minor": 10500,
        "currency": "KRW",
    }
    assert client.put("/api/v1/minimum-wages", headers=crew[0].headers, json=row).status_code == 403
    assert client.put("/api/v1/minimum-wages", headers=admin.headers, json=row).status_code == 200
    fixed = client.put(
        "/api/v1/minimum-wages", headers=admin.headers, json={**row, "hourly_minor": 10600}
    )
    assert fixed.json()["hourly_minor"] == 10600


def test_bonuses_are_posted_once_per_client_ref(world, client) -> None:  # type: ignore[no-untyped-def]
    _inst, vendor, manager, crew, project = labeling_team(world, workers=1, items=1)
    body = {
        "worker_pseudonym": crew[0].pseudonym,
        "amount_minor": 5000,
        "reason": "careful work",
        "client_ref": "b-1",
    }
    url = f"/api/v1/projects/{project}/bonuses"
    assert client.post(url, headers=crew[0].headers, json=body).status_code == 403
    first = client.post(url, headers=manager.headers, json=body)
    again = client.post(url, headers=manager.headers, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["seq"] == again.json()["seq"] == 1
    conflict = client.post(url, headers=manager.headers, json={**body, "amount_minor": 9})
    assert conflict.status_code == 409
    unknown = client.post(url, headers=manager.headers, json={**body, "worker_pseudonym": "w_x"})
    assert unknown.status_code == 404
    assert vendor


def test_the_manager_sees_the_median_wage_a_warning_and_a_fair_piece_rate(
    world, db, client
) -> None:  # type: ignore[no-untyped-def]
    _inst, _vendor, manager, crew, project = labeling_team(world, workers=3, items=6)
    url = f"/api/v1/projects/{project}/pay"
    assert client.put(url, headers=manager.headers, json=TERMS).status_code == 200
    start = utcnow() + timedelta(minutes=1)
    month = f"?period={start.year:04d}-{start.month:02d}"
    for n, (person, seconds) in enumerate(zip(crew, (60, 120, 360), strict=True)):
        do_item(
            db,
            world.actor(person),
            project,
            start=start + timedelta(minutes=10 * n),
            seconds=seconds,
        )
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        summary = client.get(f"{url}-summary{month}", headers=manager.headers)
        denied = client.get(f"{url}-summary{month}", headers=crew[0].headers)
    assert denied.status_code == 403
    body = summary.json()
    assert body["minimum_hourly_minor"] == 10320
    # 100 won per item: 6,000/h (60 s), 3,000/h (120 s), 1,000/h (360 s)
    assert [w["effective_hourly_minor"] for w in body["workers"]] == [6000, 3000, 1000]
    assert body["median_effective_hourly_minor"] == 3000 and body["below_minimum"] is True
    assert body["workers_below_minimum"] == 3
    assert body["suggested_piece_rate_minor"] == 344  # 10,320 won/h × 120 s, rounded up
    assert body["piece_rate_for_every_worker_minor"] == 1032
    assert all(w["worker"].startswith("w_") for w in body["workers"])  # pseudonyms only
