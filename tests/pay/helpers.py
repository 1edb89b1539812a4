"""Builders for pay tests: work done at chosen server times, tampering with the ledger."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import Connection, text

from datadam.access.actor import Actor
from datadam.assignment.service import next_task, submit_task
from datadam.pay.ledger import Posting, append_postings
from datadam.pay.worktime import record_heartbeat
from datadam.storage.db import Database

RESULT = {"sentiment": "neutral"}
PERIOD = "2026-10"
WORK_START = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
AFTER_PERIOD = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
APPEND_ONLY = {"ledger_entry", "ledger_checkpoint"}


def do_item(
    db: Database,
    actor: Actor,
    project_id: int,
    *,
    start: datetime,
    seconds: float,
    beat_every: float | None = 15,
) -> int:
    """Lease an item at `start`, send heartbeats, submit `seconds` later; the annotation id."""
    with time_machine.travel(start, tick=False) as clock:
        task = next_task(db, actor, project_id)
        assert task is not None
        if beat_every:
            with db.write() as session:
                t = beat_every
                while t < seconds:
                    record_heartbeat(
                        session, actor, task.assignment_id, now=start + timedelta(seconds=t)
                    )
                    t += beat_every
        clock.move_to(start + timedelta(seconds=seconds))
        done = submit_task(
            db,
            actor,
            task.assignment_id,
            result=RESULT,
            client_submission_id=f"k-{task.assignment_id}",
        )
    return done.annotation_id


def simple_postings(n: int, *, prefix: str = "p", amount: int = 1000) -> list[Posting]:
    return [
        Posting(
            kind="earning",
            debit_account="org:1:earnings",
            credit_account=f"worker:{i % 3 + 1}:org:1",
            amount=amount + i,
            currency="KRW",
            work_ref=f"{prefix}:{i}",
            worker_id=i % 3 + 1,
            organization_id=1,
        )
        for i in range(n)
    ]


def post(db: Database, postings: list[Posting], now: datetime | None = None) -> None:
    with db.write() as session:
        append_postings(session, postings, now=now)


@contextmanager
def tampering(db: Database) -> Iterator[Connection]:
    """A raw connection with the append-only triggers switched off, as an attacker with
    database access would; the triggers are back when the block ends."""
    with db.engine.begin() as conn:
        if db.is_postgres:
            for table in APPEND_ONLY:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
        else:
            saved = (
                conn.execute(
                    text(
                        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                        "('ledger_entry', 'ledger_checkpoint')"
                    )
                )
                .scalars()
                .all()
            )
            names = (
                conn.execute(
                    text(
                        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                        "('ledger_entry', 'ledger_checkpoint')"
                    )
                )
                .scalars()
                .all()
            )
            for name in names:
                conn.execute(text(f"DROP TRIGGER {name}"))
        yield conn
        if db.is_postgres:
            for table in APPEND_ONLY:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
        else:
            for sql in saved:
                conn.execute(text(sql))


def cli_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATADAM_")}
    env.update(
        DATADAM_DATA_DIR=str(tmp_path / "data"),
        DATADAM_DATABASE_URL=database_url,
        DATADAM_ENV="test",
        DATADAM_PASSWORD_PROFILE="cheapest",
    )
    return env


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "datadam.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def needs_postgres(url: str | None) -> Any:
    if url is None:
        pytest.skip("set DATADAM_TEST_POSTGRES_URL to compare SQLite with PostgreSQL")
    return url
