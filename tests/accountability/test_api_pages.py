"""The accountability API and pages: oversight reads everything and changes nothing; the
talent pool's offer flow over HTTP; personal data reaches an organisation only on accept."""

from __future__ import annotations

import csv
import io
import json

from tests.accountability.helpers import PERIOD, add_verdict, build_program
from tests.security.support import db_fingerprint, send, session_headers


def test_oversight_reads_dashboard_scorecards_and_trail(client, world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world)
    add_verdict(
        world.db,
        program.annotations["slow"][0],
        program.inspector.user_id,
        outcome="reject",
        at=program_time(),
    )
    for person in (program.officer, program.auditor):
        h = person.headers
        data = send(client, "GET", "/api/v1/program/dashboard", headers=h).json()
        assert data["totals"]["labels"] == 10 and data["totals"]["projects"] == 1
        assert data["pay"]["periods"][-1] >= PERIOD
        [row] = data["projects"]
        assert row["rejection_rate"] == 1.0 and row["verdicts"] == 1
        drill = send(client, "GET", f"/api/v1/program/projects/{program.project}", headers=h)
        assert drill.status_code == 200 and drill.json()["project"]["labels"] == 10
        cards = send(client, "GET", f"/api/v1/scorecards?period={PERIOD}", headers=h).json()
        by_org = {c["organization_id"]: c for c in cards["cards"]}
        assert by_org[program.vendor_a]["rejections"] == 1
        assert by_org[program.vendor_a]["rank"] in (1, 2)
        exported = send(client, "GET", f"/api/v1/scorecards/export?period={PERIOD}", headers=h)
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert {int(r["organization_id"]) for r in rows} >= {program.vendor_a, program.inst}
        events = send(client, "GET", "/api/v1/audit/events?limit=3", headers=h).json()
        assert len(events["items"]) == 3 and events["next_cursor"]
        older = send(
            client,
            "GET",
            f"/api/v1/audit/events?limit=3&cursor={events['next_cursor']}",
            headers=h,
        ).json()
        assert older["items"][0]["id"] < events["items"][-1]["id"]
        # a cursor is bound to its filter
        other = send(
            client,
            "GET",
            f"/api/v1/audit/events?limit=3&action=login&cursor={events['next_cursor']}",
            headers=h,
        )
        assert other.status_code == 400
        jsonl = send(
            client, "GET", "/api/v1/audit/events/export?format=jsonl&action=pay.", headers=h
        )
        actions = {json.loads(line)["action"] for line in jsonl.text.splitlines()}
        assert actions == {"pay.close_period"}
        verify = send(client, "GET", "/api/v1/audit/verify", headers=h).json()
        assert verify["ok"] is True and verify["events"] > 0


def program_time():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2026, 10, 15, tzinfo=UTC)


def test_auditor_pages_render_without_forms_and_writes_are_refused(client, world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world)
    h = session_headers(world.db, program.auditor)
    for url in (
        "/program",
        f"/program/projects/{program.project}",
        f"/program/scorecards?period={PERIOD}",
        "/program/audit",
        "/program/audit?action=project.&since=2026-01-01",
        "/program/audit/verify",
    ):
        page = send(client, "GET", url, headers=h)
        assert page.status_code == 200, url
        main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
        assert 'method="post"' not in main, url  # the header's language/logout forms aside
    assert "canvas" in send(client, "GET", "/program", headers=h).text
    audit = send(client, "GET", "/program/audit?action=pay.", headers=h).text
    assert "pay.close_period" in audit and "project.create" not in audit
    assert "chain-ok" in send(client, "GET", "/program/audit/verify", headers=h).text
    bad = send(client, "GET", "/program/audit?since=not-a-date", headers=h)
    assert bad.status_code == 422 and "filter-error" in bad.text
    before = db_fingerprint(world.db)
    for method, url, kwargs in (
        ("PUT", "/api/v1/talent/me", {"json": {"fields": ["general"]}}),
        (
            "POST",
            "/api/v1/talent/offers",
            {
                "json": {
                    "organization_id": program.inst,
                    "candidate": "t_0",
                    "field": "general",
                    "title": "x",
                }
            },
        ),
        ("POST", "/talent/fields", {"data": {"field": "general"}}),
    ):
        response = send(client, method, url, headers=h, **kwargs)
        assert response.status_code == 403, (url, response.status_code)
    assert db_fingerprint(world.db) == before


