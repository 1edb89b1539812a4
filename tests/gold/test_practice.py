"""Training feedback, qualification attempts, the qualification gate and paid practice time."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from datadam.assignment.service import next_task
from datadam.errors import Conflict, InputError, NotAllowed
from datadam.gold import practice
from datadam.projects.service import get_project_for
from datadam.storage.tables import Event, PracticeAnswer, WorkedTime
from tests.gold.helpers import add_known_items, gold_team


def _answer(team, person, purpose, label):  # type: ignore[no-untyped-def]
    actor = team.actor(person)
    with team.world.db.write() as session:
        view = get_project_for(session, actor, team.project)
        task = practice.next_practice(session, view, actor, purpose=purpose)
        if task is None:
            return None, None
        feedback = practice.answer_practice(
            session, view, actor, practice_id=task.id, result={"sentiment": label}
        )
        return task, feedback


def test_training_shows_answer_and_explanation_and_pays_time(world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(world, items=2)
    add_known_items(world, team.project, team.manager, 2, purpose="training", answer="negative")
    worker = team.crew[0]
    task, feedback = _answer(team, worker, "training", "positive")
    assert task.number == 1 and task.total == 2
    assert feedback.correct is False and feedback.answer == {"sentiment": "negative"}
    assert feedback.explanation == "the text is negative" and feedback.more
    task, feedback = _answer(team, worker, "training", "negative")
    assert task.number == 2 and feedback.correct is True and not feedback.more
    assert _answer(team, worker, "training", "negative") == (None, None)
    with world.db.read() as session:
        times = session.execute(select(WorkedTime)).scalars().all()
    assert [t.source for t in times] == ["training", "training"]
    assert all(0 < t.duration_us <= practice.PRACTICE_TIME_CAP.total_seconds() * 1e6 for t in times)
    assert all(t.work_ref.startswith("practice:") for t in times)


def test_serving_again_returns_the_same_question(world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(world, items=1)
    add_known_items(world, team.project, team.manager, 2, purpose="training")
    actor = team.actor(team.crew[0])
    with world.db.write() as session:
        view = get_project_for(session, actor, team.project)
        first = practice.next_practice(session, view, actor, purpose="training")
        second = practice.next_practice(session, view, actor, purpose="training")
        assert first.id == second.id
        with pytest.raises(InputError):
            practice.answer_practice(
                session, view, actor, practice_id=first.id, result={"sentiment": "joy"}
            )
        practice.answer_practice(
            session, view, actor, practice_id=first.id, result={"sentiment": "positive"}
        )
        again = practice.answer_practice(
            session, view, actor, practice_id=first.id, result={"sentiment": "positive"}
        )
        assert again.correct is True
        with pytest.raises(Conflict):
            practice.answer_practice(
                session, view, actor, practice_id=first.id, result={"sentiment": "neutral"}
            )


def test_qualification_gate_fail_then_pass(world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(world, items=3, qualification_required=True, pass_mark=0.6, max_attempts=2)
    add_known_items(world, team.project, team.manager, 3, purpose="qualification")
    worker = team.crew[0]
    actor = team.actor(worker)
    with pytest.raises(NotAllowed) as gate:
        next_task(world.db, actor, team.project)
    assert gate.value.code == "qualification_required"

    results = [_answer(team, worker, "qualification", "negative")[1] for _ in range(3)]
    assert all(r.correct is None and r.answer is None for r in results)  # nothing revealed
    assert results[-1].attempt.passed is False and results[-1].attempt.attempts_left == 1
    with pytest.raises(NotAllowed):
        next_task(world.db, actor, team.project)

    labels = ["positive", "positive", "negative"]
    results = [_answer(team, worker, "qualification", label)[1] for label in labels]
    final = results[-1].attempt
    assert final.passed and final.correct == 2 and final.score == pytest.approx(2 / 3)
    assert next_task(world.db, actor, team.project) is not None
    with pytest.raises(Conflict) as done:
        _answer(team, worker, "qualification", "positive")
    assert done.value.code == "already_qualified"
    with world.db.read() as session:
        actions = list(session.execute(select(Event.action)).scalars())
        sources = set(session.execute(select(WorkedTime.source)).scalars())
        served = session.execute(select(PracticeAnswer)).scalars().all()
    assert actions.count("qualification.failed") == 1 and actions.count("qualification.passed") == 1
    assert sources == {"qualification"} and len(served) == 6


def test_attempts_run_out(world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(world, items=1, qualification_required=True, max_attempts=1)
    add_known_items(world, team.project, team.manager, 1, purpose="qualification")
    worker = team.crew[0]
    _answer(team, worker, "qualification", "neutral")
    with pytest.raises(Conflict) as err:
        _answer(team, worker, "qualification", "positive")
    assert err.value.code == "no_attempts_left"
    with world.db.read() as session:
        view = get_project_for(session, team.actor(worker), team.project)
        status = practice.qualification_status(session, team.project, worker.user_id)
    assert status.attempts_left == 0 and not status.can_start and view is not None
