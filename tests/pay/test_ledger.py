"""The ledger: append-only in the database (C-26), tamper detection naming the entry (C-27),
double-entry balances, reversals and payouts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from datadam.pay.checkpoints import write_checkpoint
from datadam.pay.keys import load_or_create_platform_key
from datadam.pay.ledger import (
    LedgerError,
    Posting,
    append_postings,
    balance_of,
    entry_digest,
    record_payout,
    reverse_entry,
)
from datadam.pay.verify import verify_ledger
from datadam.storage.tables import LedgerEntry
from datadam.storage.types import utcnow
from tests.pay.helpers import post, simple_postings, tampering


@pytest.fixture
def key(settings):  # type: ignore[no-untyped-def]
    return load_or_create_platform_key(settings.data_dir)


def _verify(db, key):  # type: ignore[no-untyped-def]
    with db.read() as session:
        return verify_ledger(session, key.public)


def _checkpointed(db, key, n: int = 10) -> None:  # type: ignore[no-untyped-def]
    post(db, simple_postings(n))
    with db.write() as session:
        write_checkpoint(session, key, period="2026-10")


# ---------------------------------------------------------------- C-26 append-only in the DB


def test_triggers_exist_after_upgrade(db) -> None:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        if db.is_postgres:
            names = set(
                conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars()
            )
            assert {"ledger_entry_append_only", "ledger_checkpoint_append_only"} <= names
        else:
            names = set(
                conn.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).scalars()
            )
            assert {
                "ledger_entry_no_update",
                "ledger_entry_no_delete",
                "ledger_checkpoint_no_update",
                "ledger_checkpoint_no_delete",
            } <= names


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET amount = amount + 1 WHERE seq = 2",
        "UPDATE ledger_entry SET work_ref = 'x' WHERE seq = 1",
        "DELETE FROM ledger_entry WHERE seq = 3",
        "DELETE FROM ledger_entry",
        "UPDATE ledger_checkpoint SET seq = 1",
        "DELETE FROM ledger_checkpoint",
    ],
)
def test_raw_update_and_delete_are_refused_by_the_database(db, key, statement: str) -> None:  # type: ignore[no-untyped-def]
    _checkpointed(db, key, 3)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))
    assert _verify(db, key).ok


def test_api_offers_no_way_to_change_or_delete_ledger_entries(app) -> None:  # type: ignore[no-untyped-def]
    for path, operations in app.openapi()["paths"].items():
        if "ledger" in path or "bonus" in path or "pay" in path:
            assert not {"patch", "delete"} & set(operations), path


# ---------------------------------------------------------------- double entry


def test_balances_are_credits_minus_debits_and_sum_to_zero(db, key) -> None:  # type: ignore[no-untyped-def]
    post(db, simple_postings(9))
    with db.read() as session:
        entries = session.execute(select(LedgerEntry)).scalars().all()
        for worker in (1, 2, 3):
            expected = sum(
                e.amount for e in entries if e.credit_account == f"worker:{worker}:org:1"
            )
            assert balance_of(session, f"worker:{worker}:org:1", "KRW") == expected
        assert balance_of(session, "org:1:earnings", "KRW") == -sum(e.amount for e in entries)
    assert _verify(db, key).ok


def test_reposting_the_same_work_changes_nothing_and_different_terms_are_refused(db) -> None:  # type: ignore[no-untyped-def]
    post(db, simple_postings(3))
    post(db, simple_postings(3))
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM ledger_entry")).scalar() == 3
    with pytest.raises(LedgerError, match="already posted"):
        post(db, simple_postings(3, amount=5))


def test_a_correction_is_a_linked_reversal_posted_once(db, key) -> None:  # type: ignore[no-untyped-def]
    post(db, simple_postings(3))
    with db.write() as session:
        reversal = reverse_entry(session, 2, reason="entered twice")
        assert (reversal.reverses_seq, reversal.kind, reversal.seq) == (2, "reversal", 4)
        assert balance_of(session, "worker:2:org:1", "KRW") == 0
    with pytest.raises(LedgerError), db.write() as session:
        reverse_entry(session, 2, reason="again")
    with db.read() as session:
        original = session.get(LedgerEntry, 2)
        assert original is not None and original.amount == 1001  # never changed
        events = session.execute(
            text("SELECT object_id, after FROM event WHERE action = 'ledger.reversal'")
        ).all()
    assert len(events) == 1  # the refused second reversal left no event
    after = events[0][1] if isinstance(events[0][1], dict) else json.loads(events[0][1])
    assert events[0][0] == "2" and after == {"reversal_seq": 4, "reason": "entered twice"}
    assert _verify(db, key).ok


def test_payouts_never_exceed_what_is_owed(db, key) -> None:  # type: ignore[no-untyped-def]
    post(db, simple_postings(1))
    with db.write() as session:
        record_payout(
            session, worker_id=1, organization_id=1, amount=600, currency="KRW", work_ref="po:1"
        )
        assert balance_of(session, "worker:1:org:1", "KRW") == 400
    with pytest.raises(LedgerError, match="exceeds"), db.write() as session:
        record_payout(
            session, worker_id=1, organization_id=1, amount=401, currency="KRW", work_ref="po:2"
        )
    with db.write() as session:  # a retry of the first payout is harmless
        assert (
            record_payout(
                session, worker_id=1, organization_id=1, amount=600, currency="KRW", work_ref="po:1"
            )
            is None
        )
    assert _verify(db, key).ok


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_amounts_are_positive_integers(db, amount) -> None:  # type: ignore[no-untyped-def]
    posting = Posting("earning", "a", "b", amount, "KRW", "r")  # type: ignore[arg-type]
    with pytest.raises(Exception, match="positive integer"), db.write() as session:
        append_postings(session, [posting])


# ---------------------------------------------------------------- C-27 tamper detection


def _set(conn, at_seq: int, **values) -> None:  # type: ignore[no-untyped-def]
    assignments = ", ".join(f"{k} = :{k}" for k in values)
    statement = f"UPDATE ledger_entry SET {assignments} WHERE seq = :at_seq"  # noqa: S608
    conn.execute(text(statement), {**values, "at_seq": at_seq})


def _swap(conn, a: int, b: int) -> None:  # type: ignore[no-untyped-def]
    _set(conn, a, seq=10_000)
    _set(conn, b, seq=a)
    _set(conn, 10_000, seq=b)


def _rewrite_from(conn, seq: int, new_amount: int) -> None:  # type: ignore[no-untyped-def]
    """Change one amount and recompute every later hash, as a careful attacker would."""
    from sqlalchemy.orm import Session

    with Session(bind=conn) as session:
        entries = session.execute(select(LedgerEntry).order_by(LedgerEntry.seq)).scalars().all()
        rows = [(e.seq, e) for e in entries]
        session.expunge_all()
    prev = None
    for number, entry in rows:
        if number == seq:
            entry.amount = new_amount
        if prev is not None:
            entry.prev_hash = prev
        if number >= seq:
            entry.hash = entry_digest(entry)
            _set(conn, number, amount=entry.amount, prev_hash=entry.prev_hash, hash=entry.hash)
        prev = entry.hash


TAMPERS = {
    "amount": (
        lambda c: _set(c, 4, amount=999_999),
        "entry 4: stored hash does not match contents",
    ),
    "account": (
        lambda c: _set(c, 4, credit_account="worker:99:org:1"),
        "entry 4: stored hash does not match contents",
    ),
    "work_ref": (lambda c: _set(c, 4, work_ref="p:other"), "entry 4: stored hash does not match"),
    "delete middle": (
        lambda c: c.execute(text("DELETE FROM ledger_entry WHERE seq = 5")),
        "gap between seq 4 and 6",
    ),
    "swap": (lambda c: _swap(c, 3, 6), "entry 3: stored hash does not match contents"),
    "truncate tail": (
        lambda c: c.execute(text("DELETE FROM ledger_entry WHERE seq > 8")),
        "chain head 8 is behind checkpoint 10",
    ),
    "rewrite consistently": (
        lambda c: _rewrite_from(c, 4, 1),
        "entry 10: hash differs from the signed checkpoint",
    ),
    "rewrite and delete checkpoints": (
        lambda c: (_rewrite_from(c, 4, 1), c.execute(text("DELETE FROM ledger_checkpoint"))),
        "entry 10: hash differs from the signed checkpoint",
    ),
    "forged checkpoint": (
        lambda c: c.execute(text("UPDATE ledger_checkpoint SET head_hash = :h"), {"h": "a" * 64}),
        "checkpoint signature mismatch at seq 10",
    ),
    "cached balance": (
        lambda c: c.execute(
            text("UPDATE ledger_balance SET balance = balance + 1 WHERE account = 'worker:2:org:1'")
        ),
        "balance of worker:2:org:1 (KRW): cached",
    ),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_tampering_is_detected_and_named(db, key, name: str) -> None:  # type: ignore[no-untyped-def]
    _checkpointed(db, key, 10)
    assert _verify(db, key).ok
    change, message = TAMPERS[name]
    with tampering(db) as conn:
        change(conn)
    report = _verify(db, key)
    assert not report.ok
    assert report.problem is not None and report.problem.startswith(message), report.problem


def test_a_checkpoint_signed_by_another_key_is_refused(db, key, tmp_path) -> None:  # type: ignore[no-untyped-def]
    other = load_or_create_platform_key(tmp_path / "other")
    post(db, simple_postings(3))
    with db.write() as session:
        write_checkpoint(session, other)
    report = _verify(db, key)
    assert report.problem is not None
    assert report.problem.startswith("checkpoint signature mismatch at seq 3: signed by key")


def test_verify_walks_a_long_chain_in_batches(db, key) -> None:  # type: ignore[no-untyped-def]
    post(db, simple_postings(250), now=utcnow() - timedelta(days=1))
    with db.read() as session:
        report = verify_ledger(session, key.public, batch=64)
    assert report.ok and report.entries == 250 and report.head_seq == 250
