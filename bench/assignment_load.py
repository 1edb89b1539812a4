"""Worker-loop throughput and latency over HTTP against a real `datadam serve` process.

    .venv/bin/python bench/assignment_load.py --db sqlite --workers 1,2,8,32 --seconds 8

A project of `--items` items (default 100,000, overlap 3) and 32 workers (each a distinct
user with an API token) are created first; then for each worker count the load generator (a
separate process) runs next-task + submit pairs for `--seconds`. Prints one JSON line per
worker count (with the server's CPU milliseconds per pair, a figure other work on the machine
hardly moves, on PostgreSQL also the database server's, and the load average at the end of
the run) and a summary line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from tests.factories import World  # noqa: E402
from tests.serverproc import ServerProcess  # noqa: E402

from _common import (  # noqa: E402
    PG_DEFAULT,
    bench_database,
    emit,
    machine,
    pg_backends_cpu_s,
    write_items,
)
from _loadgen import run_in_process  # noqa: E402
from datadam.domain.enums import OrgKind, Role  # noqa: E402
from datadam.importing.service import import_file  # noqa: E402


def server_cpu_seconds(pid: int) -> float:
    """CPU time of the server and its worker processes: a load-independent cost figure."""
    import psutil

    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        times = p.cpu_times()
        total += times.user + times.system
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--workers", default="1,2,8,32")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--server-workers", type=int, default=1)
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    with bench_database(args.db, args.pg_url) as bench:
        world = World(bench.db, bench.settings)
        inst = world.org(OrgKind.INSTITUTION)
        vendor = world.org(OrgKind.VENDOR)
        people = [world.person((vendor, Role.WORKER)) for _ in range(sum(counts) + 1)]
        project = world.project(inst, overlap=args.overlap, vendors=(vendor,))
        items = write_items(bench.data_dir / "items.jsonl", args.items)
        import_file(bench.db, project_id=project, path=items)
        results = []
        with ServerProcess(
            database_url=bench.url,
            data_dir=bench.data_dir / "server",
            workers=args.server_workers,
        ) as server:
            # Warm the server up (lazy imports, route set-up) with a worker of its own.
            run_in_process(server.port, [people[-1].token], project, seconds=1.0, warmup=0.0)
            used = 0
            for n in counts:
                tokens = [p.token for p in people[used : used + n]]
                used += n
                cpu_before = server_cpu_seconds(server.pid)
                db_before = pg_backends_cpu_s(bench.url) if args.db == "postgresql" else 0.0
                figures = run_in_process(server.port, tokens, project, seconds=args.seconds)
                cpu = server_cpu_seconds(server.pid) - cpu_before
                pairs = max(1, figures["pairs_total"])
                figures["server_cpu_ms_per_pair"] = round(1000 * cpu / pairs, 3)
                if args.db == "postgresql":
                    db_cpu = pg_backends_cpu_s(bench.url) - db_before
                    figures["db_server_cpu_ms_per_pair"] = round(1000 * db_cpu / pairs, 3)
                figures |= {
                    "bench": "assignment_load",
                    "db": args.db,
                    "items": args.items,
                    "load_1m": round(os.getloadavg()[0], 2),
                }
                emit(figures)
                results.append(figures)
        emit(
            {"bench": "assignment_load", "db": args.db, "machine": machine(), "runs": len(results)}
        )


if __name__ == "__main__":
    main()
