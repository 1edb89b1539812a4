"""Shared helpers of the benchmark scripts: a throwaway database, a labeling world, RSS.

Benchmarks print JSON figures; they are never timed unit tests. PostgreSQL runs create and drop
their own database `datadam_bench_<pid>` on the server given by `--pg-url`.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from datadam.settings import Settings  # noqa: E402
from datadam.storage.db import Database, normalise_url, open_database  # noqa: E402
from datadam.storage.migrate import upgrade  # noqa: E402

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET = "b" * 48


@dataclass
class BenchDb:
    backend: str
    url: str
    data_dir: Path
    db: Database
    settings: Settings


@contextmanager
def bench_database(backend: str, pg_url: str = PG_DEFAULT) -> Iterator[BenchDb]:
    """A migrated, empty database (SQLite file in a temp folder, or a fresh PG database)."""
    with tempfile.TemporaryDirectory(prefix="datadam-bench-") as tmp:
        data_dir = Path(tmp)
        admin = None
        name = ""
        if backend == "sqlite":
            url = f"sqlite:///{data_dir / 'datadam.db'}"
        else:
            server = make_url(normalise_url(pg_url))
            name = f"datadam_bench_{os.getpid()}"
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = server.set(database=name).render_as_string(hide_password=False)
        db = open_database(url)
        upgrade(db.engine)
        settings = Settings(
            env="test",
            data_dir=data_dir,
            database_url=url,
            secret_key=SECRET,
            password_profile="cheapest",  # noqa: S106 - a cost profile, not a password
        )
        try:
            yield BenchDb(backend, url, data_dir, db, settings)
        finally:
            db.dispose()
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = :n"
                        ),
                        {"n": name},
                    )
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                admin.dispose()


def write_items(path: Path, n: int, *, start: int = 0) -> Path:
    """A JSONL file of `n` distinct short Korean/English texts."""
    with path.open("wb") as handle:
        for i in range(start, start + n):
            handle.write(b'{"text": "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 item %d"}\n' % i)
    return path


def machine() -> dict[str, Any]:
    import psutil

    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_1m": round(os.getloadavg()[0], 2),
        "platform": platform.platform(),
    }


def emit(figures: dict[str, Any]) -> None:
    print(json.dumps(figures, ensure_ascii=False), flush=True)


def pg_backends_cpu_s(url: str) -> float:
    """CPU seconds used so far by the PostgreSQL server processes serving `url`'s database.

    The import's and export's heavy work for PostgreSQL runs in the server, not in our process,
    so the benchmarks report both. Backends are found by their process title, which names the
    database; call it before the measured connections close.
    """
    import psutil

    name = make_url(normalise_url(url)).database
    total = 0.0
    for proc in psutil.process_iter(["cmdline"]):
        title = " ".join(proc.info["cmdline"] or [])
        if title.startswith("postgres:") and f" {name} " in title:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
    return total


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MB.

    Read from /proc (VmHWM, the high-water mark of this process image) rather than getrusage:
    Linux carries ru_maxrss across fork and exec, so a benchmark child spawned by a big parent
    would report the parent's peak instead of its own.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
