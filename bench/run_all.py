"""Run every platform benchmark and write docs/benchmarks/platform.md.

    .venv/bin/python bench/run_all.py            # modest sizes, both databases (~10 min quiet)
    .venv/bin/python bench/run_all.py --full     # the issue's sizes (1M items/annotations)
    .venv/bin/python bench/run_all.py --db sqlite

Each benchmark runs as its own process; its JSON lines are collected into one Markdown table
together with the machine (CPU count, load average) and the exact commands. Between two
benchmarks the machine settles (`settle`): a 1M-row import or export leaves PostgreSQL and the
kernel writing back for a while, and the next benchmark measured in that wake ran 15-25% slower.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from _common import PG_DEFAULT, machine  # noqa: E402

DOC = HERE.parent / "docs" / "benchmarks" / "platform.md"


def commands(db: str, full: bool) -> list[list[str]]:
    py = ".venv/bin/python"
    big = "1000000" if full else "300000"
    return [
        [py, "bench/import_rate.py", "--db", db, "--items", f"100000,{big}"],
        [py, "bench/export_rate.py", "--db", db, "--annotations", f"100000,{big}"],
        [py, "bench/assignment_load.py", "--db", db, "--items", "100000", "--seconds", "8"],
        [py, "bench/server_rss.py", "--db", db, "--items", big, "--seconds", "15"],
    ]


def _cpu(f: dict, what: str) -> str:  # type: ignore[type-arg]
    """CPU seconds per 100,000 rows: ours, and the database server's when it was measured."""
    if "cpu_s_per_100k" not in f:
        return ""
    server = f.get("db_server_cpu_s_per_100k")
    db = "" if server is None else f" + {server} s in PostgreSQL"
    return f"CPU {f['cpu_s_per_100k']} s{db} per 100k {what}, load {f['load_1m']}; "


def _row(f: dict) -> tuple[str, str, str]:  # type: ignore[type-arg]
    bench = f["bench"]
    if bench == "import_rate":
        return (
            f"import {f['items']:,} items",
            f"{f['items_per_s']:,} items/s ({f['items_per_cpu_s']:,}/CPU-s)",
            f"{_cpu(f, 'items')}peak RSS {f['peak_rss_mb']} MB; target ≥ 50,000/s",
        )
    if bench == "export_rate":
        return (
            f"export {f['annotations']:,} annotations",
            f"{f['annotations_per_s']:,} ann/s ({f['annotations_per_cpu_s']:,}/CPU-s)",
            f"{_cpu(f, 'annotations')}peak RSS {f['peak_rss_mb']} MB; target ≥ 100,000/s, RSS flat",
        )
    if bench == "assignment_load":
        return (
            f"next+submit, {f['workers']} workers, {f['items']:,} items",
            f"{f['pairs_per_s']:,} pairs/s",
            f"next p50/p95 {f['next_p50_ms']}/{f['next_p95_ms']} ms, submit p50/p95 "
            f"{f['submit_p50_ms']}/{f['submit_p95_ms']} ms, server CPU "
            f"{f['server_cpu_ms_per_pair']} ms/pair"
            + (
                f" + {f['db_server_cpu_ms_per_pair']} ms in PostgreSQL"
                if "db_server_cpu_ms_per_pair" in f
                else ""
            )
            + f", errors {f['errors']}"
            + (f", load average {f['load_1m']}" if "load_1m" in f else ""),
        )
    return (
        f"server RSS, {f['items']:,}-item project",
        f"peak {f['peak_rss_mb']} MB (idle {f['idle_rss_mb']})",
        f"under next/submit at {f['pairs_per_s']} pairs/s + list calls; target < 300 MB",
    )


SETTLE_S = 20.0


def settle(db: str) -> None:
    """Let the previous benchmark's writes reach the disk before the next one starts: a
    PostgreSQL checkpoint, the kernel's dirty pages, then a pause."""
    if db == "postgresql":
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_DEFAULT.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))
        engine.dispose()
    os.sync()
    time.sleep(SETTLE_S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    before = machine()
    ran: list[str] = []
    rows: list[tuple[str, str, str, str]] = []
    for db in dbs:
        for command in commands(db, args.full):
            settle(db)
            ran.append(" ".join(command))
            print("$", ran[-1], flush=True)
            done = subprocess.run(command, cwd=HERE.parent, capture_output=True, text=True)
            if done.returncode != 0:
                print(done.stderr[-2000:], file=sys.stderr)
                rows.append((db, command[1], "failed", done.stderr.strip().splitlines()[-1]))
                continue
            for line in done.stdout.splitlines():
                figures = json.loads(line)
                print(line, flush=True)
                if "machine" in figures:
                    continue
                rows.append((db, *_row(figures)))
    after = machine()
    lines = [
        "# Platform benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/run_all.py"
        f"{' --full' if args.full else ''}`. Machine: {before['cpus']} CPUs, "
        f"{before['memory_gb']} GB, Python {before['python']}, {before['platform']}; "
        f"load average {before['load_1m']} before and {after['load_1m']} after "
        "(other work on the machine depresses wall-clock figures; the per-CPU-second and "
        "server-CPU-per-pair figures are less sensitive to it).",
        "",
        "| database | benchmark | figure | notes |",
        "|---|---|---|---|",
        *[f"| {db} | {what} | {figure} | {notes} |" for db, what, figure, notes in rows],
        "",
        "## Commands",
        "",
        "```",
        *ran,
        "```",
        "",
    ]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
