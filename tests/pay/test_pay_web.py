"""Pay pages and API: the worker's statement and payouts, the manager's pay panel, and
personal data kept from everyone but the worker and their vendor's admins (issue 7 item 10)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from datadam.domain.enums import OrgKind, Role
from datadam.pay.keys import load_or_create_platform_key
from datadam.pay.period import close_period
from datadam.pay.rates import set_project_pay
from datadam.storage.tables import Event
from tests.factories import PASSWORD, labeling_team
from tests.pay.helpers import AFTER_PERIOD, PERIOD, WORK_START, do_item

PROFILE = {
    "legal_name": "김비밀",
    "phone": "010-1234-5678",
    "bank_name": "한빛은행",
    "bank_account": "9999-0000-7777",
}


def _session(client, person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    response = client.post("/api/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def _closed_world(world, db, settings):  # type: ignore[no-untyped-def]
    inst, vendor, manager, crew, project = labeling_team(world, workers=2, items=4)
    with db.write() as session:
        set_project_pay(
            session,
            world.actor(manager),
            project,
            piece_rate_minor=100,
            hourly_rate_minor=0,
            now=WORK_START - timedelta(days=1),
        )
    for n, person in enumerate(crew):
        do_item(
            db, world.actor(person), project, start=WORK_START + timedelta(hours=n), seconds=600
        )
    key = load_or_create_platform_key(settings.data_dir)
    with db.write() as session:
        close_period(session, key, PERIOD, now=AFTER_PERIOD)
    return inst, vendor, manager, crew, project


def test_worker_statement_api_csv_and_pdf(world, db, settings, client) -> None:  # type: ignore[no-untyped-def]
    _inst, _vendor, _manager, crew, _project = _closed_world(world, db, settings)
    headers = crew[0].headers
    body = client.get(f"/api/v1/me/pay/statements/{PERIOD}", headers=headers).json()
    assert body["closed"] and body["worker"] == crew[0].pseudonym
    assert body["earnings_minor"] == 100 and body["worked_seconds"] == 600
    assert body["top_up_minor"] == -(-10_320 * 600 // 3600) - 100
    assert body["effective_hourly_after_top_up_minor"] >= 10_320
    csv = client.get(f"/api/v1/me/pay/statements/{PERIOD}/csv", headers=headers)
    assert csv.headers["content-type"].startswith("text/csv")
    assert "earnings_minor,100" in csv.text
    pdf = client.get(f"/api/v1/me/pay/statements/{PERIOD}/pdf", headers=headers)
    assert pdf.content.startswith(b"%PDF-")
    assert "attachment" in pdf.headers["content-disposition"]
    bad = client.get("/api/v1/me/pay/statements/2026-13", headers=headers)
    assert bad.status_code == 422


def test_payout_request_api_is_bounded_by_the_balance(world, db, settings, client) -> None:  # type: ignore[no-untyped-def]
    _inst, vendor, _manager, crew, _project = _closed_world(world, db, settings)
    admin = world.person((vendor, Role.ADMIN))
    (balance,) = client.get("/api/v1/me/pay/balances", headers=crew[0].headers).json()
    assert balance["organization_id"] == vendor and balance["available_minor"] > 0
    url = "/api/v1/me/payout-requests"
    too_much = {"organization_id": vendor, "amount_minor": balance["available_minor"] + 1}
    assert client.post(url, headers=crew[0].headers, json=too_much).status_code == 409
    made = client.post(
        url, headers=crew[0].headers, json={"organization_id": vendor, "amount_minor": 500}
    )
    assert made.status_code == 201
    request_id = made.json()["id"]
    approve = f"/api/v1/payout-requests/{request_id}/approve"
    assert client.post(approve, headers=crew[1].headers).status_code == 404
    approved = client.post(approve, headers=admin.headers)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert client.post(approve, headers=admin.headers).status_code == 409
    (after,) = client.get("/api/v1/me/pay/balances", headers=crew[0].headers).json()
    assert after["balance_minor"] == balance["balance_minor"] - 500


def test_personal_data_only_for_the_worker_and_their_vendors_admins(world, db, client) -> None:  # type: ignore[no-untyped-def]
    inst, vendor, manager, crew, project = labeling_team(world, workers=1, items=2)
    worker = crew[0]
    saved = client.put("/api/v1/me/profile", headers=worker.headers, json=PROFILE)
    assert saved.status_code == 200 and saved.json()["bank_account"] == PROFILE["bank_account"]
    vendor_admin = world.person((vendor, Role.ADMIN))
    other_vendor = world.org(OrgKind.VENDOR)
    office = world.org(OrgKind.PROGRAM_OFFICE)
    outsiders = {
        "manager": manager,
        "inspector": world.person((inst, Role.INSPECTOR)),
        "institution admin": world.person((inst, Role.ADMIN)),
        "other vendor admin": world.person((other_vendor, Role.ADMIN)),
        "vendor manager": world.person((vendor, Role.MANAGER)),
        "fellow worker": world.person((vendor, Role.WORKER)),
        "program office": world.person((office, Role.ADMIN)),
    }
    url = f"/api/v1/workers/{worker.user_id}/profile"
    assert client.get(url, headers=worker.headers).json()["legal_name"] == PROFILE["legal_name"]
    assert (
        client.get(url, headers=vendor_admin.headers).json()["bank_account"]
        == (PROFILE["bank_account"])
    )
    for who, person in outsiders.items():
        response = client.get(url, headers=person.headers)
        assert response.status_code == 404, who
        assert PROFILE["bank_account"] not in response.text, who
    do_item(db, world.actor(worker), project, start=WORK_START, seconds=60)
    summary = client.get(
        f"/api/v1/projects/{project}/pay-summary",
        headers=manager.headers,
        params={"period": PERIOD},
    )
    assert [w["worker"] for w in summary.json()["workers"]] == [worker.pseudonym]
    for secret in (*PROFILE.values(), "Person"):
        assert secret not in summary.text
    with db.read() as session:
        events = session.execute(select(Event).where(Event.action == "worker_profile.update"))
        (event,) = events.scalars().all()
    assert PROFILE["bank_account"] not in str(event.after)  # the log names fields, not values


def test_pages_show_pay_to_the_worker_and_pseudonyms_to_the_manager(  # type: ignore[no-untyped-def]
    world, db, settings, client
) -> None:
    _inst, vendor, manager, crew, project = _closed_world(world, db, settings)
    worker = crew[0]
    csrf = _session(client, worker)
    page = client.get(f"/work/pay?period={PERIOD}")
    assert page.status_code == 200
    assert 'id="effective-hourly"' in page.text and "₩600" in page.text  # 100 won in 10 min
    form = {"csrf_token": csrf["X-CSRF-Token"]}
    saved = client.post("/work/profile", data={**form, **PROFILE}, follow_redirects=False)
    assert saved.status_code == 303
    asked = client.post(
        "/work/pay/payout-requests",
        data={**form, "account": f"{vendor}:KRW", "amount_minor": "50"},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    refused = client.post(
        "/work/pay/payout-requests",
        data={**form, "account": f"{vendor}:KRW", "amount_minor": "99999999"},
    )
    assert refused.status_code == 409 and 'id="pay-problem"' in refused.text
    assert client.get(f"/work/pay/{PERIOD}/statement.csv").text.startswith("date,project")
    printable = client.post("/work/certificate", data=form)
    assert printable.status_code == 200 and 'id="cert-items"' in printable.text
    downloaded = client.post("/work/certificate.json", data=form)
    assert downloaded.json()["certificate"]["worker"]["pseudonym"] == worker.pseudonym

    _session(client, manager)
    managed = client.get(f"/manage/projects/{project}")
    assert managed.status_code == 200 and 'id="pay-median"' in managed.text
    for secret in PROFILE.values():
        assert secret not in managed.text
    assert client.get("/payouts").status_code == 200
    assert PROFILE["bank_account"] not in client.get("/payouts").text

    admin = world.person((vendor, Role.ADMIN))
    csrf = _session(client, admin)
    desk = client.get("/payouts")
    assert PROFILE["bank_account"] in desk.text and PROFILE["legal_name"] in desk.text


def test_pay_pages_show_outsiders_no_personal_data(world, db, settings, client) -> None:  # type: ignore[no-untyped-def]
    inst, vendor, manager, crew, project = _closed_world(world, db, settings)
    assert (
        client.put("/api/v1/me/profile", headers=crew[0].headers, json=PROFILE).status_code == 200
    )
    client.post(
        "/api/v1/me/payout-requests",
        headers=crew[0].headers,
        json={"organization_id": vendor, "amount_minor": 10},
    ).raise_for_status()
    office = world.org(OrgKind.PROGRAM_OFFICE)
    other_vendor = world.org(OrgKind.VENDOR)
    outsiders = [
        manager,
        world.person((inst, Role.INSPECTOR)),
        world.person((inst, Role.ADMIN)),
        world.person((other_vendor, Role.ADMIN)),
        world.person((office, Role.ADMIN)),
        crew[1],
    ]
    for person in outsiders:
        _session(client, person)
        for url in ("/payouts", "/work/pay", "/work/profile", f"/manage/projects/{project}"):
            text = client.get(url).text
            for secret in PROFILE.values():
                assert secret not in text, (person.email, url)
        listed = client.get(f"/api/v1/organizations/{vendor}/payout-requests")
        assert listed.status_code == 403 and PROFILE["bank_account"] not in listed.text


def test_managers_set_rates_per_kind_of_work_on_the_project_page(world, db, client) -> None:  # type: ignore[no-untyped-def]
    inst, _vendor, manager, _crew, project = labeling_team(world, workers=1, items=1)
    csrf = _session(client, manager)
    form = {
        "csrf_token": csrf["X-CSRF-Token"],
        "task_type": "training",
        "piece_rate_minor": "0",
        "hourly_rate_minor": "10320",
    }
    url = f"/manage/projects/{project}/task-rates"
    assert client.post(url, data=form, follow_redirects=False).status_code == 303
    page = client.get(f"/manage/projects/{project}").text
    assert '<tr data-task-type="training"><td>Training</td><td class="num">—</td>' in page
    assert "₩10,320" in page
    rates = client.get(f"/api/v1/projects/{project}/task-rates").json()
    assert {r["task_type"]: r["hourly_rate_minor"] for r in rates}["training"] == 10_320
    refused = client.post(url, data={**form, "hourly_rate_minor": "-5"})
    assert refused.status_code == 422
    csrf = _session(client, world.person((inst, Role.INSPECTOR)))
    assert client.post(url, data={**form, "csrf_token": csrf["X-CSRF-Token"]}).status_code == 404
