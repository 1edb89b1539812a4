"""Gold questions in the worker's loop: marking, injection, scoring, pauses and appeals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from datadam.assignment.service import next_task
from datadam.errors import Conflict, InputError, NotAllowed
from datadam.gold import service as gold
from datadam.gold.injection import draws_gold
from datadam.projects.service import get_project_for
from datadam.storage.tables import Event, GoldResult, Item, WorkerPause
from tests.gold.helpers import add_known_items, gold_team, work_through


def test_draws_gold_is_deterministic_and_near_the_rate() -> None:
    draws = [draws_gold(7, 42, n, 0.2) for n in range(2000)]
    assert draws == [draws_gold(7, 42, n, 0.2) for n in range(2000)]
    assert 0.17 < sum(draws) / 2000 < 0.23
    assert not any(draws_gold(7, 42, n, 0.0) for n in range(100))
    assert draws != [draws_gold(7, 43, n, 0.2) for n in range(2000)]


def test_marking_moves_the_item_to_gold_and_checks_the_answer(world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(world, items=3)
    actor = team.actor(team.manager)
    with world.db.write() as session:
        view = get_project_for(session, actor, team.project)
        item_id = (
            session.execute(
                select(Item.id).where(Item.project_id == team.project).order_by(Item.id)
            )
            .scalars()
            .first()
        )
        with pytest.raises(InputError) as bad:
            gold.mark_gold(session, view, actor, item_id=item_id, answer={"sentiment": "joy"})
        assert bad.value.field == "answer.sentiment"
        with pytest.raises(InputError):
            gold.mark_gold(
                session, view, actor, item_id=item_id, answer={"sentiment": "positive"}, purpose="x"
            )
        gold.mark_gold(session, view, actor, item_id=item_id, answer={"sentiment": "positive"})
    with world.db.read() as session:
        assert session.get(Item, item_id).stage == "gold"
        assert (
            session.execute(
                select(func.count()).select_from(Event).where(Event.action == "gold.mark")
            ).scalar_one()
            == 1
        )


def test_an_item_already_taken_cannot_become_gold(world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(world, items=2)
    task = next_task(world.db, team.actor(team.crew[0]), team.project)
    assert task is not None
    actor = team.actor(team.manager)
    with world.db.write() as session, pytest.raises(Conflict) as err:
        view = get_project_for(session, actor, team.project)
        gold.mark_gold(session, view, actor, item_id=task.item_id, answer={"sentiment": "neutral"})
    assert err.value.code == "item_in_use"


def test_gold_served_at_rate_never_counted_and_scored(world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(world, items=30, gold_items=8, gold_rate=0.3, min_gold_answers=50)
    served = work_through(team, team.crew[0], lambda payload: "positive")
    with world.db.read() as session:
        gold_ids = set(
            session.execute(
                select(Item.id).where(Item.project_id == team.project, Item.stage == "gold")
            ).scalars()
        )
        results = session.execute(select(GoldResult)).scalars().all()
        gold_items = (
            session.execute(select(Item.n_taken).where(Item.id.in_(gold_ids))).scalars().all()
        )
    seen_gold = [i for i in served if i in gold_ids]
    assert len(served) == 30 + len(seen_gold)  # every real item plus the gold shown
    assert 3 <= len(seen_gold) <= 8
    assert len(set(seen_gold)) == len(seen_gold)  # a gold item is never shown twice
    assert len(results) == len(seen_gold) and all(r.correct for r in results)
    assert all(taken == 0 for taken in gold_items)  # gold takes no overlap slot
    # The same worker history gives the same sequence: injection is reproducible.
    again = gold_team(world, items=30, gold_items=8, gold_rate=0.3, min_gold_answers=50)
    again_served = work_through(again, again.crew[0], lambda payload: "positive")
    assert len(again_served) == len(served)


def test_random_answers_pause_the_worker_who_can_appeal_and_be_reinstated(world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(
        world, items=60, gold_items=20, gold_rate=0.5, min_gold_answers=6, pause_threshold=0.8
    )
    worker = team.crew[0]
    with pytest.raises(NotAllowed) as paused:
        work_through(team, worker, lambda payload: "negative")
    assert paused.value.code == "worker_paused"
    assert "below the 80%" in paused.value.message
    actor = team.actor(worker)
    with world.db.read() as session:
        pause = session.execute(select(WorkerPause)).scalar_one()
        accuracy = gold.gold_accuracy(session, team.project, worker.user_id)
    assert pause.status == "paused" and pause.gold_answers == 6
    assert accuracy.answers == 6 and accuracy.correct == 0
    assert accuracy.low == 0.0 and 0.3 < accuracy.high < 0.5
    # The other worker is not affected.
    assert next_task(world.db, team.actor(team.crew[1]), team.project) is not None

    with world.db.write() as session:
        view = get_project_for(session, actor, team.project)
        gold.appeal_pause(session, view, actor, "I misread the guideline; please let me retry.")
        with pytest.raises(Conflict):
            gold.appeal_pause(session, view, actor, "again")
    manager = team.actor(team.manager)
    with world.db.write() as session:
        view = get_project_for(session, manager, team.project)
        rows = gold.list_pauses(session, view, pseudonym=lambda w: f"w{w}")
        assert rows[0].status == "appealed" and rows[0].appeal_text.startswith("I misread")
        gold.resolve_pause(session, view, manager, pause_id=rows[0].id, decision="reinstate")
    with world.db.read() as session:
        fresh = gold.gold_accuracy(session, team.project, worker.user_id)
        actions = set(session.execute(select(Event.action)).scalars())
    assert fresh.answers == 0  # accuracy counts afresh after reinstatement
    assert {"worker.paused", "worker.pause_appealed", "worker.pause_reinstated"} <= actions
    assert next_task(world.db, actor, team.project) is not None


def test_uphold_needs_an_appeal(world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(world, items=20, gold_items=6, gold_rate=0.5, min_gold_answers=2)
    with pytest.raises(NotAllowed):
        work_through(team, team.crew[0], lambda payload: "neutral")
    manager = team.actor(team.manager)
    with world.db.write() as session:
        view = get_project_for(session, manager, team.project)
        pause_id = gold.list_pauses(session, view, pseudonym=str)[0].id
        with pytest.raises(Conflict) as err:
            gold.resolve_pause(session, view, manager, pause_id=pause_id, decision="uphold")
    assert err.value.code == "no_appeal"


def test_project_without_settings_has_no_gold_and_no_gate(world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(world, items=5)
    add_known_items(world, team.project, team.manager, 3, purpose="gold")
    served = work_through(team, team.crew[0], lambda payload: "positive")
    assert len(served) == 5  # gold rate 0: only real items


def test_settings_are_checked_and_audited(world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(world, items=1)
    actor = team.actor(team.manager)
    with world.db.write() as session:
        view = get_project_for(session, actor, team.project)
        for bad in ({"gold_rate": 0.9}, {"min_gold_answers": 0}, {"pass_mark": "high"}, {"x": 1}):
            with pytest.raises(InputError):
                gold.update_quality_settings(session, view, actor, bad)
        after = gold.update_quality_settings(session, view, actor, {"gold_rate": 0.1})
    assert after.gold_rate == 0.1 and after.pause_threshold == 0.7
    worker = team.actor(team.crew[0])
    with world.db.write() as session, pytest.raises(NotAllowed):
        view = get_project_for(session, worker, team.project)
        gold.update_quality_settings(session, view, worker, {"gold_rate": 0.2})
