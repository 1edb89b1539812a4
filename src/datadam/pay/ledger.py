"""The pay ledger: append-only, double-entry, hash-chained postings in integer minor units.

Every entry moves `amount` (> 0, minor units of `currency`) from `debit_account` to
`credit_account`; an account's balance is its credits minus its debits. A worker's account
`worker:{w}:org:{o}` is what organisation `o` owes worker `w`; the organisation's side is one
account per purpose (`org:{o}:earnings`, `:top_ups`, `:bonuses`, `:payouts`).

Nothing is ever changed or removed: a correction is a `reversal` entry linked to the original
(`reverses_seq`). `seq` runs 1, 2, 3... without gaps, and each entry's hash covers its
canonical content plus the previous entry's hash, so an edited, removed or reordered entry
breaks the chain at that entry. Appends are serialised (SQLite's single writer; a
transaction-scoped advisory lock on PostgreSQL), and `UNIQUE(seq)`, `UNIQUE(prev_hash)` and
`UNIQUE(kind, work_ref)` stand behind the lock: no fork, no posting twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from datadam.audit import record_event
from datadam.errors import Conflict, InputError
from datadam.storage.tables import LedgerBalance, LedgerEntry
from datadam.storage.types import utcnow

GENESIS = "0" * 64
HASH_DOMAIN = b"datadam-ledger-v1\n"
LEDGER_LOCK_KEY = 0x64616D02  # pg_advisory_xact_lock key of the ledger (the audit log uses ...01)
KINDS = ("earning", "top_up", "bonus", "payout", "reversal")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class LedgerError(Conflict):
    """A posting breaks a ledger rule (HTTP 409)."""

    code = "ledger_error"


def worker_account(worker_id: int, organization_id: int) -> str:
    """What organisation `organization_id` owes worker `worker_id`."""
    return f"worker:{worker_id}:org:{organization_id}"


def org_account(organization_id: int, purpose: str) -> str:
    return f"org:{organization_id}:{purpose}"


@dataclass(frozen=True)
class Posting:
    """An entry to append; `seq`, time and hashes are assigned by `append_postings`."""

    kind: str
    debit_account: str
    credit_account: str
    amount: int
    currency: str
    work_ref: str
    worker_id: int | None = None
    organization_id: int | None = None
    project_id: int | None = None
    period: str | None = None
    reverses_seq: int | None = None
    memo: str = ""

    def check(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"unknown ledger entry kind {self.kind!r}", field="kind")
        if type(self.amount) is not int or self.amount <= 0:
            raise InputError("an amount is a positive integer of minor units", field="amount")
        if not _CURRENCY.match(self.currency):
            raise InputError("currency must be an ISO 4217 code such as KRW", field="currency")
        if self.debit_account == self.credit_account:
            raise InputError("an entry needs two different accounts", field="credit_account")
        for name in ("debit_account", "credit_account"):
            if not 0 < len(getattr(self, name)) <= 96:
                raise InputError(f"{name} must be 1-96 characters", field=name)
        if not 0 < len(self.work_ref) <= 160:
            raise InputError("work_ref must be 1-160 characters", field="work_ref")
        if len(self.memo) > 200:
            raise InputError("memo must be at most 200 characters", field="memo")


def canonical_time(value: datetime) -> str:
    """One fixed format, always UTC with microseconds, on every database."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def canonical_entry(entry: LedgerEntry) -> bytes:
    """The bytes an entry's hash covers: every column but `hash`, as sorted-key compact JSON.

    Integers stay integers (never Decimal or float text), times use `canonical_time`, and the
    currency is explicit, so SQLite and PostgreSQL give the same bytes for the same entry.
    """
    body = {
        "seq": int(entry.seq),
        "at": canonical_time(entry.at),
        "kind": entry.kind,
        "debit_account": entry.debit_account,
        "credit_account": entry.credit_account,
        "amount": int(entry.amount),
        "currency": entry.currency,
        "work_ref": entry.work_ref,
        "worker_id": _int_or_none(entry.worker_id),
        "organization_id": _int_or_none(entry.organization_id),
        "project_id": _int_or_none(entry.project_id),
        "period": entry.period,
        "reverses_seq": _int_or_none(entry.reverses_seq),
        "memo": entry.memo,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_digest(entry: LedgerEntry) -> str:
    return hashlib.sha256(HASH_DOMAIN + canonical_entry(entry)).hexdigest()


def lock_ledger(session: Session) -> None:
    """Serialise ledger writers. Take it before any other advisory lock (the audit log's)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LEDGER_LOCK_KEY})


def chain_head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the last entry; (0, GENESIS) for an empty ledger."""
    row = session.execute(
        select(LedgerEntry.seq, LedgerEntry.hash).order_by(LedgerEntry.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS) if row is None else (int(row[0]), row[1])


def existing_refs(session: Session, kind: str, refs: list[str]) -> dict[str, LedgerEntry]:
    found: dict[str, LedgerEntry] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        rows = session.execute(
            select(LedgerEntry).where(LedgerEntry.kind == kind, LedgerEntry.work_ref.in_(chunk))
        ).scalars()
        found.update({row.work_ref: row for row in rows})
    return found


def append_postings(
    session: Session, postings: list[Posting], *, now: datetime | None = None
) -> list[LedgerEntry]:
    """Append postings in order inside the caller's write transaction; return the new entries.

    Postings whose (kind, work_ref) is already in the ledger are skipped when identical and
    refused when they differ (the same work cannot be paid twice, nor differently).
    """
    for posting in postings:
        posting.check()
    lock_ledger(session)
    seen: dict[tuple[str, str], Posting] = {}
    by_kind: dict[str, list[str]] = defaultdict(list)
    for posting in postings:
        key = (posting.kind, posting.work_ref)
        if key in seen:
            raise LedgerError(f"{posting.kind} {posting.work_ref} appears twice in one batch")
        seen[key] = posting
        by_kind[posting.kind].append(posting.work_ref)
    already: dict[tuple[str, str], LedgerEntry] = {}
    for kind, refs in by_kind.items():
        already.update({(kind, ref): e for ref, e in existing_refs(session, kind, refs).items()})
    seq, prev = chain_head(session)
    at = now or utcnow()
    added: list[LedgerEntry] = []
    for posting in postings:
        old = already.get((posting.kind, posting.work_ref))
        if old is not None:
            if (old.amount, old.currency, old.credit_account) != (
                posting.amount,
                posting.currency,
                posting.credit_account,
            ):
                raise LedgerError(
                    f"{posting.kind} {posting.work_ref} is already posted as entry {old.seq} "
                    "with different terms",
                    code="idempotency_key_reused",
                )
            continue
        seq += 1
        entry = LedgerEntry(
            seq=seq,
            at=at,
            kind=posting.kind,
            debit_account=posting.debit_account,
            credit_account=posting.credit_account,
            amount=posting.amount,
            currency=posting.currency,
            work_ref=posting.work_ref,
            worker_id=posting.worker_id,
            organization_id=posting.organization_id,
            project_id=posting.project_id,
            period=posting.period,
            reverses_seq=posting.reverses_seq,
            memo=posting.memo,
            prev_hash=prev,
        )
        entry.hash = entry_digest(entry)
        prev = entry.hash
        session.add(entry)
        added.append(entry)
    session.flush()
    _update_balances(session, added)
    return added


def _update_balances(session: Session, entries: list[LedgerEntry]) -> None:
    deltas: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry in entries:
        for account, sign in ((entry.credit_account, 1), (entry.debit_account, -1)):
            delta = deltas[(account, entry.currency)]
            delta[0] += sign * entry.amount
            delta[1] += 1
            delta[2] = entry.seq
    for (account, currency), (amount, count, last_seq) in deltas.items():
        row = session.get(LedgerBalance, (account, currency))
        if row is None:
            session.add(
                LedgerBalance(
                    account=account,
                    currency=currency,
                    balance=amount,
                    entries=count,
                    last_seq=last_seq,
                )
            )
        else:
            row.balance += amount
            row.entries += count
            row.last_seq = last_seq
    session.flush()


def balance_of(session: Session, account: str, currency: str) -> int:
    row = session.get(LedgerBalance, (account, currency))
    return 0 if row is None else int(row.balance)


def reverse_entry(
    session: Session, seq: int, *, reason: str, actor_id: int | None = None
) -> LedgerEntry:
    """Undo entry `seq` with an opposite entry linked to it (at most once); the audit trail
    records who reversed what and why."""
    original = session.get(LedgerEntry, seq)
    if original is None:
        raise InputError(f"no ledger entry {seq}", field="seq")
    if original.kind == "reversal":
        raise LedgerError("a reversal is not reversed; post a new entry instead")
    posting = Posting(
        kind="reversal",
        debit_account=original.credit_account,
        credit_account=original.debit_account,
        amount=int(original.amount),
        currency=original.currency,
        work_ref=f"reversal-of:{seq}",
        worker_id=original.worker_id,
        organization_id=original.organization_id,
        project_id=original.project_id,
        period=original.period,
        reverses_seq=seq,
        memo=reason.strip()[:200],
    )
    added = append_postings(session, [posting])
    if not added:
        raise LedgerError(f"entry {seq} was already reversed", code="already_reversed")
    record_event(
        session,
        actor_id=actor_id,
        action="ledger.reversal",
        object_type="ledger_entry",
        object_id=seq,
        before={"seq": seq, "kind": original.kind, "amount": int(original.amount)},
        after={"reversal_seq": added[0].seq, "reason": posting.memo},
        organization_id=original.organization_id,
        project_id=original.project_id,
    )
    return added[0]


def record_payout(
    session: Session,
    *,
    worker_id: int,
    organization_id: int,
    amount: int,
    currency: str,
    work_ref: str,
) -> LedgerEntry | None:
    """Pay a worker out of what the organisation owes them; never below a zero balance.

    Returns None when `work_ref` was already paid out with the same amount (a retry).
    """
    account = worker_account(worker_id, organization_id)
    posting = Posting(
        kind="payout",
        debit_account=account,
        credit_account=org_account(organization_id, "payouts"),
        amount=amount,
        currency=currency,
        work_ref=work_ref,
        worker_id=worker_id,
        organization_id=organization_id,
    )
    posting.check()
    lock_ledger(session)
    if existing_refs(session, "payout", [work_ref]):
        added = append_postings(session, [posting])
        return added[0] if added else None
    owed = balance_of(session, account, currency)
    if amount > owed:
        raise LedgerError(f"a payout of {amount} exceeds the {owed} owed", code="payout_too_large")
    added = append_postings(session, [posting])
    return added[0] if added else None
