"""C-34: the server is SIGKILLed at seeded random moments under submit load and restarted;
clients retry unacknowledged requests with the same submission ids. Afterwards every
acknowledged submission is stored exactly once, nothing is duplicated, no item is over its
overlap, and every item is complete (leases held by the dead process are found again)."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from datadam.domain.enums import OrgKind, Role
from tests.concurrency.history import History, WorkerClient, check, stored_annotations
from tests.serverproc import ServerProcess


@pytest.mark.slow
def test_kill_during_submit_load_loses_and_duplicates_nothing(  # type: ignore[no-untyped-def]
    world, db, database_url, backend, tmp_path
) -> None:
    overlap, n_items, n_workers = 2, 150, 16
    kills = 3 if backend == "postgresql" else 2
    inst = world.org(OrgKind.INSTITUTION)
    vendor = world.org(OrgKind.VENDOR)
    crew = [world.person((vendor, Role.WORKER)) for _ in range(n_workers)]
    project = world.project(inst, overlap=overlap, vendors=(vendor,))
    world.texts(project, n_items)
    with db.engine.connect() as conn:
        item_ids = [
            r[0]
            for r in conn.execute(text("SELECT id FROM item WHERE project_id = :p"), {"p": project})
        ]
    rng = random.Random(f"c34-{backend}")
    history = History()
    server = ServerProcess(database_url=database_url, data_dir=tmp_path / "srv").start()
    clients = [
        WorkerClient(server.base_url, p.token, process=n, history=history, retry=True)
        for n, p in enumerate(crew)
    ]
    killed_at: list[int] = []
    try:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            futures = [pool.submit(c.run, project) for c in clients]
            for _ in range(kills):
                # Kill after a seeded number of further acknowledged submissions, so that the
                # kill lands under load however fast the server answers.
                _wait_for_acks(history, len(history.of("submit", "ok")) + rng.randint(10, 60))
                time.sleep(rng.uniform(0.0, 0.05))
                killed_at.append(len(history.of("submit", "ok")))
                server.kill()
                time.sleep(rng.uniform(0.0, 0.3))
                server.start(same_port=True)
            for future in futures:
                future.result(timeout=240)
    finally:
        for c in clients:
            c.stop.set()
            c.close()
        server.stop()
    assert any(0 < k < overlap * n_items for k in killed_at), f"no kill under load: {killed_at}"
    assert history.of("submit", "info") or history.of("next", "info"), "no request was cut off"
    workers = {n: p.user_id for n, p in enumerate(crew)}
    stored = stored_annotations(db, project)
    problems = check(
        history, stored, workers=workers, overlap=overlap, item_ids=item_ids, complete=True
    )
    assert problems == []
    acked = {(workers[o.process], o.key) for o in history.of("submit", "ok")}
    assert acked == {(s.worker_id, s.key) for s in stored}


def _wait_for_acks(history: History, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(history.of("submit", "ok")) < count and time.monotonic() < deadline:
        time.sleep(0.005)


def test_history_checker_finds_a_lost_acknowledgement() -> None:
    """The checker itself: an acknowledged submission missing from the database is reported."""
    from tests.concurrency.history import Stored

    history = History()
    op = history.invoke(0, "submit", assignment_id=1, item_id=10, key="k1")
    History.complete(op, "ok", status=200, annotation_id=5)
    extra = history.invoke(0, "submit", assignment_id=2, item_id=11, key="k2")
    History.complete(extra, "info")
    problems = check(
        history,
        [Stored(6, 11, 99, "k2"), Stored(7, 12, 99, "zz")],
        workers={0: 99},
        overlap=1,
        item_ids=[10, 11, 12],
        complete=True,
    )
    assert any("k1" in p and "lost" in p for p in problems)
    assert any("phantom" in p for p in problems)
    assert any("item 10 has 0 labels" in p for p in problems)
