"""Inspectors' accuracy on gold items hidden in their queue: a verdict counts as right when it
accepts a known-correct answer or rejects (or corrects) a known-wrong one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from datadam.domain.enums import Role
from datadam.errors import NotFound
from datadam.gold.service import mark_gold
from datadam.inspection import gold, workflow
from datadam.projects import inspection_queue
from datadam.storage.tables import InspectionState, Item
from tests.factories import labeling_team
from tests.inspection.helpers import view_for


def test_inspectors_are_scored_on_seeded_gold_work(world) -> None:  # type: ignore[no-untyped-def]
    inst, _vendor, manager, _crew, project = labeling_team(world, items=4)
    inspector = world.person((inst, Role.INSPECTOR))
    careless = world.person((inst, Role.INSPECTOR))
    with world.db.read() as session:
        item_ids = list(
            session.execute(
                select(Item.id).where(Item.project_id == project).order_by(Item.id)
            ).scalars()
        )
    right, wrong = item_ids[0], item_ids[1]
    with world.db.write() as session:
        view = view_for(session, world, manager, project)
        for item_id in (right, wrong):
            mark_gold(
                session,
                view,
                world.actor(manager),
                item_id=item_id,
                answer={"sentiment": "negative"},
            )
    with world.db.write() as session:
        view = view_for(session, world, manager, project)
        actor = world.actor(manager)
        good = gold.seed_gold_work(session, view, actor, right, result={"sentiment": "negative"})
        bad = gold.seed_gold_work(session, view, actor, wrong, result={"sentiment": "positive"})
        with pytest.raises(NotFound):
            gold.seed_gold_work(session, view, actor, item_ids[2], result={"sentiment": "neutral"})

    def judge(who, annotation_id: int, outcome: str, **kw) -> None:  # type: ignore[no-untyped-def]
        with world.db.write() as session:
            view = view_for(session, world, who, project)
            workflow.record_verdict(
                session, view, world.actor(who), annotation_id, outcome=outcome, **kw
            )

    with world.db.read() as session:
        view = view_for(session, world, inspector, project)
        assert inspection_queue.queue_size(session, view, world.actor(inspector)) == 2
    judge(inspector, good, "accept")
    judge(inspector, bad, "reject", reason_code="wrong_label")
    with world.db.read() as session:
        # gold work never goes back for rework: it only measures the inspector
        assert session.get(InspectionState, bad).status == "done"
        assert workflow.list_rework(session, world.actor(manager)) == []
        view = view_for(session, world, manager, project)
        scores = {s.inspector_id: s for s in gold.inspector_gold_scores(session, view)}
    assert (scores[inspector.user_id].judged, scores[inspector.user_id].agreed) == (2, 2)
    assert scores[inspector.user_id].accuracy == 1.0
    assert careless.user_id not in scores

    with world.db.write() as session:
        view = view_for(session, world, manager, project)
        mark_gold(
            session,
            view,
            world.actor(manager),
            item_id=item_ids[3],
            answer={"sentiment": "neutral"},
        )
        slipped = gold.seed_gold_work(
            session, view, world.actor(manager), item_ids[3], result={"sentiment": "positive"}
        )
    judge(careless, slipped, "accept")  # accepts a known-wrong answer
    with world.db.read() as session:
        view = view_for(session, world, manager, project)
        scores = {s.inspector_id: s for s in gold.inspector_gold_scores(session, view)}
    assert (scores[careless.user_id].judged, scores[careless.user_id].agreed) == (1, 0)
    assert scores[careless.user_id].accuracy == 0.0
