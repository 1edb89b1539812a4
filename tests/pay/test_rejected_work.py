"""The rejected-work pay policy at period close, and rates per kind of work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from datadam.errors import InputError
from datadam.pay.keys import load_or_create_platform_key
from datadam.pay.period import close_period
from datadam.pay.rates import set_project_pay
from datadam.pay.rejections import withholds
from datadam.pay.task_rates import set_task_rate
from datadam.pay.worktime import record_worked_time
from datadam.storage.tables import Annotation, InspectionVerdict, LedgerEntry, PayWithheld
from tests.factories import labeling_team
from tests.pay.helpers import AFTER_PERIOD, PERIOD, WORK_START, do_item

MINIMUM_2026 = 10_320


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _verdict(db, annotation_id: int, inspector_id: int, **fields) -> int:  # type: ignore[no-untyped-def]
    with db.write() as session:
        annotation = session.get(Annotation, annotation_id)
        row = InspectionVerdict(
            project_id=annotation.project_id,
            annotation_id=annotation_id,
            item_id=annotation.item_id,
            worker_id=annotation.worker_id,
            inspector_id=inspector_id,
            stage=1,
            outcome=fields.get("outcome", "reject"),
            reason_code=fields.get("reason_code"),
            bad_faith=fields.get("bad_faith", False),
            appeal_status=fields.get("appeal_status", "none"),
            comment="",
        )
        session.add(row)
        session.flush()
        return row.id


def _earnings(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db.read() as session:
        rows = session.execute(select(LedgerEntry).where(LedgerEntry.kind == "earning"))
        return {e.work_ref: int(e.amount) for e in rows.scalars()}


def _close(db, settings, now=AFTER_PERIOD):  # type: ignore[no-untyped-def]
    key = load_or_create_platform_key(settings.data_dir)
    with db.write() as session:
        return close_period(session, key, PERIOD, now=now)


def test_the_rule_withholds_only_bad_faith_rejections_not_upheld_on_appeal() -> None:
    assert withholds("reject", True, "none")
    assert withholds("reject", True, "open")
    assert withholds("reject", True, "denied")
    assert not withholds("reject", True, "upheld")
    assert not withholds("reject", False, "none")
    assert not withholds("accept", True, "none")
    assert not withholds("correct", True, "denied")


def test_close_pays_rejected_work_but_withholds_bad_faith_and_says_why(world, db, settings) -> None:  # type: ignore[no-untyped-def]
    _inst, _vendor, manager, crew, project = labeling_team(world, workers=1, items=5)
    worker = world.actor(crew[0])
    with db.write() as session:
        set_project_pay(
            session,
            world.actor(manager),
            project,
            piece_rate_minor=20_000,
            hourly_rate_minor=0,
            now=WORK_START - timedelta(days=1),
        )
    done = [
        do_item(db, worker, project, start=WORK_START + timedelta(hours=h), seconds=60)
        for h in range(4)
    ]
    _verdict(db, done[0], manager.user_id, reason_code="unclear")  # honest mistake: paid
    held = _verdict(db, done[1], manager.user_id, reason_code="attention_check", bad_faith=True)
    _verdict(db, done[2], manager.user_id, reason_code="too_fast", bad_faith=True,
             appeal_status="upheld")  # fmt: skip
    _verdict(db, done[3], manager.user_id, outcome="accept")
    summary = _close(db, settings)
    assert sorted(_earnings(db)) == sorted(f"annotation:{a}" for a in (done[0], done[2], done[3]))
    assert summary["withheld"] == 1
    (row,) = summary["workers"]
    assert row["items"] == 3 and row["worked_seconds"] == 180  # withheld time is not counted
    with db.read() as session:
        (note,) = session.execute(select(PayWithheld)).scalars().all()
    assert (note.work_ref, note.verdict_id, note.reason_code) == (
        f"annotation:{done[1]}",
        held,
        "attention_check",
    )
    assert note.period == PERIOD and note.released_at is None


def test_an_appeal_upheld_after_the_close_is_paid_by_closing_again(world, db, settings) -> None:  # type: ignore[no-untyped-def]
    _inst, _vendor, manager, crew, project = labeling_team(world, workers=1, items=2)
    worker = world.actor(crew[0])
    with db.write() as session:
        set_project_pay(
            session, world.actor(manager), project, piece_rate_minor=20_000,
            hourly_rate_minor=0, now=WORK_START - timedelta(days=1),
        )  # fmt: skip
    annotation = do_item(db, worker, project, start=WORK_START, seconds=60)
    verdict = _verdict(db, annotation, manager.user_id, reason_code="too_fast", bad_faith=True,
                       appeal_status="open")  # fmt: skip
    _close(db, settings)
    assert _earnings(db) == {}
    with db.write() as session:
        session.get(InspectionVerdict, verdict).appeal_status = "upheld"
    second = _close(db, settings, now=AFTER_PERIOD + timedelta(days=2))
    assert _earnings(db) == {f"annotation:{annotation}": 20_000}
    assert second["withheld"] == 0
    with db.read() as session:
        note = session.execute(select(PayWithheld)).scalar_one()
    assert note.released_at is not None


def test_rates_per_kind_of_work_apply_at_close(world, db, settings) -> None:  # type: ignore[no-untyped-def]
    _inst, _vendor, manager, crew, project = labeling_team(world, workers=1, items=2)
    boss, worker = world.actor(manager), world.actor(crew[0])
    before = WORK_START - timedelta(days=1)
    with db.write() as session:
        set_project_pay(
            session, boss, project, piece_rate_minor=500, hourly_rate_minor=3_600, now=before
        )
        set_task_rate(
            session, boss, project, task_type="training", piece_rate_minor=0,
            hourly_rate_minor=12_000, now=before,
        )  # fmt: skip
        set_task_rate(
            session, boss, project, task_type="rework", piece_rate_minor=300,
            hourly_rate_minor=7_200, now=before,
        )  # fmt: skip
    annotation = do_item(db, worker, project, start=WORK_START, seconds=60)
    with db.write() as session:
        refs = {}
        for source, minutes in (("training", 30), ("rework", 10), ("qualification", 6)):
            row = record_worked_time(
                session,
                worker_id=worker.user_id,
                project_id=project,
                source=source,
                duration=timedelta(minutes=minutes),
                work_ref=f"t:{source}",
                now=WORK_START + timedelta(hours=2),
            )
            refs[source] = f"worked_time:{row.id}"
    _close(db, settings)
    earned = _earnings(db)
    assert earned[f"annotation:{annotation}"] == 500 + 60  # project terms: piece + 1 min
    assert earned[refs["training"]] == 6_000  # 30 min at 12,000/h, no piece rate
    assert earned[refs["rework"]] == 1_200 + 300  # 10 min at 7,200/h plus one item
    assert earned[refs["qualification"]] == 360  # no own rate: project hourly only


def test_a_task_rate_names_a_known_kind(world, db) -> None:  # type: ignore[no-untyped-def]
    _inst, _vendor, manager, _crew, project = labeling_team(world, workers=1, items=1)
    with pytest.raises(InputError) as refused, db.write() as session:
        set_task_rate(
            session, world.actor(manager), project, task_type="inspection",
            piece_rate_minor=0, hourly_rate_minor=1,
        )  # fmt: skip
    assert refused.value.field == "task_type"
