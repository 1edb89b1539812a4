"""Real `datadam serve` subprocesses for the attacks that need a real socket (all marked slow).

One database per backend for this package (SQLite file; a throwaway `datadam_sec_*`
PostgreSQL database when DATADAM_TEST_POSTGRES_URL is set), seeded through the factories,
and one shared server on it. Tests that need another server shape start their own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from datadam.domain.enums import OrgKind, Role
from datadam.settings import Settings
from datadam.storage.db import normalise_url, open_database
from datadam.storage.migrate import upgrade
from tests.conftest import BACKENDS, PG_SERVER_URL
from tests.factories import Person, World
from tests.serverproc import TEST_SECRET, ServerProcess

UPLOAD_LIMIT = 64 * 1024 * 1024  # above the 50 MB item of C-45, below 4 x 50 MiB of C-19
START_TIMEOUT = 120.0  # generous: CI machines run other suites at the same time
SERVER_ENV = {"DATADAM_TRUST_PROXY": "true", "DATADAM_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT)}


@dataclass
class Seeded:
    backend: str
    database_url: str
    data_dir: Path
    manager: Person
    other_manager: Person
    worker: Person
    project: int


@pytest.fixture(scope="package", params=BACKENDS)
def proc_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """(backend, URL) of a migrated database for subprocess servers."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("secproc") / "datadam.db"
        url = f"sqlite:///{path}"
        db = open_database(url)
        upgrade(db.engine)
        db.dispose()
        yield "sqlite", url
        return
    assert PG_SERVER_URL is not None
    server = make_url(normalise_url(PG_SERVER_URL))
    name = f"datadam_sec_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    db = open_database(url)
    upgrade(db.engine)
    db.dispose()
    try:
        yield "postgresql", url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def world_on(url: str, data_dir: Path) -> World:
    settings = Settings(
        env="test",
        data_dir=data_dir,
        database_url=url,
        secret_key=TEST_SECRET,
        password_profile="cheapest",
    )
    return World(open_database(url), settings)


@pytest.fixture(scope="package")
def seeded(proc_database: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    backend, url = proc_database
    data_dir = tmp_path_factory.mktemp(f"secproc-data-{backend}")
    world = world_on(url, data_dir)
    org = world.org(OrgKind.INSTITUTION)
    vendor = world.org(OrgKind.VENDOR)
    manager = world.person((org, Role.MANAGER))
    other = world.person((org, Role.MANAGER))
    worker = world.person((vendor, Role.WORKER))
    project = world.project(org, vendors=(vendor,))
    world.texts(project, 20)
    world.db.dispose()
    return Seeded(backend, url, data_dir, manager, other, worker, project)


@pytest.fixture(scope="package")
def server(seeded: Seeded) -> Iterator[ServerProcess]:
    """One worker process, behind a (pretend) trusted proxy, 64 MiB upload limit."""
    proc = ServerProcess(database_url=seeded.database_url, data_dir=seeded.data_dir, env=SERVER_ENV)
    proc.start(timeout=START_TIMEOUT)
    try:
        yield proc
    finally:
        proc.stop()