def test_others_cannot_read_oversight_pages(client, world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world, close=False)
    for person in (program.manager, program.fast):
        h = session_headers(world.db, person)
        assert send(client, "GET", "/program", headers=h).status_code == 404
        assert send(client, "GET", "/program/audit", headers=h).status_code == 404
        assert (
            send(client, "GET", "/api/v1/audit/events", headers=person.headers).status_code == 403
        )
    manager_cards = send(
        client,
        "GET",
        f"/program/scorecards?period={PERIOD}",
        headers=session_headers(world.db, program.manager),
    )
    assert manager_cards.status_code == 200
    assert f'data-org="{program.inst}"' in manager_cards.text
    assert f'data-org="{program.vendor_a}"' not in manager_cards.text


def test_offer_flow_over_http(client, world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world, close=False)
    worker = session_headers(world.db, program.fast)
    manager = session_headers(world.db, program.manager)
    page = send(
        client,
        "POST",
        "/talent/fields",
        headers=worker,
        data={"field": "general"},
        follow_redirects=False,
    )
    assert page.status_code == 303
    me = send(client, "GET", "/api/v1/talent/me", headers=program.fast.headers).json()
    assert me["fields"] == ["general"] and "general" in me["known_fields"]
    pool = send(
        client, "GET", "/api/v1/talent/pool?field=general", headers=program.manager.headers
    ).json()
    [candidate] = pool["candidates"]
    assert candidate["items"] == 4 and candidate["hours"] > 0
    text = json.dumps(pool)
    assert program.fast.email not in text and program.fast.pseudonym not in text
    assert set(candidate) == {
        "pseudonym",
        "field",
        "hours",
        "items",
        "gold_accuracy",
        "gold_answers",
        "training_hours",
        "qualification_hours",
    }
    sent = send(
        client,
        "POST",
        "/talent/offers",
        headers=manager,
        follow_redirects=False,
        data={
            "organization_id": str(program.inst),
            "candidate": candidate["pseudonym"],
            "field": "general",
            "title": "Senior annotator",
        },
    )
    assert sent.status_code == 303
    offers = send(client, "GET", "/api/v1/talent/offers", headers=program.manager.headers).json()
    [offer] = offers["sent"]
    assert offer["status"] == "sent" and offer["contact"] is None
    again = send(
        client,
        "POST",
        "/api/v1/talent/offers",
        headers=program.manager.headers,
        json={
            "organization_id": program.inst,
            "candidate": candidate["pseudonym"],
            "field": "general",
            "title": "Twice",
        },
    )
    assert again.status_code == 409
    # another worker cannot answer it; the worker can, once
    other = send(
        client, "POST", f"/api/v1/talent/offers/{offer['id']}/accept", headers=program.slow.headers
    )
    assert other.status_code == 404
    talent_page = send(client, "GET", "/talent", headers=worker).text
    assert "Senior annotator" in talent_page
    answered = send(
        client,
        "POST",
        f"/talent/offers/{offer['id']}/respond",
        headers=worker,
        data={"decision": "accept"},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    twice = send(
        client, "POST", f"/api/v1/talent/offers/{offer['id']}/decline", headers=program.fast.headers
    )
    assert twice.status_code == 409
    offers = send(client, "GET", "/api/v1/talent/offers", headers=program.manager.headers).json()
    assert offers["sent"][0]["contact"]["email"] == program.fast.email
    hired = send(
        client,
        "POST",
        f"/talent/offers/{offer['id']}/hire",
        headers=manager,
        follow_redirects=False,
    )
    assert hired.status_code == 303
    page = send(client, "GET", "/talent", headers=manager).text
    assert "Hired" in page and program.fast.email in page
