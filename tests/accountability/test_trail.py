"""C-28: every state change leaves an event with who, what, when, before and after; the
trail filters, pages, exports and verifies its hash chain, for oversight only."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from datadam.access import people
from datadam.accountability import talent, trail
from datadam.domain.enums import Role
from datadam.errors import NotAllowed
from datadam.pay import rates
from datadam.projects import service
from datadam.storage.tables import Event
from tests.accountability.helpers import build_program

SECRET = "s" * 40


def _events(world, auditor, **filters):  # type: ignore[no-untyped-def]
    with world.db.read() as session:
        rows, _ = trail.list_events(
            session, world.actor(auditor), trail.TrailFilter(**filters), limit=500
        )
    return rows


def test_every_listed_state_change_is_in_the_trail(world) -> None:  # type: ignore[no-untyped-def]
    """Walk project settings, rates, ledger entries (close and bonus), role changes and the
    talent pool; each leaves one event naming the actor with before and/or after."""
    program = build_program(world)  # includes a rate change and a period close
    manager = world.actor(program.manager)
    with world.db.write() as session:
        view = service.get_project_for(session, manager, program.project)
        service.update_project(session, view, manager, {"overlap": 2, "name": "Renamed"})
    with world.db.write() as session:
        rates.set_project_pay(
            session, manager, program.project, piece_rate_minor=150, hourly_rate_minor=0
        )
    with world.db.write() as session:
        entry, _ = rates.award_bonus(
            session,
            manager,
            program.project,
            worker_pseudonym=program.fast.pseudonym,
            amount_minor=500,
            reason="careful work",
            client_ref="bonus-1",
        )
        bonus_seq = entry.seq
    with world.db.write() as session:
        people.add_membership(
            session,
            user_id=program.other.user_id,
            organization_id=program.inst,
            role=Role.INSPECTOR,
            actor_id=program.manager.user_id,
        )
    with world.db.write() as session:
        people.remove_membership(
            session,
            user_id=program.other.user_id,
            organization_id=program.inst,
            role=Role.INSPECTOR,
            actor_id=program.manager.user_id,
        )
    with world.db.write() as session:
        talent.set_fields(session, world.actor(program.fast), ["general"])
    auditor = program.auditor
    manager_p = program.manager.pseudonym

    [settings] = _events(world, auditor, action="project.update")
    assert settings["actor"] == manager_p and settings["project_id"] == program.project
    assert settings["before"]["overlap"] == 3 and settings["after"]["overlap"] == 2
    assert settings["after"]["name"] == "Renamed"

    pay = _events(world, auditor, action="project.pay.update", project_id=program.project)
    assert [e["after"]["piece_rate_minor"] for e in pay] == [150, 100]  # newest first
    assert pay[0]["before"]["piece_rate_minor"] == 100 and pay[1]["before"] is None

    [close] = _events(world, auditor, action="pay.close_period")
    assert close["object_id"] == "2026-10" and close["after"]["entries_posted"] > 0
    [bonus] = _events(world, auditor, action="pay.bonus")
    assert bonus["object_id"] == str(bonus_seq) and bonus["after"]["amount_minor"] == 500

    roles = _events(world, auditor, action="membership.", organization_id=program.inst)
    changed = [e for e in roles if e["actor"] == manager_p]
    assert [e["action"] for e in changed] == ["membership.remove", "membership.add"]
    # people appear by pseudonym, never by user id
    assert changed[0]["before"] == {"user_id": program.other.pseudonym, "role": "inspector"}
    assert changed[1]["after"] == {"user_id": program.other.pseudonym, "role": "inspector"}

    [pool] = _events(world, auditor, action="talent.opt_in")
    assert pool["before"] == {"fields": []} and pool["after"] == {"fields": ["general"]}

    for event in _events(world, auditor):
        assert event["at"] is not None and event["hash"] and event["prev_hash"]
    with world.db.read() as session:
        report = trail.verify_trail(session, world.actor(auditor))
    assert report.ok and report.first_bad_event is None and report.events > 10


def test_filters_keyset_pages_and_dates(world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world, close=False)
    auditor = world.actor(program.auditor)
    with world.db.read() as session:
        total = len(trail.list_events(session, auditor, trail.TrailFilter(), limit=500)[0])
        seen: list[int] = []
        before = None
        while True:
            rows, before = trail.list_events(
                session, auditor, trail.TrailFilter(), before_id=before, limit=7
            )
            seen += [r["id"] for r in rows]
            if before is None:
                break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == total
    today = datetime.now(UTC).date()
    assert len(_events(world, program.auditor, since=today, until=today)) == total
    assert _events(world, program.auditor, until=today - timedelta(days=1)) == []
    creates = _events(world, program.auditor, object_type="user")
    assert creates and all(e["object_type"] == "user" for e in creates)
    mine = _events(world, program.auditor, actor=program.manager.pseudonym)
    assert mine and all(e["actor"] == program.manager.pseudonym for e in mine)
    with pytest.raises(Exception, match="start date"):
        _events(world, program.auditor, since=date(2026, 2, 1), until=date(2026, 1, 1))


def test_names_and_emails_never_appear(world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world, close=False)
    with world.db.read() as session:
        rows = list(trail.iter_events(session, trail.TrailFilter()))
    text = json.dumps(rows, default=str)
    for person in (program.manager, program.fast, program.slow):
        assert person.email not in text
    assert program.manager.pseudonym in text
    users = [r for r in rows if r["object_type"] == "user"]
    assert users and all(r["object_id"].startswith("w_") for r in users)
    by_pseudonym = _events(
        world, program.auditor, object_type="user", object_id=program.fast.pseudonym
    )
    assert [e["action"] for e in by_pseudonym] == ["user.create"]


def test_exports_csv_and_jsonl(world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world, close=False)
    flt = trail.TrailFilter(action="project.pay.update")
    with world.db.read() as session:
        jsonl = "".join(trail.export_lines(trail.iter_events(session, flt), "jsonl"))
        text = "".join(trail.export_lines(trail.iter_events(session, flt), "csv"))
    [line] = jsonl.splitlines()
    assert json.loads(line)["after"]["piece_rate_minor"] == 100
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["action"] == "project.pay.update" and row["actor"] == program.manager.pseudonym
    assert json.loads(row["after"])["piece_rate_minor"] == 100
    assert list(row) == list(trail.EXPORT_COLUMNS)


def test_tampering_is_named(world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world, close=False)
    with world.db.read() as session:
        target = session.execute(
            select(Event.id).where(Event.action == "project.pay.update")
        ).scalar_one()
    with world.db.engine.begin() as conn:  # an attacker with database access
        if world.db.is_postgres:
            conn.execute(text("ALTER TABLE event DISABLE TRIGGER event_append_only"))
        else:
            saved = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n"),
                {"n": "event_no_update"},
            ).scalar_one()
            conn.execute(text("DROP TRIGGER event_no_update"))
        conn.execute(update(Event).where(Event.id == target).values(action="project.view"))
        if world.db.is_postgres:
            conn.execute(text("ALTER TABLE event ENABLE TRIGGER event_append_only"))
        else:
            conn.execute(text(saved))
    with world.db.read() as session:
        report = trail.verify_trail(session, world.actor(program.officer))
    assert not report.ok and report.first_bad_event == target
    assert str(target) in report.message


def test_only_oversight_reads_the_trail(world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world, close=False)
    for person in (program.manager, program.fast, program.inspector):
        with world.db.read() as session:
            with pytest.raises(NotAllowed):
                trail.list_events(session, world.actor(person), trail.TrailFilter())
            with pytest.raises(NotAllowed):
                trail.verify_trail(session, world.actor(person))


def test_rejections_and_appeals_are_in_the_trail(world) -> None:  # type: ignore[no-untyped-def]
    from datadam.domain.enums import OrgKind
    from datadam.inspection import workflow
    from tests.inspection.helpers import labelled_team, view_for

    t = labelled_team(world, items=2, workers=2)
    auditor = world.person((world.org(OrgKind.QUALITY_AGENCY), Role.AUDITOR))
    work = t["ids"][0]
    with world.db.write() as session:
        view = view_for(session, world, t["inspector"], t["project"])
        verdict = workflow.record_verdict(
            session,
            view,
            world.actor(t["inspector"]),
            work,
            outcome="reject",
            reason_code="wrong_label",
        ).verdict_id
    with world.db.write() as session:
        workflow.appeal_rejection(session, world.actor(t["crew"][0]), verdict, text="It is right")
    with world.db.write() as session:
        view = view_for(session, world, t["manager"], t["project"])
        workflow.resolve_appeal(
            session, view, world.actor(t["manager"]), verdict, decision="upheld"
        )
    [reject] = _events(world, auditor, action="inspection.reject")
    assert reject["actor"] == t["inspector"].pseudonym and reject["object_id"] == str(work)
    assert reject["after"]["reason_code"] == "wrong_label" and reject["before"] is not None
    [appeal] = _events(world, auditor, action="inspection.appeal")
    assert appeal["actor"] == t["crew"][0].pseudonym
    assert appeal["before"] == {"appeal_status": "none"}
    assert appeal["after"]["appeal_status"] == "open"
    [resolved] = _events(
        world, auditor, object_type="inspection_verdict", action="inspection.appeal_resolved"
    )
    assert resolved["actor"] == t["manager"].pseudonym
    assert (resolved["before"], resolved["after"]["appeal_status"]) == (
        {"appeal_status": "open"},
        "upheld",
    )
    with world.db.read() as session:
        assert trail.verify_trail(session, world.actor(auditor)).ok


def test_payout_ledger_entries_are_in_the_trail(world) -> None:  # type: ignore[no-untyped-def]
    """Every ledger entry is covered by an event: earnings and top-ups by the period close
    (checked above), bonuses by pay.bonus, payouts by payout.approve naming the entry."""
    from datadam.pay import payouts
    from datadam.storage.tables import LedgerEntry

    program = build_program(world)
    admin = world.person((program.vendor_a, Role.ADMIN))
    with world.db.write() as session:
        request = payouts.request_payout(
            session, world.actor(program.fast), organization_id=program.vendor_a, amount_minor=300
        )
        request_id = request.id
    with world.db.write() as session:
        payouts.approve_payout(session, world.actor(admin), request_id)
    [asked] = _events(world, program.auditor, action="payout.request")
    assert asked["actor"] == program.fast.pseudonym and asked["after"]["amount_minor"] == 300
    [paid] = _events(world, program.auditor, action="payout.approve")
    assert paid["actor"] == admin.pseudonym and paid["before"] == {"status": "requested"}
    with world.db.read() as session:
        entry = session.get(LedgerEntry, paid["after"]["ledger_seq"])
        assert entry is not None and entry.kind == "payout" and int(entry.amount) == 300
