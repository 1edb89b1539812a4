"""C-27: the canonical entry hash is identical on SQLite and PostgreSQL, and any single
changed field changes it."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from datadam.pay.ledger import Posting, append_postings, entry_digest
from datadam.storage.db import open_database
from datadam.storage.tables import LedgerEntry
from tests.conftest import PG_SERVER_URL
from tests.pay.helpers import tampering

_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
)
postings = st.builds(
    Posting,
    kind=st.sampled_from(["earning", "top_up", "bonus", "payout"]),
    debit_account=st.just("org:1:earnings"),
    credit_account=st.from_regex(r"worker:[0-9]{1,6}:org:[0-9]{1,3}", fullmatch=True),
    amount=st.integers(1, 2**62),
    currency=st.sampled_from(["KRW", "USD", "EUR"]),
    work_ref=_text,
    worker_id=st.none() | st.integers(1, 2**40),
    organization_id=st.none() | st.integers(1, 2**40),
    project_id=st.none() | st.integers(1, 2**40),
    period=st.none() | st.sampled_from(["2026-10", "2026-11"]),
    memo=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=50
    ),
)
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)


_examples = itertools.count()


@pytest.fixture
def pair(tmp_path: Path, sqlite_template: Path, pg_database_url: str | None):  # type: ignore[no-untyped-def]
    target = tmp_path / "canonical.db"
    shutil.copy(sqlite_template, target)
    databases = [open_database(f"sqlite:///{target}")]
    if pg_database_url is not None:
        pg = open_database(pg_database_url)
        with tampering(pg) as conn:
            conn.exec_driver_sql("DELETE FROM ledger_entry")
            conn.exec_driver_sql("DELETE FROM ledger_balance")
        databases.append(pg)
    yield databases
    for database in databases:
        database.dispose()


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batch=st.lists(postings, min_size=1, max_size=4, unique_by=lambda p: (p.kind, p.work_ref)),
    at=moments,
)
def test_stored_entries_hash_the_same_on_every_database(pair, batch, at) -> None:  # type: ignore[no-untyped-def]
    example = next(_examples)  # the databases outlive examples: keep every work_ref new
    batch = [dataclasses.replace(p, work_ref=f"{p.work_ref[:100]}@{example}") for p in batch]
    results = []
    for database in pair:
        with database.write() as session:
            append_postings(session, batch, now=at)
        with database.read() as session:
            entries = session.execute(select(LedgerEntry).order_by(LedgerEntry.seq)).scalars().all()
            assert all(entry_digest(e) == e.hash for e in entries)
            results.append([(e.seq, e.hash) for e in entries])
    assert all(r == results[0] for r in results)
    if PG_SERVER_URL:
        assert len(pair) == 2


FIELDS = {
    "seq": 2,
    "at": datetime(2026, 10, 1, 12, 0, 0, 1, tzinfo=UTC),
    "kind": "top_up",
    "debit_account": "org:2:earnings",
    "credit_account": "worker:1:org:2",
    "amount": 1001,
    "currency": "USD",
    "work_ref": "annotation:2",
    "worker_id": 2,
    "organization_id": 3,
    "project_id": 4,
    "period": "2026-11",
    "reverses_seq": 1,
    "memo": "x",
    "prev_hash": "1" * 64,
}


@given(field=st.sampled_from(sorted(FIELDS)))
def test_changing_any_single_field_changes_the_hash(field: str) -> None:
    entry = LedgerEntry(
        seq=1,
        at=datetime(2026, 10, 1, 12, 0, tzinfo=UTC),
        kind="earning",
        debit_account="org:1:earnings",
        credit_account="worker:1:org:1",
        amount=1000,
        currency="KRW",
        work_ref="annotation:1",
        worker_id=1,
        organization_id=1,
        project_id=1,
        period="2026-10",
        reverses_seq=None,
        memo="",
        prev_hash="0" * 64,
    )
    before = entry_digest(entry)
    setattr(entry, field, FIELDS[field])
    assert entry_digest(entry) != before


def test_times_hash_as_utc_whatever_their_zone() -> None:
    from datadam.pay.ledger import canonical_time

    seoul = datetime(2026, 10, 2, 6, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    assert canonical_time(seoul) == "2026-10-01T21:00:00.000000Z"
