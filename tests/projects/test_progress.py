"""Progress over time, items by state and per-worker counts, on SQLite and PostgreSQL.

Labels are submitted through the worker service; the test then pins `submitted_at` to known
instants (the only way to place labels on chosen days without sleeping).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from datadam.access.policies import ProjectAction
from datadam.assignment.service import next_task, submit_task
from datadam.domain.enums import OrgKind, Role
from datadam.errors import InputError, NotAllowed, NotFound
from datadam.exporting.jsonl import worker_pseudonym
from datadam.projects import inspection_queue, progress
from datadam.projects.service import get_project_for
from datadam.storage.tables import Annotation, Project
from tests.conftest import TEST_SECRET
from tests.factories import labeling_team

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)


def _label(world, person, project_id: int, answer: str = "positive") -> int:  # type: ignore[no-untyped-def]
    actor = world.actor(person)
    task = next_task(world.db, actor, project_id)
    assert task is not None
    done = submit_task(
        world.db,
        actor,
        task.assignment_id,
        result={"sentiment": answer},
        client_submission_id=f"s-{task.assignment_id}",
    )
    return done.annotation_id


def _pin(db, annotation_id: int, at: datetime) -> None:  # type: ignore[no-untyped-def]
    with db.write() as session:
        session.execute(
            update(Annotation).where(Annotation.id == annotation_id).values(submitted_at=at)
        )


def _project(db, project_id: int) -> Project:  # type: ignore[no-untyped-def]
    with db.read() as session:
        project = session.get(Project, project_id)
        assert project is not None
        return project


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    progress.clear_progress_cache()
    yield
    progress.clear_progress_cache()


@pytest.fixture
def team(world):  # type: ignore[no-untyped-def]
    """Overlap 2, three workers, six items: worker 0 labels 3, worker 1 labels 2, worker 2 one."""
    inst, vendor, manager, crew, project_id = labeling_team(world, overlap=2, items=6)
    plan = [
        (0, NOW - timedelta(days=5, hours=1)),
        (0, NOW - timedelta(days=5)),
        (1, NOW - timedelta(days=3)),
        (0, NOW - timedelta(days=1)),
        (1, NOW - timedelta(hours=2)),
        (2, NOW - timedelta(hours=1)),
    ]
    ids = []
    for who, at in plan:
        annotation_id = _label(world, crew[who], project_id)
        _pin(world.db, annotation_id, at)
        ids.append(annotation_id)
    return inst, vendor, manager, crew, project_id, ids


def test_labels_per_day_fill_gaps_up_to_now(world, team) -> None:  # type: ignore[no-untyped-def]
    *_, project_id, _ids = team
    with world.db.read() as session:
        series = progress.labels_over_time(session, project_id, until=NOW)
    assert series.unit == "day"
    assert [b.start.date().isoformat() for b in series.buckets] == [
        "2026-03-05",
        "2026-03-06",
        "2026-03-07",
        "2026-03-08",
        "2026-03-09",
        "2026-03-10",
    ]
    assert [b.labels for b in series.buckets] == [2, 0, 1, 0, 1, 2]
    assert series.total == 6
    assert all(b.start.tzinfo is not None for b in series.buckets)


def test_labels_per_hour_and_offset(world, team) -> None:  # type: ignore[no-untyped-def]
    *_, project_id, _ids = team
    with world.db.read() as session:
        hourly = progress.labels_over_time(session, project_id, unit="hour", until=NOW)
        korea = progress.labels_over_time(session, project_id, offset_minutes=540, until=NOW)
    assert hourly.buckets[-1].start == datetime(2026, 3, 10, 15, tzinfo=UTC)
    assert hourly.buckets[-2].labels == 1  # 14:30 -> the 14:00 bucket
    assert hourly.buckets[-3].labels == 1  # 13:30
    # five days of hours, cut to the last 120: the two labels of 5 March fall outside
    assert len(hourly.buckets) == progress.MAX_BUCKETS
    assert hourly.total == 4
    # In UTC+9 the 15:30 UTC labels land just after midnight of the next day
    assert [b.start.date().day for b in korea.buckets] == [5, 6, 7, 8, 9, 10, 11]
    assert [b.labels for b in korea.buckets] == [1, 1, 0, 1, 0, 3, 0]


def test_items_by_stage_and_state(world, team) -> None:  # type: ignore[no-untyped-def]
    *_, project_id, _ids = team
    with world.db.read() as session:
        states = progress.item_states(session, _project(world.db, project_id))
    # overlap 2, six labels on six items: the queue fills items two at a time
    assert states.total == 6
    assert states.by_state[progress.COMPLETE] == 3
    assert states.by_state[progress.WAITING] == 3
    assert states.by_state[progress.IN_PROGRESS] == 0
    assert states.by_stage == {"inspection": 3, "labeling": 3}


def test_worker_counts_use_project_pseudonyms_only(world, team) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project_id, _ids = team
    with world.db.read() as session:
        table = progress.worker_counts(session, project_id, secret=TEST_SECRET, limit=2)
    assert table.workers_total == 3
    assert table.labels_total == 6
    assert [w.labels for w in table.rows] == [3, 2]
    assert table.rows[0].worker == worker_pseudonym(TEST_SECRET, project_id, crew[0].user_id)
    for row in table.rows:
        assert row.worker.startswith("w_")
        assert row.worker not in {p.pseudonym for p in crew}  # not the global pseudonym


def test_project_progress_switches_to_hours_for_a_young_project(world) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project_id = labeling_team(world, overlap=1, items=3)
    for person in crew:
        _label(world, person, project_id)
    project = _project(world.db, project_id)
    with world.db.read() as session:
        summary = progress.project_progress(session, project, secret=TEST_SECRET)
        empty = progress.labels_over_time(session, project_id + 999)
    assert summary.over_time.unit == "hour"
    assert summary.labels == 3
    assert summary.workers.workers_total == 3
    assert summary.items.by_state[progress.COMPLETE] == 3
    assert empty.buckets == ()


def test_inspection_queue_excludes_own_work_and_moves_by_item(world, team) -> None:  # type: ignore[no-untyped-def]
    inst, _vendor, _manager, crew, project_id, ids = team
    inspector = world.person((inst, Role.INSPECTOR))
    actor = world.actor(inspector)
    with world.db.read() as session:
        view = get_project_for(session, actor, project_id)
        assert ProjectAction.INSPECT in view.actions
        assert inspection_queue.queue_size(session, view, actor) == 6
        first = inspection_queue.first_in_queue(session, view, actor)
        seen = []
        at = first
        while at is not None:
            spot = inspection_queue.get_queue_position(session, view, actor, at, secret=TEST_SECRET)
            seen.append((spot.entry.item_id, spot.entry.annotation_id))
            assert spot.position == len(seen) and spot.total == 6
            assert spot.entry.worker.startswith("w_")
            assert spot.entry.result == {"sentiment": "positive"}
            at = spot.next_id
        assert seen == sorted(seen)
        assert sorted(a for _i, a in seen) == sorted(ids)
        back = inspection_queue.get_queue_position(
            session, view, actor, seen[-1][1], secret=TEST_SECRET
        )
        assert back.previous_id == seen[-2][1]


def test_nobody_inspects_their_own_work(world, team) -> None:  # type: ignore[no-untyped-def]
    inst, _vendor, _manager, _crew, project_id, _ids = team
    both = world.person((inst, Role.INSPECTOR), (inst, Role.WORKER))
    own = _label(world, both, project_id)
    actor = world.actor(both)
    with world.db.read() as session:
        view = get_project_for(session, actor, project_id)
        assert inspection_queue.queue_size(session, view, actor) == 6
        with pytest.raises(NotFound):
            inspection_queue.get_queue_position(session, view, actor, own, secret=TEST_SECRET)
        mine = session.execute(
            select(Annotation.worker_id).where(Annotation.id == own)
        ).scalar_one()
        assert mine == both.user_id


def test_vendor_inspectors_see_only_their_crew(world, team) -> None:  # type: ignore[no-untyped-def]
    inst, vendor, _manager, _crew, project_id, _ids = team
    rival = world.org(OrgKind.VENDOR)
    rival_worker = world.person((rival, Role.WORKER))
    with world.db.write() as session:
        from datadam.storage.tables import ProjectAccess

        session.add(ProjectAccess(project_id=project_id, organization_id=rival))
    _label(world, rival_worker, project_id)
    vendor_boss = world.actor(world.person((vendor, Role.ADMIN)))
    rival_boss = world.actor(world.person((rival, Role.MANAGER)))
    owner_inspector = world.actor(world.person((inst, Role.INSPECTOR)))
    outsider = world.actor(world.person((world.org(OrgKind.INSTITUTION), Role.INSPECTOR)))
    with world.db.read() as session:
        sizes = {
            name: inspection_queue.queue_size(
                session, get_project_for(session, who, project_id), who
            )
            for name, who in [
                ("vendor", vendor_boss),
                ("rival", rival_boss),
                ("owner", owner_inspector),
            ]
        }
        assert sizes == {"vendor": 6, "rival": 1, "owner": 7}
        with pytest.raises(NotFound):
            get_project_for(session, outsider, project_id)
        worker_view = get_project_for(session, world.actor(rival_worker), project_id)
        with pytest.raises(NotAllowed):
            inspection_queue.queue_size(session, worker_view, world.actor(rival_worker))


def test_slow_results_are_kept_for_a_while_small_ones_never(world, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project_id, _ids = team
    project = _project(world.db, project_id)
    with world.db.read() as session:
        fresh = progress.project_progress(session, project, secret=TEST_SECRET)
        again = progress.project_progress(session, project, secret=TEST_SECRET)
    assert again is not fresh  # fast enough: never cached
    monkeypatch.setattr(progress, "SLOW_SECONDS", 0.0)  # pretend the project is huge
    with world.db.read() as session:
        first = progress.project_progress(session, project, secret=TEST_SECRET)
    _label(world, crew[2], project_id)
    with world.db.read() as session:
        cached = progress.project_progress(session, project, secret=TEST_SECRET)
        bypass = progress.project_progress(session, project, secret=TEST_SECRET, max_age=0)
        other_secret = progress.project_progress(session, project, secret="x" * 48)
    assert cached is first and cached.labels == 6
    assert bypass.labels == 7 and other_secret.labels == 7
    assert bypass.as_of >= first.as_of


def test_leased_items_are_in_progress_and_offsets_are_whole_hours(world) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project_id = labeling_team(world, overlap=2, items=2)
    assert next_task(world.db, world.actor(crew[0]), project_id) is not None  # leased only
    with world.db.read() as session:
        states = progress.item_states(session, _project(world.db, project_id))
        with pytest.raises(InputError) as bad:
            progress.labels_over_time(session, project_id, offset_minutes=330)
    assert states.by_state == {
        progress.WAITING: 1,
        progress.IN_PROGRESS: 1,
        progress.COMPLETE: 0,
    }
    assert bad.value.field == "offset"
