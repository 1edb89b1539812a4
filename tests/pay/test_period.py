"""Period close: earnings, minimum-wage top-ups, idempotency, and the issue's simulation."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import select

from datadam.domain.enums import OrgKind, Role
from datadam.errors import Conflict, InputError
from datadam.pay.keys import load_or_create_platform_key
from datadam.pay.period import close_period, period_bounds
from datadam.pay.rates import set_project_pay
from datadam.pay.worktime import record_worked_time
from datadam.storage.tables import LedgerBalance, LedgerEntry
from tests.factories import labeling_team
from tests.pay.helpers import (
    AFTER_PERIOD,
    PERIOD,
    WORK_START,
    cli_env,
    do_item,
    run_cli,
    tampering,
)

MINIMUM_2026 = 10_320
US_PER_HOUR = 3_600_000_000


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _entries(db):  # type: ignore[no-untyped-def]
    with db.read() as session:
        return session.execute(select(LedgerEntry).order_by(LedgerEntry.seq)).scalars().all()


def _set_pay(world, manager, project, *, piece=0, hourly=0, at=None) -> None:  # type: ignore[no-untyped-def]
    with world.db.write() as session:
        set_project_pay(
            session,
            world.actor(manager),
            project,
            piece_rate_minor=piece,
            hourly_rate_minor=hourly,
            now=at or WORK_START - timedelta(days=1),
        )


def test_period_bounds_are_utc_months() -> None:
    start, end = period_bounds("2026-12")
    assert (start.isoformat(), end.isoformat()) == (
        "2026-12-01T00:00:00+00:00",
        "2027-01-01T00:00:00+00:00",
    )
    with pytest.raises(InputError):
        period_bounds("2026-13")


def test_an_open_period_cannot_be_closed(db, settings) -> None:  # type: ignore[no-untyped-def]
    key = load_or_create_platform_key(settings.data_dir)
    with pytest.raises(Conflict) as refused, db.write() as session:
        close_period(session, key, PERIOD, now=AFTER_PERIOD - timedelta(days=5))
    assert refused.value.code == "period_open"


def test_piece_and_hourly_pay_at_the_terms_in_force_when_submitted(world, db, settings) -> None:  # type: ignore[no-untyped-def]
    _inst, vendor, manager, crew, project = labeling_team(world, workers=1, items=4)
    worker = world.actor(crew[0])
    _set_pay(world, manager, project, piece=1000, hourly=3600)
    first = do_item(db, worker, project, start=WORK_START, seconds=60)
    _set_pay(world, manager, project, piece=2000, hourly=0, at=WORK_START + timedelta(hours=1))
    second = do_item(db, worker, project, start=WORK_START + timedelta(hours=2), seconds=60)
    key = load_or_create_platform_key(settings.data_dir)
    with db.write() as session:
        summary = close_period(session, key, PERIOD, now=AFTER_PERIOD)
    earned = {e.work_ref: e.amount for e in _entries(db) if e.kind == "earning"}
    assert earned == {f"annotation:{first}": 1000 + 60, f"annotation:{second}": 2000}
    (row,) = summary["workers"]
    assert row["organization_id"] == vendor  # the vendor through which the worker works
    assert row["effective_hourly_minor"] == 3060 * 30  # 3,060 won in 2 minutes
    assert row["top_up_minor"] == 0


def test_close_is_idempotent_and_signs_one_checkpoint(world, db, settings) -> None:  # type: ignore[no-untyped-def]
    _inst, _vendor, manager, crew, project = labeling_team(world, workers=2, items=4)
    _set_pay(world, manager, project, piece=100)
    for n, person in enumerate(crew):
        do_item(
            db, world.actor(person), project, start=WORK_START + timedelta(hours=n), seconds=120
        )
    key = load_or_create_platform_key(settings.data_dir)
    with db.write() as session:
        first = close_period(session, key, PERIOD, now=AFTER_PERIOD)
    before = [(e.seq, e.hash) for e in _entries(db)]
    with db.write() as session:
        second = close_period(session, key, PERIOD, now=AFTER_PERIOD + timedelta(days=3))
    assert first["entries_posted"] == 4 and second["entries_posted"] == 0
    assert [(e.seq, e.hash) for e in _entries(db)] == before
    assert first["checkpoint"] == second["checkpoint"] and first["checkpoint"]["seq"] == 4
    assert first["totals"] == second["totals"]


def test_the_owner_pays_workers_it_employs_itself(world, db, settings) -> None:  # type: ignore[no-untyped-def]
    inst = world.org(OrgKind.INSTITUTION)
    manager = world.person((inst, Role.MANAGER))
    own = world.person((inst, Role.WORKER))
    project = world.project(inst)
    world.texts(project, 2)
    _set_pay(world, manager, project, piece=50)
    do_item(db, world.actor(own), project, start=WORK_START, seconds=600)
    key = load_or_create_platform_key(settings.data_dir)
    with db.write() as session:
        summary = close_period(session, key, PERIOD, now=AFTER_PERIOD)
    (row,) = summary["workers"]
    assert row["organization_id"] == inst
    top_up = next(e for e in _entries(db) if e.kind == "top_up")
    assert top_up.debit_account == f"org:{inst}:top_ups"
    assert top_up.work_ref == f"period:{PERIOD}:worker:{own.user_id}:org:{inst}"
    assert top_up.amount == _ceil_div(MINIMUM_2026 * 600, 3600) - 50


def test_simulation_fifty_workers_every_one_reaches_the_minimum(  # type: ignore[no-untyped-def]
    world, db, settings, tmp_path, database_url
) -> None:
    """The issue's simulation: a piece rate that pays the minimum only to the faster half."""
    inst = world.org(OrgKind.INSTITUTION)
    vendor = world.org(OrgKind.VENDOR)
    manager = world.person((inst, Role.MANAGER))
    crew = [world.person((vendor, Role.WORKER)) for _ in range(50)]
    project = world.project(inst, vendors=(vendor,))
    items_each = 2
    world.texts(project, 50 * items_each)
    piece = MINIMUM_2026 * 150 // 3600  # 430 won: the minimum at exactly 150 s per item
    _set_pay(world, manager, project, piece=piece)
    expected_us: dict[int, int] = {}
    for n, person in enumerate(crew):
        seconds = 60 + n * 180 // 49  # 60 s (fast) ... 240 s (slow) per item
        actor = world.actor(person)
        for j in range(items_each):
            start = WORK_START + timedelta(hours=n, minutes=10 * j)
            do_item(db, actor, project, start=start, seconds=seconds, beat_every=30)
        expected_us[person.user_id] = items_each * seconds * 1_000_000
        if n % 5 == 0:  # unpaid-by-rate training, which the minimum still covers
            with db.write() as session:
                record_worked_time(
                    session,
                    worker_id=person.user_id,
                    project_id=project,
                    source="training",
                    duration=timedelta(minutes=20),
                    work_ref=f"training:{person.user_id}:intro",
                    now=WORK_START + timedelta(hours=n, minutes=40),
                )
            expected_us[person.user_id] += 20 * 60 * 1_000_000

    key = load_or_create_platform_key(settings.data_dir)
    with db.write() as session:
        summary = close_period(session, key, PERIOD, now=AFTER_PERIOD)

    entries = _entries(db)
    paid: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for entry in entries:
        assert entry.credit_account == f"worker:{entry.worker_id}:org:{vendor}"
        paid[entry.worker_id][entry.kind] += entry.amount
    slow_half = set()
    for person in crew:
        worked = expected_us[person.user_id]
        earnings = paid[person.user_id]["earning"]
        top_up = paid[person.user_id]["top_up"]
        owed = _ceil_div(MINIMUM_2026 * worked, US_PER_HOUR)
        assert earnings == piece * items_each
        assert top_up == max(0, owed - earnings)  # exactly the shortfall, rounded up
        assert (earnings + top_up) * US_PER_HOUR >= MINIMUM_2026 * worked
        if top_up:
            slow_half.add(person.user_id)
    assert 25 <= len(slow_half) < 50  # the slower half (and some who also trained)
    assert summary["topped_up"] == len(slow_half)
    assert all(
        row["effective_hourly_after_top_up_minor"] >= MINIMUM_2026 for row in summary["workers"]
    )

    # every cached balance equals the sum of its entries
    sums: dict[tuple[str, str], int] = defaultdict(int)
    for entry in entries:
        sums[(entry.credit_account, entry.currency)] += entry.amount
        sums[(entry.debit_account, entry.currency)] -= entry.amount
    with db.read() as session:
        cached = {
            (b.account, b.currency): b.balance
            for b in session.execute(select(LedgerBalance)).scalars()
        }
    assert cached == dict(sums) and sum(cached.values()) == 0

    env = cli_env(tmp_path, database_url)
    verified = run_cli(["ledger", "verify"], env)
    assert verified.returncode == 0, verified.stderr
    report = json.loads(verified.stdout)
    assert report["ok"] and report["entries"] == len(entries) and report["checkpoints"] == 1

    victim = entries[len(entries) // 2]
    with tampering(db) as conn:
        conn.exec_driver_sql(
            "UPDATE ledger_entry SET amount = amount + 1000 WHERE seq = " + str(victim.seq)
        )
    broken = run_cli(["ledger", "verify"], env)
    assert broken.returncode == 1
    assert f"entry {victim.seq}: stored hash does not match contents" in broken.stderr


def test_a_period_outside_the_calendar_we_pay_in_is_a_clear_input_error() -> None:
    from datadam.errors import InputError
    from datadam.pay.period import period_bounds

    for bad in ("0000-01", "9999-12", "2026-13", "2026-1"):
        with pytest.raises(InputError) as caught:
            period_bounds(bad)
        assert caught.value.field == "period"
    assert period_bounds("2026-12")[1].year == 2027
