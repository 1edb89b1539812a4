"""Verdicts, rework, corrections as versions, stages, appeals and inspectors' gold accuracy,
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from datadam.domain.enums import OrgKind, Role
from datadam.errors import Conflict, InputError, NotAllowed
from datadam.inspection import config, workflow
from datadam.projects import inspection_queue
from datadam.storage.tables import (
    Annotation,
    AnnotationVersion,
    Event,
    InspectionState,
    InspectionVerdict,
    WorkedTime,
)
from tests.inspection.helpers import label, labelled_team, view_for


def _judge(world, who, project_id: int, annotation_id: int, outcome: str, **kw):  # type: ignore[no-untyped-def]
    with world.db.write() as session:
        view = view_for(session, world, who, project_id)
        return workflow.record_verdict(
            session, view, world.actor(who), annotation_id, outcome=outcome, **kw
        )


def _queue(world, who, project_id: int) -> int:  # type: ignore[no-untyped-def]
    with world.db.read() as session:
        view = view_for(session, world, who, project_id)
        return inspection_queue.queue_size(session, view, world.actor(who))


def test_reject_then_rework_keeps_the_original_and_pays_the_time(world) -> None:  # type: ignore[no-untyped-def]
    t = labelled_team(world)
    first = t["ids"][0]
    worker = t["crew"][0]
    assert _queue(world, t["inspector"], t["project"]) == 6
    with pytest.raises(InputError):
        _judge(world, t["inspector"], t["project"], first, "reject")
    with pytest.raises(InputError):
        _judge(world, t["inspector"], t["project"], first, "reject", reason_code="nonsense")
    done = _judge(
        world,
        t["inspector"],
        t["project"],
        first,
        "reject",
        reason_code="wrong_label",
        comment="It reads negative.",
    )
    assert done.status == "rework"
    assert _queue(world, t["inspector"], t["project"]) == 5
    with pytest.raises(Conflict):
        _judge(world, t["inspector"], t["project"], first, "accept")
    with world.db.read() as session:
        [entry] = workflow.list_rework(session, world.actor(worker))
        assert (entry.annotation_id, entry.reason_code) == (first, "wrong_label")
        assert entry.reason_label == "Wrong label" and entry.comment == "It reads negative."
        assert workflow.list_rework(session, world.actor(t["crew"][1])) == []
    with world.db.write() as session:
        version = workflow.resubmit_rework(
            session,
            world.actor(worker),
            first,
            result={"sentiment": "negative"},
            active_seconds=3600,
        )
    assert version == 2
    with world.db.read() as session:
        versions = workflow.list_versions(session, first)
        assert [(v.version, v.source, v.result["sentiment"]) for v in versions] == [
            (1, "original", "positive"),
            (2, "rework", "negative"),
        ]
        assert session.get(Annotation, first).result == {"sentiment": "negative"}
        paid = (
            session.execute(select(WorkedTime).where(WorkedTime.source == "rework")).scalars().all()
        )
        assert len(paid) == 1 and paid[0].worker_id == worker.user_id
        # capped by the server's clock since the work was returned, not the claimed hour
        assert 0 < paid[0].duration_us < 3600 * 1_000_000
        assert workflow.list_rework(session, world.actor(worker)) == []
    assert _queue(world, t["inspector"], t["project"]) == 6
    again = _judge(world, t["inspector"], t["project"], first, "accept")
    assert (again.status, again.version) == ("done", 2)
    with world.db.read() as session:
        verdicts = session.execute(
            select(InspectionVerdict.outcome, InspectionVerdict.version)
            .where(InspectionVerdict.annotation_id == first)
            .order_by(InspectionVerdict.id)
        ).all()
        assert [tuple(v) for v in verdicts] == [("reject", 1), ("accept", 2)]
        actions = set(session.execute(select(Event.action)).scalars())
        assert {"inspection.reject", "inspection.rework", "inspection.accept"} <= actions


def test_nobody_inspects_their_own_work(world) -> None:  # type: ignore[no-untyped-def]
    t = labelled_team(world)
    both = world.person((t["inst"], Role.INSPECTOR), (t["inst"], Role.WORKER))
    # a worker of the vendor who is also an inspector there
    dual = world.person((t["vendor"], Role.WORKER), (t["vendor"], Role.INSPECTOR))
    world.items(t["project"], [{"text": "one more item"}])
    own = label(world, dual, t["project"])
    with pytest.raises(NotAllowed) as caught:
        _judge(world, dual, t["project"], own, "accept")
    assert caught.value.code == "own_work"
    assert "own work" in str(caught.value)
    assert _queue(world, dual, t["project"]) == 6  # the other six, not their own
    assert _judge(world, both, t["project"], own, "accept").status == "done"


def test_a_correction_is_a_new_version_and_the_export_reads_it(world) -> None:  # type: ignore[no-untyped-def]
    t = labelled_team(world)
    target = t["ids"][1]
    with pytest.raises(InputError):
        _judge(
            world, t["inspector"], t["project"], target, "correct", corrected={"sentiment": "bad"}
        )
    out = _judge(
        world, t["inspector"], t["project"], target, "correct", corrected={"sentiment": "neutral"}
    )
    assert (out.status, out.version) == ("done", 2)
    with world.db.read() as session:
        versions = workflow.list_versions(session, target)
        assert [(v.source, v.result["sentiment"]) for v in versions] == [
            ("original", "positive"),
            ("correction", "neutral"),
        ]
        assert versions[1].author_id == t["inspector"].user_id
    from datadam.exporting.jsonl import iter_export_lines

    with world.db.engine.connect() as conn:
        lines = [
            line for line, _n in iter_export_lines(conn, project_id=t["project"], secret="s" * 48)
        ]
    text = b"".join(lines).decode()
    assert '"neutral"' in text and text.count('"positive"') == 5


def test_stage_two_sees_only_work_accepted_at_stage_one(world) -> None:  # type: ignore[no-untyped-def]
    t = labelled_team(world)
    manager = t["manager"]
    vendor_inspector = world.person((t["vendor"], Role.INSPECTOR))
    with world.db.write() as session:
        view = view_for(session, world, manager, t["project"])
        config.set_stages(
            session,
            view,
            world.actor(manager),
            [
                {"name": "Vendor check", "inspector_side": "vendor"},
                {"name": "Institution check", "inspector_side": "owner"},
            ],
        )
    owner_inspector = t["inspector"]
    assert _queue(world, vendor_inspector, t["project"]) == 6
    assert _queue(world, owner_inspector, t["project"]) == 0
    with pytest.raises(Conflict):
        _judge(world, owner_inspector, t["project"], t["ids"][0], "accept")
    step = _judge(world, vendor_inspector, t["project"], t["ids"][0], "accept")
    assert (step.status, step.stage) == ("queued", 2)
    assert _queue(world, owner_inspector, t["project"]) == 1
    assert _queue(world, vendor_inspector, t["project"]) == 5
    final = _judge(world, owner_inspector, t["project"], t["ids"][0], "accept")
    assert (final.status, final.stage) == ("done", 2)


def test_rework_can_go_to_another_worker(world) -> None:  # type: ignore[no-untyped-def]
    t = labelled_team(world, items=3, workers=3)
    manager = t["manager"]
    with world.db.write() as session:
        view = view_for(session, world, manager, t["project"])
        config.update_settings(session, view, world.actor(manager), {"rework_to": "other"})
    _judge(world, t["inspector"], t["project"], t["ids"][0], "reject", reason_code="incomplete")
    with world.db.read() as session:
        state = session.get(InspectionState, t["ids"][0])
        assert state.rework_worker_id not in (None, t["crew"][0].user_id)
        others = {p.user_id: p for p in t["crew"]}
        entry = workflow.list_rework(session, world.actor(others[state.rework_worker_id]))
        assert [e.annotation_id for e in entry] == [t["ids"][0]] and not entry[0].own_work
        assert workflow.list_rework(session, world.actor(t["crew"][0])) == []


def test_appeal_upheld_withdraws_the_rework(world) -> None:  # type: ignore[no-untyped-def]
    t = labelled_team(world)
    worker, manager = t["crew"][0], t["manager"]
    out = _judge(world, t["inspector"], t["project"], t["ids"][0], "reject", reason_code="too_fast")
    with world.db.read() as session:
        verdict = session.get(InspectionVerdict, out.verdict_id)
        assert verdict.bad_faith is True and verdict.appeal_status == "none"
    with world.db.write() as session, pytest.raises(InputError):
        workflow.appeal_rejection(session, world.actor(worker), out.verdict_id, text=" ")
    with world.db.write() as session:
        workflow.appeal_rejection(
            session, world.actor(worker), out.verdict_id, text="I read every sentence."
        )
    with world.db.write() as session, pytest.raises(Conflict):
        workflow.appeal_rejection(session, world.actor(worker), out.verdict_id, text="again")
    with world.db.write() as session:
        view = view_for(session, world, manager, t["project"])
        assert [v.id for v in workflow.list_open_appeals(session, view)] == [out.verdict_id]
        workflow.resolve_appeal(
            session, view, world.actor(manager), out.verdict_id, decision="upheld"
        )
    with world.db.read() as session:
        verdict = session.get(InspectionVerdict, out.verdict_id)
        assert verdict.appeal_status == "upheld" and verdict.appeal_resolved_by == manager.user_id
        assert session.get(InspectionState, t["ids"][0]).status == "done"
        assert workflow.list_rework(session, world.actor(worker)) == []
        actions = list(session.execute(select(Event.action)).scalars())
        assert "inspection.appeal" in actions and "inspection.appeal_resolved" in actions


def test_vendor_side_stage_is_invisible_to_a_rival_vendor(world) -> None:  # type: ignore[no-untyped-def]
    t = labelled_team(world)
    rival = world.org(OrgKind.VENDOR)
    rival_inspector = world.person((rival, Role.INSPECTOR))
    from datadam.storage.tables import ProjectAccess

    with world.db.write() as session:
        session.add(ProjectAccess(project_id=t["project"], organization_id=rival))
    assert _queue(world, rival_inspector, t["project"]) == 0
    with pytest.raises(Conflict):
        _judge(world, rival_inspector, t["project"], t["ids"][0], "accept")
    with world.db.read() as session:
        assert session.execute(select(AnnotationVersion)).first() is None


def test_dropping_a_stage_finishes_the_work_waiting_there(world) -> None:  # type: ignore[no-untyped-def]
    t = labelled_team(world)
    manager = t["manager"]

    def stages(*rows: dict[str, str]) -> None:
        with world.db.write() as session:
            view = view_for(session, world, manager, t["project"])
            config.set_stages(session, view, world.actor(manager), list(rows))

    stages({"name": "First"}, {"name": "Second", "mode": "sample"})
    assert _judge(world, t["inspector"], t["project"], t["ids"][0], "accept").status == "pooled"
    assert _judge(world, t["inspector"], t["project"], t["ids"][1], "accept").status == "pooled"
    stages({"name": "First"}, {"name": "Second, everything"})
    with world.db.read() as session:
        assert session.get(InspectionState, t["ids"][0]).status == "queued"
    stages({"name": "Only"})
    with world.db.read() as session:
        assert session.get(InspectionState, t["ids"][1]).status == "done"
    assert _queue(world, t["inspector"], t["project"]) == 4
