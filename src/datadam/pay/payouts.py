"""Payout requests: a worker asks for (part of) what an organisation owes them; an admin of
that organisation approves, which posts one `payout` ledger entry, or declines.

Money never leaves more than the balance: a request may not exceed the balance less the
worker's other open requests, and approval goes through `ledger.record_payout`, which checks
the balance again under the ledger lock. A request is decided once: its status moves from
`requested` only inside the ledger lock (PostgreSQL advisory lock, SQLite's single writer),
and the ledger entry's `work_ref` (`payout_request:{id}`) is unique, so two admins pressing
approve at once pay once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.audit import record_event
from datadam.domain.enums import Role
from datadam.errors import Conflict, InputError, NotAllowed, NotFound
from datadam.pay.ledger import LedgerError, lock_ledger, record_payout, worker_account
from datadam.pay.profiles import FIELDS
from datadam.storage.tables import (
    LedgerBalance,
    Organization,
    PayoutRequest,
    User,
    WorkerProfile,
)
from datadam.storage.types import utcnow

MAX_OPEN_REQUESTS = 5


@dataclass(frozen=True)
class Balance:
    """What one organisation owes the worker, and how much of it is already requested."""

    organization_id: int
    organization_name: str
    currency: str
    balance_minor: int
    requested_minor: int

    @property
    def available_minor(self) -> int:
        return max(0, self.balance_minor - self.requested_minor)


def _open_sum(session: Session, worker_id: int, organization_id: int, currency: str) -> int:
    return int(
        session.execute(
            select(func.coalesce(func.sum(PayoutRequest.amount_minor), 0)).where(
                PayoutRequest.worker_id == worker_id,
                PayoutRequest.organization_id == organization_id,
                PayoutRequest.currency == currency,
                PayoutRequest.status == "requested",
            )
        ).scalar_one()
    )


def balances_of(session: Session, worker_id: int) -> list[Balance]:
    """Every organisation that owes the worker something (or did), from the ledger."""
    prefix = f"worker:{worker_id}:org:"
    rows = session.execute(
        select(LedgerBalance.account, LedgerBalance.currency, LedgerBalance.balance)
        .where(LedgerBalance.account.like(prefix + "%"))
        .order_by(LedgerBalance.account, LedgerBalance.currency)
    ).all()
    out = []
    for account, currency, balance in rows:
        tail = account[len(prefix) :]
        if not tail.isdigit():
            continue
        org_id = int(tail)
        org = session.get(Organization, org_id)
        out.append(
            Balance(
                org_id,
                org.name if org else str(org_id),
                currency,
                int(balance),
                _open_sum(session, worker_id, org_id, currency),
            )
        )
    return out


def request_payout(
    session: Session,
    actor: Actor,
    *,
    organization_id: int,
    amount_minor: int,
    currency: str = "KRW",
) -> PayoutRequest:
    """The actor asks `organization_id` to pay out `amount_minor` of what it owes them."""
    if type(amount_minor) is not int or amount_minor <= 0:
        raise InputError("an amount is a positive integer of minor units", field="amount_minor")
    lock_ledger(session)
    owed = session.get(LedgerBalance, (worker_account(actor.user_id, organization_id), currency))
    if owed is None:
        raise NotFound("that organisation owes you nothing", field="organization_id")
    open_count = session.execute(
        select(func.count())
        .select_from(PayoutRequest)
        .where(PayoutRequest.worker_id == actor.user_id, PayoutRequest.status == "requested")
    ).scalar_one()
    if open_count >= MAX_OPEN_REQUESTS:
        raise Conflict(
            f"you have {open_count} open payout requests; wait for a decision",
            code="too_many_open_requests",
        )
    available = int(owed.balance) - _open_sum(session, actor.user_id, organization_id, currency)
    if amount_minor > available:
        raise LedgerError(
            f"a payout of {amount_minor} exceeds the {max(available, 0)} available",
            code="payout_too_large",
        )
    row = PayoutRequest(
        worker_id=actor.user_id,
        organization_id=organization_id,
        amount_minor=amount_minor,
        currency=currency,
        status="requested",
        requested_at=utcnow(),
        note="",
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="payout.request",
        object_type="payout_request",
        object_id=row.id,
        organization_id=organization_id,
        after={"amount_minor": amount_minor, "currency": currency},
    )
    return row


def _decidable(session: Session, actor: Actor, request_id: int) -> PayoutRequest:
    row = session.get(PayoutRequest, request_id)
    if row is None or not actor.has_role(row.organization_id, Role.ADMIN):
        raise NotFound(f"no payout request {request_id}", field="request_id")
    if row.worker_id == actor.user_id:
        raise NotAllowed("nobody approves their own payout")
    session.refresh(row)  # re-read after the lock: another admin may have decided it
    if row.status != "requested":
        raise Conflict(f"payout request {request_id} is already {row.status}", code="decided")
    return row


def approve_payout(
    session: Session, actor: Actor, request_id: int, *, now: datetime | None = None
) -> PayoutRequest:
    """Pay the request out: one ledger entry, never beyond the balance (admins of the payer)."""
    lock_ledger(session)
    row = _decidable(session, actor, request_id)
    entry = record_payout(
        session,
        worker_id=row.worker_id,
        organization_id=row.organization_id,
        amount=int(row.amount_minor),
        currency=row.currency,
        work_ref=f"payout_request:{row.id}",
    )
    if entry is None:
        raise Conflict(f"payout request {request_id} was already paid", code="decided")
    row.status = "approved"
    row.decided_by = actor.user_id
    row.decided_at = now or utcnow()
    row.ledger_seq = entry.seq
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="payout.approve",
        object_type="payout_request",
        object_id=row.id,
        organization_id=row.organization_id,
        before={"status": "requested"},
        after={"status": "approved", "ledger_seq": entry.seq, "amount_minor": row.amount_minor},
    )
    return row


def decline_payout(
    session: Session, actor: Actor, request_id: int, *, note: str = ""
) -> PayoutRequest:
    lock_ledger(session)
    row = _decidable(session, actor, request_id)
    row.status = "declined"
    row.decided_by = actor.user_id
    row.decided_at = utcnow()
    row.note = note.strip()[:200]
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="payout.decline",
        object_type="payout_request",
        object_id=row.id,
        organization_id=row.organization_id,
        before={"status": "requested"},
        after={"status": "declined", "note": row.note},
    )
    return row


def request_public(row: PayoutRequest) -> dict[str, Any]:
    return {
        "id": row.id,
        "organization_id": row.organization_id,
        "amount_minor": int(row.amount_minor),
        "currency": row.currency,
        "status": row.status,
        "requested_at": row.requested_at,
        "decided_at": row.decided_at,
        "ledger_seq": row.ledger_seq,
        "note": row.note,
    }


def list_my_requests(session: Session, actor: Actor, *, limit: int = 50) -> list[PayoutRequest]:
    return list(
        session.execute(
            select(PayoutRequest)
            .where(PayoutRequest.worker_id == actor.user_id)
            .order_by(PayoutRequest.id.desc())
            .limit(limit)
        ).scalars()
    )


def list_org_requests(
    session: Session, actor: Actor, organization_id: int, *, limit: int = 200
) -> list[dict[str, Any]]:
    """The organisation's payout requests with each worker's payout details (its admins
    only: they pay the worker, so they may see name and bank account)."""
    if not actor.has_role(organization_id, Role.ADMIN):
        raise NotAllowed("only the organisation's admins see its payout requests")
    rows = session.execute(
        select(PayoutRequest, User, WorkerProfile)
        .join(User, User.id == PayoutRequest.worker_id)
        .outerjoin(WorkerProfile, WorkerProfile.user_id == PayoutRequest.worker_id)
        .where(PayoutRequest.organization_id == organization_id)
        .order_by((PayoutRequest.status == "requested").desc(), PayoutRequest.id.desc())
        .limit(limit)
    ).all()
    out = []
    for request, user, profile in rows:
        details = {name: getattr(profile, name) if profile else "" for name in FIELDS}
        balance = session.get(
            LedgerBalance, (worker_account(user.id, organization_id), request.currency)
        )
        out.append(
            request_public(request)
            | {
                "worker_id": user.id,
                "worker": user.pseudonym,
                "display_name": user.display_name,
                "balance_minor": 0 if balance is None else int(balance.balance),
                "profile": details,
            }
        )
    return out
