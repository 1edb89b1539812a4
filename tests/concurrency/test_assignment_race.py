"""C-30: many workers, one slot. Threads released together never overfill an item.

In-process: 2 then 32 distinct workers call the domain `next_task` on one item with overlap 1
at the same instant (a `threading.Barrier`), round after round; exactly one wins each round.
Over HTTP: 32 workers hammer next-task + submit on a 500-item project with overlap 3 served by
a real `datadam serve` process; the history checker and the final database agree.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from datadam.assignment.service import next_task
from datadam.domain.enums import OrgKind, Role
from tests.concurrency.history import History, WorkerClient, check, stored_annotations
from tests.serverproc import ServerProcess


def _crew(world, n: int, *, overlap: int, items: int):  # type: ignore[no-untyped-def]
    inst = world.org(OrgKind.INSTITUTION)
    vendor = world.org(OrgKind.VENDOR)
    crew = [world.person((vendor, Role.WORKER)) for _ in range(n)]
    project = world.project(inst, overlap=overlap, vendors=(vendor,))
    world.texts(project, items)
    return crew, project


@pytest.mark.parametrize(("n_workers", "rounds"), [(2, 60), (32, 12)])
def test_one_slot_goes_to_exactly_one_of_many(world, db, n_workers: int, rounds: int) -> None:  # type: ignore[no-untyped-def]
    crew, project = _crew(world, n_workers, overlap=1, items=1)
    actors = [world.actor(p) for p in crew]
    barrier = threading.Barrier(n_workers)

    def ask(actor):  # type: ignore[no-untyped-def]
        barrier.wait(timeout=30)
        return next_task(db, actor, project)

    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        for round_no in range(rounds):
            tasks = list(pool.map(ask, actors))
            winners = [t for t in tasks if t is not None]
            assert len(winners) == 1, f"round {round_no}: {len(winners)} workers got the slot"
            with db.write_engine.begin() as conn:
                live = conn.execute(
                    text("SELECT count(*) FROM assignment WHERE project_id = :p"), {"p": project}
                ).scalar_one()
                taken = conn.execute(
                    text("SELECT n_taken FROM item WHERE project_id = :p"), {"p": project}
                ).scalar_one()
                assert (live, taken) == (1, 1)
                # Reset for the next round: the item is free again, nobody has seen it.
                conn.execute(text("DELETE FROM assignment WHERE project_id = :p"), {"p": project})
                conn.execute(
                    text("UPDATE item SET n_taken = 0 WHERE project_id = :p"), {"p": project}
                )


@pytest.mark.slow
def test_http_workers_fill_every_item_exactly_to_overlap(world, db, database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    overlap, n_items, n_workers = 3, 500, 32
    crew, project = _crew(world, n_workers, overlap=overlap, items=n_items)
    with db.engine.connect() as conn:
        item_ids = [
            r[0]
            for r in conn.execute(text("SELECT id FROM item WHERE project_id = :p"), {"p": project})
        ]
    history = History()
    with ServerProcess(database_url=database_url, data_dir=tmp_path / "srv") as server:
        clients = [
            WorkerClient(server.base_url, p.token, process=n, history=history)
            for n, p in enumerate(crew)
        ]
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            for future in [pool.submit(c.run, project) for c in clients]:
                future.result(timeout=240)
        for c in clients:
            c.close()
    workers = {n: p.user_id for n, p in enumerate(crew)}
    stored = stored_annotations(db, project)
    problems = check(
        history, stored, workers=workers, overlap=overlap, item_ids=item_ids, complete=True
    )
    assert problems == []
    assert len(stored) == overlap * n_items
    assert all(op.outcome == "ok" for op in history.ops)
    with db.engine.connect() as conn:
        live = conn.execute(
            text("SELECT count(*) FROM assignment WHERE project_id = :p AND status = 'active'"),
            {"p": project},
        ).scalar_one()
    assert live == 0
