"""Export speed and memory: annotations/s and peak RSS of `write_export`, flat in N.

    .venv/bin/python bench/export_rate.py --db sqlite --annotations 100000,1000000

Items are imported, then two submitted annotations per item are generated in bulk with two
INSERT ... SELECT statements (no per-row Python). Each export runs in its own process so that
its peak RSS is its own. Target: >= 100,000 annotations/s, peak RSS flat in N. The figures also
give the exporting process's CPU seconds per 100,000 annotations and, on PostgreSQL, the
database server's.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from sqlalchemy import text  # noqa: E402
from tests.factories import World  # noqa: E402

from _common import (  # noqa: E402
    PG_DEFAULT,
    SECRET,
    bench_database,
    emit,
    machine,
    peak_rss_mb,
    pg_backends_cpu_s,
    write_items,
)
from datadam.domain.enums import OrgKind, Role  # noqa: E402
from datadam.importing.service import import_file  # noqa: E402
from datadam.storage.types import utcnow  # noqa: E402

PER_ITEM = 2


def _fill(bench, world: World, n_annotations: int) -> int:  # type: ignore[no-untyped-def]
    inst = world.org(OrgKind.INSTITUTION)
    workers = [world.person((inst, Role.WORKER)) for _ in range(PER_ITEM)]
    project = world.project(inst, overlap=PER_ITEM, name=f"export {n_annotations}")
    n_items = n_annotations // PER_ITEM
    path = write_items(bench.data_dir / "export-items.jsonl", n_items, start=n_annotations)
    import_file(bench.db, project_id=project, path=path)
    path.unlink()
    now = utcnow() if bench.db.is_postgres else utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    result = "CAST(:r AS jsonb)" if bench.db.is_postgres else ":r"
    with bench.db.engine.begin() as conn:
        for person in workers:
            conn.execute(
                text(
                    "INSERT INTO assignment (project_id, item_id, worker_id, status, leased_at,"
                    " expires_at, finished_at) SELECT project_id, id, :w, 'submitted', :t, :t, :t"
                    " FROM item WHERE project_id = :p"
                ),
                {"w": person.user_id, "t": now, "p": project},
            )
        conn.execute(
            text(
                "INSERT INTO annotation (project_id, item_id, assignment_id, worker_id, result,"  # noqa: S608
                " schema_version, client_submission_id, started_at, submitted_at,"
                f" active_seconds) SELECT project_id, item_id, id, worker_id, {result}, 1,"
                " 'k' || id, :t, :t, 12.5 FROM assignment WHERE project_id = :p"
            ),
            {"r": '{"sentiment": "positive"}', "t": now, "p": project},
        )
    return project


def _child(url: str, project: int, out: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from datadam.exporting.jsonl import write_export
    from datadam.storage.db import open_database

    db = open_database(url)
    pg = db.is_postgres
    server = pg_backends_cpu_s(url) if pg else 0.0
    started, cpu = time.perf_counter(), time.process_time()
    counts = write_export(db, project_id=project, secret=SECRET, out=Path(out))
    queue.put(
        counts
        | {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu,
            "server_cpu_seconds": pg_backends_cpu_s(url) - server if pg else None,
            "peak_rss_mb": peak_rss_mb(),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--annotations", default="100000,1000000")
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    with bench_database(args.db, args.pg_url) as bench:
        world = World(bench.db, bench.settings)
        for n in (int(x) for x in args.annotations.split(",")):
            project = _fill(bench, world, n)
            out = bench.data_dir / f"export-{n}.jsonl"
            queue = ctx.Queue()
            proc = ctx.Process(target=_child, args=(bench.url, project, str(out), queue))
            proc.start()
            result = queue.get(timeout=3600)
            proc.join()
            size = out.stat().st_size
            out.unlink()
            emit(
                {
                    "bench": "export_rate",
                    "db": args.db,
                    "annotations": result["annotations"],
                    "items": result["items"],
                    "annotations_per_s": round(result["annotations"] / result["seconds"]),
                    "annotations_per_cpu_s": round(result["annotations"] / result["cpu_seconds"]),
                    "cpu_s_per_100k": round(result["cpu_seconds"] * 1e5 / result["annotations"], 2),
                    "db_server_cpu_s_per_100k": (
                        None
                        if result["server_cpu_seconds"] is None
                        else round(result["server_cpu_seconds"] * 1e5 / result["annotations"], 2)
                    ),
                    "seconds": round(result["seconds"], 2),
                    "file_mb": round(size / 2**20, 1),
                    "peak_rss_mb": result["peak_rss_mb"],
                    "load_1m": machine()["load_1m"],
                }
            )


if __name__ == "__main__":
    main()
