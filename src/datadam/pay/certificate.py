"""Work-history certificates: a signed statement of a worker's hours, items and results.

The document is JSON: `{"certificate": {...facts...}, "signature": {"algorithm": "Ed25519",
"key_id": ..., "value": ...}}`. The signature covers the facts as sorted-key compact JSON
(purpose-bound, see `keys`), so anyone with the platform's public key can check it offline
and any changed number, added field or swapped key fails. The worker's display name is in
it only when the worker asks; otherwise the pseudonym alone identifies them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.audit import record_event
from datadam.errors import DatadamError
from datadam.pay.keys import ALGORITHM, PlatformKey, key_id_of, verify_signature
from datadam.pay.ledger import canonical_time
from datadam.pay.worktime import SubmittedWork, measure
from datadam.storage.tables import Annotation, Project, WorkedTime
from datadam.storage.types import utcnow

PURPOSE = "datadam-work-history-v1"
TYPE = "datadam-work-history"


class CertificateInvalid(DatadamError):
    """The certificate is malformed, changed, or not signed by the given key."""

    code = "certificate_invalid"


def canonical_facts(facts: dict[str, Any]) -> bytes:
    return json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _hours(duration_us: int) -> str:
    """Hours with two decimals, rounded down (a certificate never overstates)."""
    hundredths = duration_us * 100 // 3_600_000_000
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def issue_certificate(
    session: Session,
    actor: Actor,
    key: PlatformKey,
    *,
    include_display_name: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The actor's own certificate, over all their submitted work and recorded worked time."""
    works = [
        SubmittedWork(*row)
        for row in session.execute(
            select(
                Annotation.id,
                Annotation.assignment_id,
                Annotation.project_id,
                Annotation.worker_id,
                Annotation.started_at,
                Annotation.submitted_at,
                Annotation.active_seconds,
                Project.lease_seconds,
            )
            .join(Project, Project.id == Annotation.project_id)
            .where(Annotation.worker_id == actor.user_id)
        )
    ]
    extra_us = session.execute(
        select(func.coalesce(func.sum(WorkedTime.duration_us), 0)).where(
            WorkedTime.worker_id == actor.user_id
        )
    ).scalar_one()
    duration_us = sum(measure(session, works).values()) + int(extra_us)
    dates = sorted(w.submitted_at for w in works)
    worker: dict[str, Any] = {"pseudonym": actor.pseudonym}
    if include_display_name:
        worker["display_name"] = actor.display_name
    facts: dict[str, Any] = {
        "type": TYPE,
        "version": 1,
        "issuer": "datadam",
        "key_id": key.key_id,
        "issued_at": canonical_time(now or utcnow()),
        "worker": worker,
        "qualifications": [],
        "worked_seconds": duration_us // 1_000_000,
        "hours": _hours(duration_us),
        "items": len(works),
        "accuracy_on_gold": None,
        "first_work_on": dates[0].date().isoformat() if dates else None,
        "last_work_on": dates[-1].date().isoformat() if dates else None,
    }
    signature = key.sign(PURPOSE, canonical_facts(facts))
    record_event(
        session,
        actor_id=actor.user_id,
        action="certificate.issue",
        object_type="user",
        object_id=actor.user_id,
        after={k: v for k, v in facts.items() if k != "worker"} | {"signature": signature},
    )
    return {
        "certificate": facts,
        "signature": {"algorithm": ALGORITHM, "key_id": key.key_id, "value": signature},
    }


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise CertificateInvalid("the document repeats a field")
    return dict(pairs)


def verify_certificate(raw: bytes, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The certified facts when the document is intact and signed by `public_key`."""
    try:
        document = json.loads(raw, object_pairs_hook=_no_duplicates)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CertificateInvalid(f"not a JSON certificate ({exc})") from None
    if not isinstance(document, dict) or set(document) != {"certificate", "signature"}:
        raise CertificateInvalid("a certificate has exactly the fields certificate and signature")
    facts, signature = document["certificate"], document["signature"]
    if not isinstance(facts, dict) or not isinstance(signature, dict):
        raise CertificateInvalid("certificate and signature must be objects")
    if facts.get("type") != TYPE:
        raise CertificateInvalid("this is not a datadam work-history certificate")
    if signature.get("algorithm") != ALGORITHM:
        raise CertificateInvalid(f"unsupported signature algorithm {signature.get('algorithm')!r}")
    expected = key_id_of(public_key)
    if signature.get("key_id") != expected or facts.get("key_id") != expected:
        raise CertificateInvalid(
            f"signed with key {signature.get('key_id')!r}, but the public key given is {expected}"
        )
    value = signature.get("value")
    if not isinstance(value, str) or not verify_signature(
        public_key, PURPOSE, canonical_facts(facts), value
    ):
        raise CertificateInvalid(
            "signature does not match: the certificate was changed after it was signed"
        )
    return facts
