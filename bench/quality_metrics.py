"""Live quality metrics: seconds to refresh after a batch of new labels on a big project.

    .venv/bin/python bench/quality_metrics.py --db sqlite --items 1000000 --overlap 2

Builds a project of `--items` items, each with `--overlap` labels from 100 simulated workers
(80% right against a per-item truth), all generated in SQL. Then it times `refresh_metrics`:

* `cold_seconds`: the first refresh (codes every stored annotation, fits from scratch);
* `batch_seconds`: after `--batch` new labels (10,000 by default), in the same process (the
  coded answers of earlier chunks are in memory): the figure a server sees;
* `batch_new_process_seconds`: after another batch, with the in-memory codes dropped, so every
  chunk is read back from the database: the figure of a fresh process.

Target: `batch_seconds` under 2 s on a 1M-item project.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from sqlalchemy import text  # noqa: E402
from tests.factories import World  # noqa: E402

from _common import PG_DEFAULT, bench_database, emit, machine, peak_rss_mb  # noqa: E402
from datadam.domain.enums import OrgKind, Role  # noqa: E402
from datadam.quality import metrics  # noqa: E402
from datadam.storage.types import utcnow  # noqa: E402

WORKERS = 100
LABELS = ("positive", "negative", "neutral")


def _random(pg: bool, n: int) -> str:
    return f"CAST(floor(random() * {n}) AS integer)" if pg else f"(abs(random()) % {n})"


def _result_sql(pg: bool) -> str:
    """A label right 80% of the time against the item's truth (its id modulo 3)."""
    answer = (
        f"CASE WHEN {_random(pg, 10)} < 8 THEN i.id % 3 ELSE (i.id + 1 + {_random(pg, 2)}) % 3 END"
    )
    json = " ".join(
        f'WHEN {n} THEN \'{{"sentiment": "{label}"}}\'' for n, label in enumerate(LABELS)
    )
    cast = "CAST(({expr}) AS jsonb)" if pg else "({expr})"
    return cast.format(expr=f"CASE {answer} {json} END")


def _fill_items(conn, project: int, n: int, pg: bool) -> None:  # type: ignore[no-untyped-def]
    now = utcnow() if pg else utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    series = (
        "SELECT generate_series(1, :n) AS k"
        if pg
        else "WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < :n) "
        "SELECT k FROM s"
    )
    payload = 'CAST(\'{"text": "x"}\' AS jsonb)' if pg else '\'{"text": "x"}\''
    conn.execute(
        text(
            "INSERT INTO item (project_id, payload, content_hash, stage, n_taken, n_done, "  # noqa: S608
            f"created_at) SELECT :p, {payload}, 'h' || k, 'labeling', 0, 0, :t FROM ({series}) q"
        ),
        {"p": project, "n": n, "t": now},
    )


def _add_labels(  # type: ignore[no-untyped-def]
    conn, project: int, first_worker: int, round_no: int, pg: bool, *, limit: int | None = None
) -> int:
    """Give items one more label: round r is by worker (id * 7 + r * 31) mod 100, so the
    rounds of one item never share a worker. Returns the number of labels added."""
    now = utcnow() if pg else utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    limit_sql = f"ORDER BY i.id LIMIT {int(limit)}" if limit else ""
    worker = f"(:w0 + (i.id * 7 + {round_no} * 31) % {WORKERS})"
    added = conn.execute(
        text(
            "INSERT INTO assignment (project_id, item_id, worker_id, status, leased_at, "  # noqa: S608
            f"expires_at, finished_at) SELECT :p, i.id, {worker}, 'submitted', :t, :t, :t "
            f"FROM item i WHERE i.project_id = :p {limit_sql}"
        ),
        {"p": project, "w0": first_worker, "t": now},
    ).rowcount
    conn.execute(
        text(
            "INSERT INTO annotation (project_id, item_id, assignment_id, worker_id, result, "  # noqa: S608
            "schema_version, client_submission_id, started_at, submitted_at, active_seconds) "
            f"SELECT a.project_id, a.item_id, a.id, a.worker_id, {_result_sql(pg)}, 1, "
            "'b' || a.id, :t, :t, 10.0 FROM assignment a JOIN item i ON i.id = a.item_id "
            "WHERE a.project_id = :p AND a.id NOT IN (SELECT assignment_id FROM annotation "
            "WHERE project_id = :p)"
        ),
        {"p": project, "t": now},
    )
    return int(added)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--overlap", type=int, default=2)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    pg = args.db == "postgresql"
    with bench_database(args.db, args.pg_url) as bench:
        world = World(bench.db, bench.settings)
        inst = world.org(OrgKind.INSTITUTION)
        vendor = world.org(OrgKind.VENDOR)
        workers = [world.person((vendor, Role.WORKER)).user_id for _ in range(WORKERS)]
        assert workers == list(range(workers[0], workers[0] + WORKERS))
        project = world.project(inst, overlap=args.overlap + 2, vendors=(vendor,))
        started = time.perf_counter()
        with bench.db.engine.begin() as conn:
            _fill_items(conn, project, args.items, pg)
            labels = sum(_add_labels(conn, project, workers[0], r, pg) for r in range(args.overlap))
        setup = time.perf_counter() - started

        cold = metrics.refresh_metrics(bench.db, project)
        with bench.db.engine.begin() as conn:
            _add_labels(conn, project, workers[0], args.overlap, pg, limit=args.batch)
        batch = metrics.refresh_metrics(bench.db, project)
        with bench.db.engine.begin() as conn:
            _add_labels(conn, project, workers[0], args.overlap + 1, pg, limit=args.batch)
        metrics.clear_cache()
        fresh = metrics.refresh_metrics(bench.db, project)
        with bench.db.read() as session:
            snapshot = metrics.latest_snapshot(session, project)
        assert snapshot is not None
        control = snapshot.metrics["controls"][0]
        emit(
            {
                "bench": "quality_metrics",
                "db": args.db,
                "items": args.items,
                "labels_before": labels,
                "batch": args.batch,
                "setup_seconds": round(setup, 1),
                "cold_seconds": round(cold.seconds, 3),
                "cold_cpu_seconds": round(cold.cpu_seconds, 3),
                "batch_seconds": round(batch.seconds, 3),
                "batch_cpu_seconds": round(batch.cpu_seconds, 3),
                "batch_new_annotations": batch.new_annotations,
                "batch_timings": batch.timings,
                "batch_new_process_seconds": round(fresh.seconds, 3),
                "batch_new_process_cpu_seconds": round(fresh.cpu_seconds, 3),
                "batch_new_process_timings": fresh.timings,
                "answers_fitted": fresh.n_answers,
                "ds_iterations": control["iterations"],
                "fleiss_kappa": control["fleiss_kappa"],
                "target_seconds": 2.0,
                "peak_rss_mb": peak_rss_mb(),
                **machine(),
            }
        )


if __name__ == "__main__":
    main()
