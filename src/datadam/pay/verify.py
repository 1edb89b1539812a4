"""`datadam ledger verify`: the chain, the signed checkpoints and the balances, in that order.

The first problem found is reported and named, so an operator knows where to look:
"entry 4711: stored hash does not match contents", "gap between seq 4710 and 4712",
"chain head 4650 is behind checkpoint 4700", "checkpoint signature mismatch at seq 4700",
"balance of worker:5:org:3 (KRW): cached 1200, entries sum to 1100".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.pay.checkpoints import PURPOSE, Checkpoint, checkpoint_payload, stored_checkpoints
from datadam.pay.keys import key_id_of, verify_signature
from datadam.pay.ledger import GENESIS, entry_digest
from datadam.storage.tables import LedgerBalance, LedgerEntry


@dataclass
class LedgerReport:
    """What verify found: `problem` is None when everything holds."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    checkpoints: int = 0
    latest_checkpoint_seq: int | None = None
    accounts: int = 0
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problem": self.problem,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "checkpoints": self.checkpoints,
            "latest_checkpoint_seq": self.latest_checkpoint_seq,
            "accounts": self.accounts,
            "totals_by_kind": self.totals,
        }


def verify_ledger(
    session: Session, public_key: Ed25519PublicKey | None, *, batch: int = 5000
) -> LedgerReport:
    """Check the whole ledger; `public_key` is the platform key (None: none exists yet)."""
    report = LedgerReport()
    hashes: dict[int, str] = {}
    balances: dict[tuple[str, str], int] = defaultdict(int)
    report.problem = _walk_chain(session, report, hashes, balances, batch)
    if report.problem is None:
        report.problem = _check_checkpoints(session, report, hashes, public_key)
    if report.problem is None:
        report.problem = _check_balances(session, report, balances)
    return report


def _walk_chain(
    session: Session,
    report: LedgerReport,
    hashes: dict[int, str],
    balances: dict[tuple[str, str], int],
    batch: int,
) -> str | None:
    expected_seq, expected_prev = 1, GENESIS
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    while True:
        rows = (
            session.execute(
                select(LedgerEntry)
                .where(LedgerEntry.seq >= expected_seq)
                .order_by(LedgerEntry.seq)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for entry in rows:
            seq = int(entry.seq)
            if seq != expected_seq:
                return f"gap between seq {expected_seq - 1} and {seq}"
            if entry_digest(entry) != entry.hash:
                return f"entry {seq}: stored hash does not match contents"
            if entry.prev_hash != expected_prev:
                return f"entry {seq}: does not follow entry {seq - 1} (previous hash differs)"
            if int(entry.amount) <= 0:
                return f"entry {seq}: amount is not positive"
            hashes[seq] = entry.hash
            balances[(entry.credit_account, entry.currency)] += int(entry.amount)
            balances[(entry.debit_account, entry.currency)] -= int(entry.amount)
            totals[entry.currency][entry.kind] += int(entry.amount)
            report.entries += 1
            report.head_seq, report.head_hash = seq, entry.hash
            expected_seq, expected_prev = seq + 1, entry.hash
        session.expunge_all()
    report.totals = {currency: dict(kinds) for currency, kinds in totals.items()}
    return None


def _check_checkpoints(
    session: Session,
    report: LedgerReport,
    hashes: dict[int, str],
    public_key: Ed25519PublicKey | None,
) -> str | None:
    checkpoints = stored_checkpoints(session)
    report.checkpoints = len(checkpoints)
    if not checkpoints:
        return None
    report.latest_checkpoint_seq = checkpoints[-1].seq
    if public_key is None:
        return f"no platform key to check {len(checkpoints)} signed checkpoints against"
    expected_key = key_id_of(public_key)
    for checkpoint in checkpoints:
        problem = _check_signature(checkpoint, public_key, expected_key)
        if problem is not None:
            return problem
    for checkpoint in checkpoints:
        if checkpoint.seq > report.head_seq:
            return f"chain head {report.head_seq} is behind checkpoint {checkpoint.seq}"
        if hashes.get(checkpoint.seq) != checkpoint.head_hash:
            return (
                f"entry {checkpoint.seq}: hash differs from the signed checkpoint "
                "(the chain up to it was rewritten)"
            )
    return None


def _check_signature(
    checkpoint: Checkpoint, public_key: Ed25519PublicKey, expected_key: str
) -> str | None:
    if checkpoint.key_id != expected_key:
        return (
            f"checkpoint signature mismatch at seq {checkpoint.seq}: signed by key "
            f"{checkpoint.key_id}, the platform key is {expected_key}"
        )
    payload = checkpoint_payload(
        seq=checkpoint.seq,
        head_hash=checkpoint.head_hash,
        period=checkpoint.period,
        created_at=checkpoint.created_at,
        key_id=checkpoint.key_id,
    )
    if not verify_signature(public_key, PURPOSE, payload, checkpoint.signature):
        return f"checkpoint signature mismatch at seq {checkpoint.seq}"
    return None


def _check_balances(
    session: Session, report: LedgerReport, balances: dict[tuple[str, str], int]
) -> str | None:
    cached = {
        (row.account, row.currency): int(row.balance)
        for row in session.execute(select(LedgerBalance)).scalars()
    }
    report.accounts = len(balances)
    for key in sorted(set(balances) | set(cached)):
        derived, stored = balances.get(key, 0), cached.get(key)
        if stored is None:
            return f"balance of {key[0]} ({key[1]}): no cached balance, entries sum to {derived}"
        if stored != derived:
            return f"balance of {key[0]} ({key[1]}): cached {stored}, entries sum to {derived}"
    return None
