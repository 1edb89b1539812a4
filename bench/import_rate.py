"""Import speed and memory: items/s and peak RSS of `import_file` for generated JSONL files.

    .venv/bin/python bench/import_rate.py --db sqlite --items 100000,1000000

Each size is imported into a fresh project in a separate process (so that its peak RSS is its
own). Target: >= 50,000 items/s with RSS flat in the file's size. Besides the wall-clock rate,
the figures give the importing process's CPU seconds per 100,000 items and, on PostgreSQL, the
database server's (its backends' CPU time): both are steadier than wall time on a busy machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from tests.factories import World  # noqa: E402

from _common import (  # noqa: E402
    PG_DEFAULT,
    bench_database,
    emit,
    machine,
    peak_rss_mb,
    pg_backends_cpu_s,
    write_items,
)
from datadam.domain.enums import OrgKind  # noqa: E402


def _child(url: str, project: int, path: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from datadam.importing.service import import_file
    from datadam.storage.db import open_database

    db = open_database(url)
    pg = db.is_postgres
    server = pg_backends_cpu_s(url) if pg else 0.0
    started, cpu = time.perf_counter(), time.process_time()
    summary = import_file(db, project_id=project, path=Path(path))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    queue.put(
        {
            "imported": summary.imported,
            "seconds": seconds,
            "cpu_seconds": cpu,
            "server_cpu_seconds": pg_backends_cpu_s(url) - server if pg else None,
            "peak_rss_mb": peak_rss_mb(),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--items", default="100000,1000000")
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    with bench_database(args.db, args.pg_url) as bench:
        world = World(bench.db, bench.settings)
        inst = world.org(OrgKind.INSTITUTION)
        for n in (int(x) for x in args.items.split(",")):
            project = world.project(inst, name=f"import {n}")
            path = write_items(bench.data_dir / f"items-{n}.jsonl", n)
            queue = ctx.Queue()
            proc = ctx.Process(target=_child, args=(bench.url, project, str(path), queue))
            proc.start()
            result = queue.get(timeout=3600)
            proc.join()
            path.unlink()
            emit(
                {
                    "bench": "import_rate",
                    "db": args.db,
                    "items": n,
                    "imported": result["imported"],
                    "items_per_s": round(result["imported"] / result["seconds"]),
                    "seconds": round(result["seconds"], 2),
                    "items_per_cpu_s": round(result["imported"] / result["cpu_seconds"]),
                    "cpu_s_per_100k": round(result["cpu_seconds"] * 1e5 / n, 2),
                    "db_server_cpu_s_per_100k": (
                        None
                        if result["server_cpu_seconds"] is None
                        else round(result["server_cpu_seconds"] * 1e5 / n, 2)
                    ),
                    "peak_rss_mb": result["peak_rss_mb"],
                    "load_1m": machine()["load_1m"],
                }
            )


if __name__ == "__main__":
    main()
