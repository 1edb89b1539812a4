"""What gold questions cost the worker loop: next task + submit, in-process, one worker.

    .venv/bin/python bench/gold_overhead.py [--db sqlite|postgresql] [--tasks 400]

Three projects of the same size: without quality settings (the gate adds nothing but a LEFT
JOIN to the project statement), with settings but no gold (the pause/qualification lookups
run), and with gold mixed in at 10% (an assignment count per ask, and scoring of each gold
answer). Prints one JSON line per case with milliseconds per next-task + submit pair (best of
three runs of `--tasks` pairs each, a fresh worker per run).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from tests.factories import World  # noqa: E402

from _common import PG_DEFAULT, bench_database, emit, machine  # noqa: E402
from datadam.assignment.service import next_task, submit_task  # noqa: E402
from datadam.domain.enums import OrgKind, Role  # noqa: E402
from datadam.gold.service import mark_gold, update_quality_settings  # noqa: E402
from datadam.projects.service import get_project_for  # noqa: E402
from datadam.storage.tables import Item  # noqa: E402

RUNS = 3


def _project(world: World, inst: int, vendor: int, manager, case: str, tasks: int) -> int:  # type: ignore[no-untyped-def]
    project = world.project(inst, vendors=(vendor,), name=case, overlap=RUNS + 1)
    world.items(project, [{"text": f"{case} item {i}"} for i in range(tasks + 60)])
    if case == "no settings":
        return project
    actor = world.actor(manager)
    with world.db.write() as session:
        view = get_project_for(session, actor, project)
        if case == "gold 10%":
            ids = session.query(Item.id).filter(Item.project_id == project).order_by(Item.id)
            for (item_id,) in ids.limit(50).all():
                mark_gold(session, view, actor, item_id=item_id, answer={"sentiment": "positive"})
        rate = 0.1 if case == "gold 10%" else 0.0
        update_quality_settings(
            session, view, actor, {"gold_rate": rate, "min_gold_answers": 10_000}
        )
    return project


def _run(world: World, actor, project: int, tasks: int) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for n in range(tasks):
        task = next_task(world.db, actor, project)
        assert task is not None
        submit_task(
            world.db,
            actor,
            task.assignment_id,
            result={"sentiment": "positive"},
            client_submission_id=f"b{n}",
        )
    return (time.perf_counter() - started) / tasks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--tasks", type=int, default=400)
    args = parser.parse_args()
    with bench_database(args.db, args.pg_url) as bench:
        world = World(bench.db, bench.settings)
        inst, vendor = world.org(OrgKind.INSTITUTION), world.org(OrgKind.VENDOR)
        manager = world.person((inst, Role.MANAGER))
        for case in ("no settings", "settings, no gold", "gold 10%"):
            project = _project(world, inst, vendor, manager, case, args.tasks)
            best = min(
                _run(world, world.actor(world.person((vendor, Role.WORKER))), project, args.tasks)
                for _ in range(RUNS)
            )
            emit(
                {
                    "bench": "gold_overhead",
                    "db": args.db,
                    "case": case,
                    "ms_per_pair": round(best * 1000, 3),
                    "tasks": args.tasks,
                }
            )
        emit({"bench": "gold_overhead", "machine": machine()})


if __name__ == "__main__":
    main()
