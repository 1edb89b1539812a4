"""Measured working time from the server's clock (C-39) and heartbeat abuse (C-44)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from datadam.access.people import remove_membership
from datadam.assignment.service import next_task, submit_task
from datadam.domain.enums import OrgKind, Role
from datadam.errors import Conflict, NotFound
from datadam.pay.keys import load_or_create_platform_key
from datadam.pay.period import close_period, submitted_between
from datadam.pay.worktime import (
    FLAG_FAST_HEARTBEATS,
    active_time_us,
    measure,
    record_heartbeat,
)
from datadam.storage.tables import LedgerEntry, WorkFlag, WorkHeartbeat
from tests.factories import labeling_team
from tests.pay.helpers import AFTER_PERIOD, PERIOD, RESULT, WORK_START, do_item

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def _measured(db, start=WORK_START):  # type: ignore[no-untyped-def]
    with db.read() as session:
        works = submitted_between(session, start, AFTER_PERIOD)
        return measure(session, works)


# ---------------------------------------------------------------- the measure itself


def test_coverage_counts_gaps_up_to_the_idle_threshold_and_drops_longer_ones() -> None:
    beats = [T0 + timedelta(seconds=s) for s in (15, 30, 45, 300, 315)]
    got = active_time_us(
        leased_at=T0, submitted_at=T0 + timedelta(seconds=330), lease_seconds=1800, heartbeats=beats
    )
    # 0-15-30-45 (45 s), 45->300 dropped (idle), 300-315-330 (30 s)
    assert got == 75_000_000


def test_coverage_is_capped_at_the_lease() -> None:
    beats = [T0 + timedelta(seconds=s) for s in range(15, 4000, 15)]
    got = active_time_us(
        leased_at=T0, submitted_at=T0 + timedelta(seconds=4000), lease_seconds=600, heartbeats=beats
    )
    assert got == 600_000_000


@given(
    offsets=st.lists(st.integers(-(10**7), 10**7), max_size=40),
    submit_after=st.integers(-(10**5), 10**5),
    lease=st.integers(30, 7200),
)
def test_any_heartbeat_times_give_time_within_zero_and_the_lease(  # type: ignore[no-untyped-def]
    offsets, submit_after, lease
) -> None:
    """Future stamps, stamps before the lease, a submit 'before' the lease (clock went back):
    never negative, never more than the lease or the lease-to-submit span."""
    got = active_time_us(
        leased_at=T0,
        submitted_at=T0 + timedelta(seconds=submit_after),
        lease_seconds=lease,
        heartbeats=[T0 + timedelta(milliseconds=o) for o in offsets],
    )
    assert 0 <= got <= max(0, min(submit_after, lease)) * 1_000_000


# ---------------------------------------------------------------- through the services


def test_without_heartbeats_the_annotation_time_is_used(world, db) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, workers=1, items=2)
    worker = world.actor(crew[0])
    annotation = do_item(db, worker, project, start=WORK_START, seconds=90, beat_every=None)
    assert _measured(db)[annotation] == 90_000_000


def test_an_idle_page_earns_only_its_active_stretches(world, db) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, workers=1, items=2)
    worker = world.actor(crew[0])
    with time_machine.travel(WORK_START, tick=False) as clock:
        task = next_task(db, worker, project)
        with db.write() as session:
            for second in (15, 30, 45, 600, 615):
                record_heartbeat(
                    session, worker, task.assignment_id, now=WORK_START + timedelta(seconds=second)
                )
        clock.move_to(WORK_START + timedelta(seconds=630))
        submit_task(db, worker, task.assignment_id, result=RESULT, client_submission_id="a")
    assert list(_measured(db).values()) == [75_000_000]


def test_a_clock_jumping_back_never_gives_negative_or_inflated_time(world, db) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, workers=1, items=2)
    worker = world.actor(crew[0])
    with time_machine.travel(WORK_START, tick=False) as clock:
        task = next_task(db, worker, project)
        with db.write() as session:
            for second in (15, 30, 1200, -3600, 45, 60):  # a jump ahead, then far back
                record_heartbeat(
                    session, worker, task.assignment_id, now=WORK_START + timedelta(seconds=second)
                )
        clock.move_to(WORK_START + timedelta(seconds=75))
        submit_task(db, worker, task.assignment_id, result=RESULT, client_submission_id="a")
    assert list(_measured(db).values()) == [75_000_000]


def test_heartbeats_carry_no_client_time(world, db, client) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, workers=1, items=2)
    worker = world.actor(crew[0])
    task = next_task(db, worker, project)
    sent = client.post(
        f"/api/v1/assignments/{task.assignment_id}/heartbeat",
        headers=crew[0].headers,
        json={"at": "2099-01-01T00:00:00Z", "active_seconds": 99999},
    )
    assert sent.status_code == 204
    with db.read() as session:
        stamped = session.execute(select(WorkHeartbeat.at)).scalar_one()
    assert stamped.year != 2099 and abs((stamped - task.leased_at).total_seconds()) < 60


# ---------------------------------------------------------------- C-44 abuse


def test_a_heartbeat_script_is_capped_ignored_and_flagged(world, db) -> None:  # type: ignore[no-untyped-def]
    inst, vendor = world.org(OrgKind.INSTITUTION), world.org(OrgKind.VENDOR)
    person = world.person((vendor, Role.WORKER))
    project = world.project(inst, vendors=(vendor,), lease_seconds=300)
    world.texts(project, 2)
    worker = world.actor(person)
    with time_machine.travel(WORK_START, tick=False) as clock:
        task = next_task(db, worker, project)
        stored = 0
        with db.write() as session:  # one every 2 s until the 5-minute lease runs out
            for second in range(2, 300, 2):
                now = WORK_START + timedelta(seconds=second)
                stored += record_heartbeat(session, worker, task.assignment_id, now=now)
        with db.write() as session, pytest.raises(Conflict) as expired:
            record_heartbeat(
                session, worker, task.assignment_id, now=WORK_START + timedelta(hours=10)
            )
        assert expired.value.code == "assignment_expired"
        clock.move_to(WORK_START + timedelta(seconds=299))
        submit_task(db, worker, task.assignment_id, result=RESULT, client_submission_id="a")
    with db.read() as session:
        flag = session.execute(select(WorkFlag)).scalar_one()
        kept = session.execute(select(func.count()).select_from(WorkHeartbeat)).scalar_one()
    assert flag.kind == FLAG_FAST_HEARTBEATS
    assert kept == stored == 50  # one every 6 s: 2, 8, ... 296
    assert flag.count == 149 - stored
    assert list(_measured(db).values()) == [299_000_000]  # never more than lease-to-submit


def test_heartbeats_without_submitted_work_earn_nothing(world, db, settings) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, workers=1, items=2)
    worker = world.actor(crew[0])
    with time_machine.travel(WORK_START, tick=False):
        task = next_task(db, worker, project)
        with db.write() as session:
            for second in range(15, 1800, 15):
                record_heartbeat(
                    session, worker, task.assignment_id, now=WORK_START + timedelta(seconds=second)
                )
    key = load_or_create_platform_key(settings.data_dir)
    with db.write() as session:
        summary = close_period(session, key, PERIOD, now=AFTER_PERIOD)
    assert summary["entries_posted"] == 0 and summary["workers"] == []
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 0


def test_heartbeats_for_someone_elses_or_a_dead_assignment_are_refused(world, db, client) -> None:  # type: ignore[no-untyped-def]
    inst, vendor, _manager, crew, project = labeling_team(world, workers=2, items=4)
    alice, bob = (world.actor(p) for p in crew)
    task = next_task(db, alice, project)
    url = f"/api/v1/assignments/{task.assignment_id}/heartbeat"
    assert client.post(url, headers=crew[1].headers).status_code == 404
    assert (
        client.post("/api/v1/assignments/999999/heartbeat", headers=crew[0].headers).status_code
        == 404
    )
    assert client.post(url, headers=crew[0].headers).status_code == 204
    assert client.post(url, headers=crew[0].headers).status_code == 204  # too soon: ignored
    with time_machine.travel(task.expires_at + timedelta(seconds=1), tick=False):
        late = client.post(url, headers=crew[0].headers)
    assert late.status_code == 409 and late.json()["error"]["code"] == "assignment_expired"
    submit_task(db, alice, task.assignment_id, result=RESULT, client_submission_id="x")
    done = client.post(url, headers=crew[0].headers)
    assert done.status_code == 409 and done.json()["error"]["code"] == "not_active"
    other = next_task(db, bob, project)
    with db.write() as session:
        remove_membership(
            session, user_id=bob.user_id, organization_id=vendor, role=Role.WORKER, actor_id=None
        )
    with db.write() as session, pytest.raises(NotFound):
        record_heartbeat(session, world.actor(crew[1]), other.assignment_id)
    assert inst != vendor
