"""C-35: `datadam import` killed at named crash points leaves a counted prefix, shows as
interrupted, and `datadam import --resume ID` finishes with exactly the file's rows."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import text

from datadam.importing.service import BATCH, import_status
from datadam.storage.tables import ImportJob
from datadam.storage.types import utcnow
from tests.factories import labeling_team
from tests.serverproc import DATADAM_BIN, TEST_SECRET

ROWS = 4 * BATCH  # 20,000 lines: four batches


def _cli(args: list[str], *, database_url: str, data_dir: Path, fault: str | None = None):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATADAM_")}
    env |= {
        "DATADAM_ENV": "test",
        "DATADAM_DATABASE_URL": database_url,
        "DATADAM_DATA_DIR": str(data_dir),
        "DATADAM_SECRET_KEY": TEST_SECRET,
    }
    if fault:
        env["DATADAM_FAULT"] = fault
    return subprocess.run(
        [str(DATADAM_BIN), *args], env=env, capture_output=True, text=True, timeout=240
    )


def _counts(db, project: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*), count(DISTINCT content_hash) FROM item WHERE project_id = :p"),
            {"p": project},
        ).one()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "batches_before_kill"),
    [("import.after_batch_commit:3", 3), ("import.before_status:1", 4)],
)
def test_killed_import_is_a_counted_prefix_and_resumes(  # type: ignore[no-untyped-def]
    world, db, database_url, tmp_path, fault: str, batches_before_kill: int
) -> None:
    *_, project = labeling_team(world, items=1)
    existing, _ = _counts(db, project)
    source = tmp_path / "items.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for i in range(ROWS):
            handle.write(f'{{"text": "문장 {i} 😀", "external_id": "x{i}"}}\n')
    killed = _cli(
        ["import", str(project), str(source)],
        database_url=database_url,
        data_dir=tmp_path / "data",
        fault=fault,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with db.read() as session:
        job = (
            session.query(ImportJob)
            .filter_by(project_id=project)
            .order_by(ImportJob.id.desc())
            .first()
        )
        assert job is not None and job.status == "running"
        with db.engine.connect() as conn:
            stored = conn.execute(
                text("SELECT count(*) FROM item WHERE import_id = :j"), {"j": job.id}
            ).scalar_one()
        assert job.rows_done == stored == batches_before_kill * BATCH
        assert import_status(job) == "running"
        with time_machine.travel(utcnow() + timedelta(minutes=2), tick=False):
            assert import_status(job) == "interrupted"
        job_id = job.id
    resumed = _cli(
        ["import", "--resume", str(job_id)], database_url=database_url, data_dir=tmp_path / "data"
    )
    assert resumed.returncode == 0, resumed.stderr
    total, distinct = _counts(db, project)
    assert total == distinct == existing + ROWS
    with db.read() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        assert (job.status, job.rows_done, job.imported) == ("done", ROWS, ROWS)
    again = _cli(
        ["import", "--resume", str(job_id)], database_url=database_url, data_dir=tmp_path / "data"
    )
    assert again.returncode != 0 and "already complete" in again.stderr
