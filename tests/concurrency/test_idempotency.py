"""C-31: a submission id is used once. Repeats return the first annotation; a different result
under a used id is 409 `idempotency_key_reused`; racing repeats are settled by the constraint."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from datadam.assignment.service import next_task, submit_task
from datadam.errors import Conflict
from tests.factories import labeling_team

RESULT = {"sentiment": "positive"}


def _count(db, project: int) -> int:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM annotation WHERE project_id = :p"), {"p": project}
        ).scalar_one()


def _task(world, db, **kw):  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, **kw)
    actor = world.actor(crew[0])
    task = next_task(db, actor, project)
    assert task is not None
    return actor, project, task


def test_same_id_twice_in_a_row_is_one_row(world, db) -> None:  # type: ignore[no-untyped-def]
    actor, project, task = _task(world, db, items=2)
    first = submit_task(db, actor, task.assignment_id, result=RESULT, client_submission_id="k1")
    again = submit_task(db, actor, task.assignment_id, result=RESULT, client_submission_id="k1")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.annotation_id == first.annotation_id
    assert again.submitted_at == first.submitted_at
    assert _count(db, project) == 1


def test_same_id_with_a_different_result_is_409(world, db) -> None:  # type: ignore[no-untyped-def]
    actor, project, task = _task(world, db, items=2)
    submit_task(db, actor, task.assignment_id, result=RESULT, client_submission_id="k1")
    with pytest.raises(Conflict) as refused:
        submit_task(
            db,
            actor,
            task.assignment_id,
            result={"sentiment": "negative"},
            client_submission_id="k1",
        )
    assert refused.value.code == "idempotency_key_reused"
    assert _count(db, project) == 1


def test_used_id_on_another_assignment_is_not_a_second_row(world, db) -> None:  # type: ignore[no-untyped-def]
    actor, project, task = _task(world, db, items=2)
    first = submit_task(db, actor, task.assignment_id, result=RESULT, client_submission_id="k1")
    second = next_task(db, actor, project)
    assert second is not None and second.item_id != task.item_id
    with pytest.raises(Conflict) as refused:
        submit_task(
            db,
            actor,
            second.assignment_id,
            result={"sentiment": "neutral"},
            client_submission_id="k1",
        )
    assert refused.value.code == "idempotency_key_reused"
    replay = submit_task(db, actor, second.assignment_id, result=RESULT, client_submission_id="k1")
    assert replay.annotation_id == first.annotation_id and replay.replayed
    assert _count(db, project) == 1
    # The second assignment is still live: a fresh id stores it.
    fresh = submit_task(db, actor, second.assignment_id, result=RESULT, client_submission_id="k2")
    assert fresh.item_id == second.item_id and not fresh.replayed
    assert _count(db, project) == 2


@pytest.mark.parametrize("n", [2, 8])
def test_same_id_concurrently_is_one_row(world, db, n: int) -> None:  # type: ignore[no-untyped-def]
    actor, project, task = _task(world, db, items=1)
    barrier = threading.Barrier(n)

    def send(_i: int):  # type: ignore[no-untyped-def]
        barrier.wait(timeout=30)
        return submit_task(db, actor, task.assignment_id, result=RESULT, client_submission_id="dup")

    with ThreadPoolExecutor(max_workers=n) as pool:
        answers = list(pool.map(send, range(n)))
    assert len({a.annotation_id for a in answers}) == 1
    assert sum(not a.replayed for a in answers) == 1
    assert _count(db, project) == 1
    with db.engine.connect() as conn:
        n_done = conn.execute(
            text("SELECT n_done FROM item WHERE project_id = :p"), {"p": project}
        ).scalar_one()
    assert n_done == 1
