"""Shared fixtures: every database test runs on SQLite and, when DATADAM_TEST_POSTGRES_URL is
set (always in CI), on PostgreSQL too.

PostgreSQL: one fresh database per test session (created from the server URL, dropped at the
end); tables are truncated between tests. SQLite: a migrated template file copied per test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from datadam.settings import Settings
from datadam.storage.db import Database, normalise_url, open_database
from datadam.storage.migrate import upgrade

hypothesis_settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

PG_SERVER_URL = os.environ.get("DATADAM_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_SERVER_URL else ["sqlite"]
TEST_SECRET = "t" * 48

os.environ.setdefault("DATADAM_ENV", "test")
os.environ.setdefault("DATADAM_PASSWORD_PROFILE", "cheapest")


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str | None]:
    """A throwaway PostgreSQL database for this test session, migrated once."""
    if not PG_SERVER_URL:
        yield None
        return
    server = make_url(normalise_url(PG_SERVER_URL))
    name = f"datadam_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = open_database(url).engine
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "datadam.db"
    db = open_database(f"sqlite:///{path}")
    upgrade(db.engine)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


def _truncate_all(db: Database) -> None:
    with db.engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ]
        conn.execute(
            text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        )


def _reseed_reference_data(db: Database) -> None:
    """Put back what migrations seed (the truncation above removes it): minimum wages."""
    from datadam.pay.rates import seed_korean_minimum_wages

    with db.write() as session:
        seed_korean_minimum_wages(session)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(
    backend: str, tmp_path: Path, sqlite_template: Path, pg_database_url: str | None
) -> str:
    if backend == "sqlite":
        target = tmp_path / "datadam.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    assert pg_database_url is not None
    return pg_database_url


@pytest.fixture
def db(database_url: str, backend: str) -> Iterator[Database]:
    database = open_database(database_url)
    if backend == "postgresql":
        _truncate_all(database)
        _reseed_reference_data(database)
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=TEST_SECRET,
        password_profile="cheapest",
    )


@pytest.fixture
def app(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    from datadam.web.app import create_app

    return create_app(settings, db)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def world(db: Database, settings: Settings):  # type: ignore[no-untyped-def]
    from tests.factories import World

    return World(db, settings)
