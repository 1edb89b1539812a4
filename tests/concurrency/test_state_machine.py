"""C-32: random interleavings of next, submit, skip, resubmit and the clock, against a model.

The model is a few dictionaries; the real engine runs on the test database with time-machine
moving the server's clock. After every step the database must agree with the model: each item's
`n_taken`/`n_done`, each assignment's status, every acknowledged submission stored once, no item
over its overlap and no worker twice on an item. Reaping runs on every ask here
(`REAP_EVERY_S = 0`) so that the model knows exactly when slots come back.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import text

from datadam.assignment import queue
from datadam.assignment.service import next_task, skip_task, submit_task
from datadam.domain.enums import OrgKind, Role
from datadam.errors import Conflict
from datadam.storage.types import utcnow

LEASE = 60
RESULT = {"sentiment": "neutral"}
PROFILE = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _build(world, n_workers: int, n_items: int, overlap: int) -> tuple[Any, list[Any], list[int]]:  # type: ignore[no-untyped-def]
    inst = world.org(OrgKind.INSTITUTION)
    vendor = world.org(OrgKind.VENDOR)
    people = [world.person((vendor, Role.WORKER)) for _ in range(n_workers)]
    project = world.project(inst, overlap=overlap, vendors=(vendor,), lease_seconds=LEASE)
    world.texts(project, n_items)
    with world.db.engine.connect() as conn:
        items = [
            r[0]
            for r in conn.execute(
                text("SELECT id FROM item WHERE project_id = :p ORDER BY id"), {"p": project}
            )
        ]
    return project, [world.actor(p) for p in people], items


def test_engine_agrees_with_the_model(world, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(queue, "REAP_EVERY_S", 0.0)

    class Assignments(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = time_machine.travel(utcnow(), tick=False)
            self.traveller = self.clock.start()
            self.overlap = 2
            self.project, self.actors, self.items = _build(world, 3, 3, self.overlap)
            self.now = utcnow()
            # assignment id -> [worker index, item id, status, expires_at]
            self.leases: dict[int, list[Any]] = {}
            self.acked: dict[int, int] = {}  # assignment id -> annotation id

        def teardown(self) -> None:
            self.clock.stop()

        # -- the model ------------------------------------------------------------------
        def taken(self, item: int) -> int:
            return sum(
                1
                for _w, i, s, _e in self.leases.values()
                if i == item and s in ("active", "submitted")
            )

        def done(self, item: int) -> int:
            return sum(1 for _w, i, s, _e in self.leases.values() if i == item and s == "submitted")

        def reap(self) -> None:
            for lease in self.leases.values():
                if lease[2] == "active" and lease[3] <= self.now:
                    lease[2] = "expired"

        def expected_item(self, w: int) -> int | None:
            seen = {i for ww, i, _s, _e in self.leases.values() if ww == w}
            free = [i for i in self.items if i not in seen and self.taken(i) < self.overlap]
            if not free:
                return None
            return min(free, key=lambda i: (-self.taken(i), i))

        # -- rules ----------------------------------------------------------------------
        @rule(w=st.integers(0, 2))
        def ask(self, w: int) -> None:
            mine = [
                (a, lease)
                for a, lease in self.leases.items()
                if lease[0] == w and lease[2] == "active"
            ]
            live = [(a, lease) for a, lease in mine if lease[3] > self.now]
            task = next_task(db, self.actors[w], self.project)
            if live:
                assert task is not None and task.assignment_id == live[0][0]
                return
            self.reap()
            want = self.expected_item(w)
            if want is None:
                assert task is None
                return
            assert task is not None and task.item_id == want
            assert task.assignment_id not in self.leases
            self.leases[task.assignment_id] = [
                w,
                want,
                "active",
                self.now + timedelta(seconds=LEASE),
            ]

        @rule(data=st.data())
        def submit(self, data: st.DataObject) -> None:
            if not self.leases:
                return
            a = data.draw(st.sampled_from(sorted(self.leases)))
            w, item, status, _exp = self.leases[a]
            try:
                done = submit_task(
                    db, self.actors[w], a, result=RESULT, client_submission_id=f"k{a}"
                )
            except Conflict as refused:
                if status == "expired":
                    assert refused.code == "assignment_expired"
                    assert self.taken(item) >= self.overlap
                else:
                    assert status == "skipped" and refused.code == "not_active"
                return
            if status == "submitted":
                assert done.replayed and done.annotation_id == self.acked[a]
                return
            assert not done.replayed and done.item_id == item
            assert status == "active" or self.taken(item) < self.overlap
            self.leases[a][2] = "submitted"
            self.acked[a] = done.annotation_id

        @rule(data=st.data())
        def skip(self, data: st.DataObject) -> None:
            if not self.leases:
                return
            a = data.draw(st.sampled_from(sorted(self.leases)))
            w, _item, status, _exp = self.leases[a]
            try:
                skip_task(db, self.actors[w], a, "cannot read it")
            except Conflict as refused:
                assert status != "active" and refused.code == "not_active"
                return
            assert status == "active"
            self.leases[a][2] = "skipped"

        @rule(seconds=st.sampled_from([5, 30, LEASE + 1]))
        def wait(self, seconds: int) -> None:
            self.traveller.shift(timedelta(seconds=seconds))
            self.now += timedelta(seconds=seconds)

        # -- the database agrees --------------------------------------------------------
        @invariant()
        def database_matches_model(self) -> None:
            with db.engine.connect() as conn:
                items = {
                    r.id: (r.n_taken, r.n_done)
                    for r in conn.execute(
                        text("SELECT id, n_taken, n_done FROM item WHERE project_id = :p"),
                        {"p": self.project},
                    )
                }
                statuses = dict(
                    conn.execute(
                        text("SELECT id, status FROM assignment WHERE project_id = :p"),
                        {"p": self.project},
                    ).all()
                )
                notes = dict(
                    conn.execute(
                        text("SELECT assignment_id, id FROM annotation WHERE project_id = :p"),
                        {"p": self.project},
                    ).all()
                )
                pairs = conn.execute(
                    text(
                        "SELECT count(*) - count(DISTINCT item_id || '-' || worker_id) "
                        "FROM assignment WHERE project_id = :p"
                    ),
                    {"p": self.project},
                ).scalar_one()
            assert pairs == 0
            for item in self.items:
                assert items[item] == (self.taken(item), self.done(item))
                assert items[item][0] <= self.overlap
            assert statuses == {a: lease[2] for a, lease in self.leases.items()}
            assert notes == self.acked

    run_state_machine_as_test(Assignments, settings=PROFILE)
