"""C-37 (SQLite part): another process holding the write lock past the busy timeout makes a
write request fail with 503 `database_busy` and Retry-After, never a 500 or the driver's text."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.factories import labeling_team
from tests.serverproc import ServerProcess

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_write_lock_held_elsewhere_is_503_database_busy(world, db, database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, items=3)
    path = database_url.removeprefix("sqlite:///")
    env = {"DATADAM_SQLITE_BUSY_TIMEOUT": "0.5"}
    with ServerProcess(database_url=database_url, data_dir=tmp_path / "srv", env=env) as server:
        url = f"{server.base_url}/api/v1/projects/{project}/tasks/next"
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            busy = httpx.post(url, headers=crew[0].headers, timeout=30)
        finally:
            assert holder.stdin is not None
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait(timeout=10)
        assert busy.status_code == 503, busy.text
        assert busy.json()["error"]["code"] == "database_busy"
        assert busy.headers["retry-after"]
        assert "locked" not in busy.text.lower()
        ok = httpx.post(url, headers=crew[0].headers, timeout=30)
        assert ok.status_code == 200, ok.text
