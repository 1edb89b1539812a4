"""Pay tests need the minimum wages the migration seeds; the shared PostgreSQL fixture
truncates every table between tests, so they are put back here."""

from __future__ import annotations

import pytest

from datadam.pay.rates import seed_korean_minimum_wages


@pytest.fixture(autouse=True)
def _minimum_wages(request: pytest.FixtureRequest) -> None:
    if "db" not in request.fixturenames:
        return
    db = request.getfixturevalue("db")
    if db.is_postgres:
        with db.write() as session:
            seed_korean_minimum_wages(session)
