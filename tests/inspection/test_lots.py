"""Lots at a sampling stage: ISO 2859-1 plan, reproducible sample, accept/reject, switching."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from datadam.errors import InputError
from datadam.inspection import config, lots, workflow
from datadam.quality import sampling
from datadam.storage.tables import InspectionLot, InspectionLotItem, InspectionState
from tests.inspection.helpers import labelled_team, view_for


def _sampling_project(world, *, items: int, action: str = "full", aql: str = "1.0"):  # type: ignore[no-untyped-def]
    t = labelled_team(world, items=items)
    manager = t["manager"]
    with world.db.write() as session:
        view = view_for(session, world, manager, t["project"])
        actor = world.actor(manager)
        config.set_stages(
            session, view, actor, [{"name": "Sample", "mode": "sample", "level": "II", "aql": aql}]
        )
        config.update_settings(session, view, actor, {"rejected_lot_action": action})
    return t


def _form(world, t, seed: int | None = 7, limit: int | None = None) -> InspectionLot:  # type: ignore[no-untyped-def]
    with world.db.write() as session:
        view = view_for(session, world, t["manager"], t["project"])
        lot = lots.form_lot(session, view, world.actor(t["manager"]), seed=seed, limit=limit)
        session.expunge(lot)
        return lot


def _sampled(world, lot_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    with world.db.read() as session:
        return list(
            session.execute(
                select(InspectionLotItem.annotation_id)
                .where(InspectionLotItem.lot_id == lot_id, InspectionLotItem.sampled.is_(True))
                .order_by(InspectionLotItem.annotation_id)
            ).scalars()
        )


def _judge_all(world, t, ids: list[int], bad: int) -> list[str | None]:  # type: ignore[no-untyped-def]
    decided = []
    for n, annotation_id in enumerate(ids):
        with world.db.write() as session:
            view = view_for(session, world, t["inspector"], t["project"])
            kw = (
                {"outcome": "reject", "reason_code": "wrong_label"}
                if n < bad
                else {"outcome": "accept"}
            )
            out = workflow.record_verdict(
                session, view, world.actor(t["inspector"]), annotation_id, **kw
            )
            decided.append(out.lot_decided)
    return decided


def _statuses(world, ids: list[int]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with world.db.read() as session:
        rows = session.execute(
            select(InspectionState.status).where(InspectionState.annotation_id.in_(ids))
        ).scalars()
        out: dict[str, int] = {}
        for status in rows:
            out[status] = out.get(status, 0) + 1
        return out


def test_pooled_work_waits_for_a_lot_and_the_plan_follows_the_standard(world) -> None:  # type: ignore[no-untyped-def]
    t = _sampling_project(world, items=30)
    from tests.inspection.test_workflow import _queue

    assert _queue(world, t["inspector"], t["project"]) == 0  # nothing until a lot is formed
    with world.db.read() as session:
        assert lots.pooled_count(session, t["project"]) == 30
    lot = _form(world, t, seed=11)
    expected = sampling.plan(30, "II", "1.0", "normal")
    assert (lot.code_letter, lot.sample_size, lot.accept_number, lot.reject_number) == (
        expected.code_letter,
        expected.sample_size,
        expected.accept,
        expected.reject,
    )
    assert (lot.size, lot.seed, lot.severity) == (30, 11, "normal")
    sampled = _sampled(world, lot.id)
    assert sampled == sampling.draw_sample(sorted(t["ids"]), expected.sample_size, 11)
    assert _queue(world, t["inspector"], t["project"]) == len(sampled)
    assert _statuses(world, t["ids"]) == {"queued": len(sampled), "held": 30 - len(sampled)}


def test_the_same_lot_and_seed_draw_the_same_sample(world) -> None:  # type: ignore[no-untyped-def]
    t = _sampling_project(world, items=40)
    lot = _form(world, t, seed=12345, limit=40)
    first = _sampled(world, lot.id)
    again = sampling.draw_sample(sorted(t["ids"]), lot.sample_size, 12345)
    other = sampling.draw_sample(sorted(t["ids"]), lot.sample_size, 54321)
    assert first == again and first != other


def test_an_accepted_lot_moves_all_its_work_on(world) -> None:  # type: ignore[no-untyped-def]
    t = _sampling_project(world, items=30)
    lot = _form(world, t)
    sampled = _sampled(world, lot.id)
    decided = _judge_all(world, t, sampled, bad=0)
    assert decided[-1] == "accepted" and set(decided[:-1]) == {None}
    assert _statuses(world, t["ids"]) == {"done": 30}
    with world.db.read() as session:
        stored = session.get(InspectionLot, lot.id)
        assert (stored.status, stored.nonconforming, stored.judged) == ("accepted", 0, len(sampled))
        assert stored.switching_after["severity"] == "normal"
        assert stored.switching_after["switching_score"] > 0


def test_a_rejected_lot_goes_to_full_inspection(world) -> None:  # type: ignore[no-untyped-def]
    t = _sampling_project(world, items=30, action="full")
    lot = _form(world, t)
    sampled = _sampled(world, lot.id)
    decided = _judge_all(world, t, sampled[: lot.reject_number], bad=lot.reject_number)
    assert decided[-1] == "rejected"
    held = 30 - len(sampled)
    counts = _statuses(world, t["ids"])
    assert counts["rework"] == lot.reject_number
    assert counts["queued"] == held + len(sampled) - lot.reject_number
    from tests.inspection.test_workflow import _queue

    assert _queue(world, t["inspector"], t["project"]) == counts["queued"]


def test_a_rejected_lot_can_go_back_for_rework(world) -> None:  # type: ignore[no-untyped-def]
    t = _sampling_project(world, items=30, action="rework")
    lot = _form(world, t)
    sampled = _sampled(world, lot.id)
    _judge_all(world, t, sampled[: lot.reject_number], bad=lot.reject_number)
    counts = _statuses(world, t["ids"])
    assert counts["rework"] == 30 - len(sampled) + lot.reject_number
    with world.db.read() as session:
        waiting = sum(len(workflow.list_rework(session, world.actor(w))) for w in t["crew"])
    assert waiting == counts["rework"]


def test_two_rejected_lots_switch_the_project_to_tightened(world) -> None:  # type: ignore[no-untyped-def]
    t = _sampling_project(world, items=40)
    severities = []
    for _ in range(2):
        lot = _form(world, t, limit=20)
        severities.append(lot.severity)
        sampled = _sampled(world, lot.id)
        assert (
            _judge_all(world, t, sampled[: lot.reject_number], bad=lot.reject_number)[-1]
            == "rejected"
        )
    assert severities == ["normal", "normal"]
    with world.db.read() as session:
        state = config.get_settings(session, t["project"]).switching
    assert state["severity"] == "tightened"
    world.items(t["project"], [{"text": f"later {i}"} for i in range(20)])
    from tests.inspection.helpers import label

    for i in range(20):
        label(world, t["crew"][i % 3], t["project"])
    lot = _form(world, t)
    tightened = sampling.plan(20, "II", "1.0", "tightened")
    assert (lot.severity, lot.sample_size, lot.accept_number) == (
        "tightened",
        tightened.sample_size,
        tightened.accept,
    )


def test_lots_need_a_sampling_stage_and_two_pieces_of_work(world) -> None:  # type: ignore[no-untyped-def]
    t = labelled_team(world, items=3)
    with world.db.write() as session:
        view = view_for(session, world, t["manager"], t["project"])
        with pytest.raises(InputError):
            lots.form_lot(session, view, world.actor(t["manager"]))


def test_lots_form_automatically_every_n_pieces(world) -> None:  # type: ignore[no-untyped-def]
    t = _sampling_project(world, items=25)
    with world.db.write() as session:
        view = view_for(session, world, t["manager"], t["project"])
        config.update_settings(session, view, world.actor(t["manager"]), {"lot_size": 10})
    with world.db.write() as session:
        view = view_for(session, world, t["manager"], t["project"])
        formed = lots.form_due_lots(session, view.project)
    assert len(formed) == 2
    with world.db.read() as session:
        assert lots.pooled_count(session, t["project"]) == 5
        sizes = [session.get(InspectionLot, i).size for i in formed]
    assert sizes == [10, 10]
