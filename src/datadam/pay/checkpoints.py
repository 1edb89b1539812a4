"""Signed ledger checkpoints: "the chain had `seq` entries ending in `head_hash`".

A hash chain alone cannot show that its tail was cut off, or that someone with database
access recomputed every hash after an edit. A checkpoint signed with the platform key (kept
outside the database) can: `ledger verify` finds the entry at the checkpoint's seq and
compares hashes. Each checkpoint is stored twice, in `ledger_checkpoint` and as a
`ledger.checkpoint` event in the audit log, so deleting checkpoint rows hides nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.audit import record_event
from datadam.pay.keys import PlatformKey
from datadam.pay.ledger import canonical_time, chain_head, lock_ledger
from datadam.storage.tables import Event, LedgerCheckpoint
from datadam.storage.types import utcnow

PURPOSE = "datadam-ledger-checkpoint-v1"
AUDIT_ACTION = "ledger.checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head_hash: str
    period: str | None
    created_at: str
    key_id: str
    signature: str

    def public(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "head_hash": self.head_hash,
            "period": self.period,
            "created_at": self.created_at,
            "key_id": self.key_id,
            "signature": self.signature,
        }


def checkpoint_payload(
    *, seq: int, head_hash: str, period: str | None, created_at: str, key_id: str
) -> bytes:
    body = {
        "seq": seq,
        "head_hash": head_hash,
        "period": period,
        "created_at": created_at,
        "key_id": key_id,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _from_row(row: LedgerCheckpoint) -> Checkpoint:
    return Checkpoint(
        int(row.seq),
        row.head_hash,
        row.period,
        canonical_time(row.created_at),
        row.key_id,
        row.signature,
    )


def write_checkpoint(
    session: Session,
    key: PlatformKey,
    *,
    period: str | None = None,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> Checkpoint | None:
    """Sign the current head (inside the caller's transaction). None for an empty ledger;
    the existing checkpoint when the head was already signed."""
    lock_ledger(session)
    seq, head = chain_head(session)
    if seq == 0:
        return None
    existing = session.execute(
        select(LedgerCheckpoint).where(LedgerCheckpoint.seq == seq)
    ).scalar_one_or_none()
    if existing is not None:
        return _from_row(existing)
    at = now or utcnow()
    created_at = canonical_time(at)
    payload = checkpoint_payload(
        seq=seq, head_hash=head, period=period, created_at=created_at, key_id=key.key_id
    )
    signature = key.sign(PURPOSE, payload)
    session.add(
        LedgerCheckpoint(
            seq=seq,
            head_hash=head,
            period=period,
            created_at=at,
            key_id=key.key_id,
            signature=signature,
        )
    )
    checkpoint = Checkpoint(seq, head, period, created_at, key.key_id, signature)
    record_event(
        session,
        actor_id=actor_id,
        action=AUDIT_ACTION,
        object_type="ledger",
        object_id=seq,
        after=checkpoint.public(),
    )
    session.flush()
    return checkpoint


def latest_checkpoint(session: Session, *, period: str | None = None) -> Checkpoint | None:
    query = select(LedgerCheckpoint).order_by(LedgerCheckpoint.seq.desc()).limit(1)
    if period is not None:
        query = query.where(LedgerCheckpoint.period == period)
    row = session.execute(query).scalar_one_or_none()
    return None if row is None else _from_row(row)


def stored_checkpoints(session: Session) -> list[Checkpoint]:
    """Every checkpoint from the table and from the audit log, by seq (duplicates merged)."""
    found: dict[tuple[int, str, str], Checkpoint] = {}
    for row in session.execute(select(LedgerCheckpoint)).scalars():
        checkpoint = _from_row(row)
        found[(checkpoint.seq, checkpoint.signature, checkpoint.head_hash)] = checkpoint
    events = session.execute(select(Event.after).where(Event.action == AUDIT_ACTION)).scalars()
    for after in events:
        checkpoint = _from_event(after)
        if checkpoint is not None:
            found.setdefault(
                (checkpoint.seq, checkpoint.signature, checkpoint.head_hash), checkpoint
            )
    return sorted(found.values(), key=lambda c: (c.seq, c.created_at))


def _from_event(after: Any) -> Checkpoint | None:
    if isinstance(after, str):
        after = json.loads(after)
    try:
        return Checkpoint(
            int(after["seq"]),
            str(after["head_hash"]),
            after.get("period"),
            str(after["created_at"]),
            str(after["key_id"]),
            str(after["signature"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
