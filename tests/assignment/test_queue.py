"""The assignment engine's rules, through the domain service on both databases."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import text

from datadam.assignment import queue
from datadam.assignment.service import next_task, skip_task, submit_task
from datadam.errors import Conflict, NotFound
from datadam.storage.conversation import drive
from datadam.storage.types import utcnow
from tests.factories import labeling_team

RESULT = {"sentiment": "neutral"}


def _team(world, **kw):  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, **kw)
    return [world.actor(p) for p in crew], project


def _submit(db, actor, task, key: str | None = None):  # type: ignore[no-untyped-def]
    key = key or f"{actor.user_id}-{task.assignment_id}"
    return submit_task(db, actor, task.assignment_id, result=RESULT, client_submission_id=key)


def _item_counts(db, project: int) -> dict[int, tuple[int, int]]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, n_taken, n_done FROM item WHERE project_id = :p"), {"p": project}
        )
        return {r.id: (r.n_taken, r.n_done) for r in rows}


def _expire_all(db, project: int) -> None:  # type: ignore[no-untyped-def]
    past = utcnow() - timedelta(seconds=5)
    with db.write_engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE assignment SET expires_at = :t WHERE project_id = :p AND status = 'active'"
            ),
            {"t": queue.db_time(db.dialect, past), "p": project},
        )
        drive(conn, queue.reap_expired(db.dialect, project_id=project, force=True))


def test_live_never_exceeds_overlap_and_no_worker_twice(world, db) -> None:  # type: ignore[no-untyped-def]
    actors, project = _team(world, overlap=2, workers=5, items=3)
    handed = []
    for actor in actors:
        for _ in range(3):
            task = next_task(db, actor, project)
            if task is None:
                break
            handed.append((actor.user_id, task.item_id))
            _submit(db, actor, task)
    assert len(handed) == len(set(handed)), "a worker got the same item twice"
    counts = _item_counts(db, project)
    assert all(taken == done == 2 for taken, done in counts.values())
    assert all(next_task(db, a, project) is None for a in actors)


def test_asking_again_returns_the_same_lease(world, db) -> None:  # type: ignore[no-untyped-def]
    actors, project = _team(world, items=5)
    first = next_task(db, actors[0], project)
    again = next_task(db, actors[0], project)
    assert first is not None and again is not None
    assert again.assignment_id == first.assignment_id and again.item_id == first.item_id
    assert sum(t for t, _ in _item_counts(db, project).values()) == 1


def test_skip_frees_the_slot_for_others_but_not_for_the_skipper(world, db) -> None:  # type: ignore[no-untyped-def]
    actors, project = _team(world, overlap=1, workers=2, items=1)
    task = next_task(db, actors[0], project)
    assert task is not None
    assert next_task(db, actors[1], project) is None
    skip_task(db, actors[0], task.assignment_id, "blurry")
    with pytest.raises(Conflict) as again:
        skip_task(db, actors[0], task.assignment_id, "blurry")
    assert again.value.code == "not_active"
    other = next_task(db, actors[1], project)
    assert other is not None and other.item_id == task.item_id
    assert next_task(db, actors[0], project) is None


def test_skip_of_someone_elses_assignment_is_not_found(world, db) -> None:  # type: ignore[no-untyped-def]
    actors, project = _team(world, workers=2, items=1)
    task = next_task(db, actors[0], project)
    assert task is not None
    with pytest.raises(NotFound):
        skip_task(db, actors[1], task.assignment_id, "not mine")


def test_expired_lease_returns_the_item_to_the_pool(world, db) -> None:  # type: ignore[no-untyped-def]
    actors, project = _team(world, overlap=1, workers=2, items=1)
    task = next_task(db, actors[0], project)
    assert task is not None
    assert next_task(db, actors[1], project) is None
    _expire_all(db, project)
    other = next_task(db, actors[1], project)
    assert other is not None and other.item_id == task.item_id
    assert _item_counts(db, project)[task.item_id] == (1, 0)


@pytest.mark.parametrize("reaper_ran_recently", [False, True])
def test_lease_expires_with_the_clock(world, db, monkeypatch, reaper_ran_recently: bool) -> None:  # type: ignore[no-untyped-def]
    """An old lease is never handed back as live, whether or not the reaper has run since."""
    actors, project = _team(world, overlap=1, workers=2, items=2)
    task = next_task(db, actors[0], project)
    assert task is not None
    if reaper_ran_recently:
        monkeypatch.setattr(queue, "REAP_EVERY_S", 1e9)
    with time_machine.travel(utcnow() + timedelta(hours=1), tick=False):
        queue._last_reap.clear()
        if reaper_ran_recently:
            queue._last_reap[project] = time.monotonic()
        fresh = next_task(db, actors[0], project)
        assert fresh is not None and fresh.assignment_id != task.assignment_id
        again = next_task(db, actors[0], project)
        assert again is not None and again.assignment_id == fresh.assignment_id
        other = next_task(db, actors[1], project)
        assert other is not None and other.item_id == task.item_id


def test_late_submit_is_accepted_while_the_item_has_room(world, db) -> None:  # type: ignore[no-untyped-def]
    actors, project = _team(world, overlap=2, workers=2, items=1)
    task = next_task(db, actors[0], project)
    assert task is not None
    _expire_all(db, project)
    done = _submit(db, actors[0], task)
    assert done.replayed is False
    assert _item_counts(db, project)[task.item_id] == (1, 1)


def test_late_submit_after_others_filled_the_item_is_409(world, db) -> None:  # type: ignore[no-untyped-def]
    actors, project = _team(world, overlap=1, workers=2, items=1)
    task = next_task(db, actors[0], project)
    assert task is not None
    _expire_all(db, project)
    other = next_task(db, actors[1], project)
    assert other is not None
    _submit(db, actors[1], other)
    with pytest.raises(Conflict) as refused:
        _submit(db, actors[0], task)
    assert refused.value.code == "assignment_expired"
    assert _item_counts(db, project)[task.item_id] == (1, 1)


def test_priority_is_closest_to_completion_then_import_order(world, db) -> None:  # type: ignore[no-untyped-def]
    actors, project = _team(world, overlap=3, workers=3, items=4)
    ids = sorted(_item_counts(db, project))
    first = next_task(db, actors[0], project)
    assert first is not None and first.item_id == ids[0]
    _submit(db, actors[0], first)
    second = next_task(db, actors[0], project)
    assert second is not None and second.item_id == ids[1]
    # Worker 1 sees item 0 (one label) and item 1 (one live lease) ahead of fresh items.
    third = next_task(db, actors[1], project)
    assert third is not None and third.item_id == ids[0]
    _submit(db, actors[1], third)
    fourth = next_task(db, actors[2], project)
    assert fourth is not None and fourth.item_id == ids[0]


def test_bounded_scan_still_finds_work_for_a_lone_worker(world, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(queue, "WINDOW", 4)
    actors, project = _team(world, overlap=2, workers=1, items=30)
    seen = []
    while (task := next_task(db, actors[0], project)) is not None:
        seen.append(task.item_id)
        _submit(db, actors[0], task)
    assert sorted(seen) == sorted(_item_counts(db, project))
    assert len(seen) == 30


def test_paused_project_gives_no_task(world, db) -> None:  # type: ignore[no-untyped-def]
    actors, project = _team(world, items=3)
    with db.write_engine.begin() as conn:
        conn.execute(text("UPDATE project SET status = 'paused' WHERE id = :p"), {"p": project})
    assert next_task(db, actors[0], project) is None
    with db.write_engine.begin() as conn:
        conn.execute(text("UPDATE project SET status = 'active' WHERE id = :p"), {"p": project})
    assert next_task(db, actors[0], project) is not None


def test_a_worker_outside_the_project_gets_not_found(world, db) -> None:  # type: ignore[no-untyped-def]
    from datadam.domain.enums import OrgKind, Role

    _actors, project = _team(world, items=1)
    stranger = world.actor(world.person((world.org(OrgKind.VENDOR), Role.WORKER)))
    with pytest.raises(NotFound):
        next_task(db, stranger, project)


def test_the_database_refuses_a_second_live_lease_for_one_worker(world, db) -> None:  # type: ignore[no-untyped-def]
    """`uq_assignment_live_worker` (migration 0008) stands behind "one live lease per worker
    and project", which the PostgreSQL fast path relies on instead of a worker lock."""
    from sqlalchemy.exc import IntegrityError

    actors, project = _team(world, overlap=1, workers=1, items=3)
    task = next_task(db, actors[0], project)
    assert task is not None
    other_item = next(i for i in _item_counts(db, project) if i != task.item_id)
    now = queue.db_time(db.dialect, utcnow())
    with pytest.raises(IntegrityError), db.write_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO assignment (project_id, item_id, worker_id, status, leased_at,"
                " expires_at) VALUES (:p, :i, :w, 'active', :t, :t)"
            ),
            {"p": project, "i": other_item, "w": actors[0].user_id, "t": now},
        )
    # Ended leases do not count: after submitting, the worker gets a new lease.
    _submit(db, actors[0], task)
    assert next_task(db, actors[0], project) is not None
