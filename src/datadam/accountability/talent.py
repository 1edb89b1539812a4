"""The talent pool: a path from crowd work to employment.

A worker opts in per field (the `field` of the projects they worked on, e.g. "language").
Admins and managers of institutions and vendors then see, for each opted-in worker, a
verified history in that field — measured hours, items, gold accuracy, qualification time —
under a pool pseudonym (an HMAC of the user id, unlinkable to project pseudonyms). No name,
e-mail or user id reaches an organisation until the worker accepts its offer; then the
organisation may record the hire. Offers, acceptances and hires feed the scorecard.
Every change is an audit event.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.accountability import sources
from datadam.audit import record_event
from datadam.domain.enums import OrgKind, Role
from datadam.errors import Conflict, InputError, NotAllowed, NotFound
from datadam.pay.worktime import US_PER_HOUR, SubmittedWork, measure
from datadam.storage.tables import (
    Annotation,
    JobOffer,
    Organization,
    Project,
    TalentOptIn,
    User,
    WorkedTime,
)
from datadam.storage.types import utcnow

_FIELD = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_FIELDS = 20
HIRING_KINDS = (OrgKind.INSTITUTION.value, OrgKind.VENDOR.value)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def pool_pseudonym(secret: str, worker_id: int) -> str:
    mac = hmac.new(secret.encode(), f"talent:{worker_id}".encode(), hashlib.sha256)
    return "t_" + mac.hexdigest()[:12]


def _check_field(value: str) -> str:
    value = value.strip().lower()
    if not _FIELD.match(value):
        raise InputError("a field is 1-64 lower-case letters, digits, - or _", field="fields")
    return value


def _require_worker(actor: Actor) -> None:
    if not actor.orgs_with_role(Role.WORKER):
        raise NotAllowed("only workers join the talent pool")


def known_fields(session: Session) -> list[str]:
    """The fields projects are in: the choices for opting in and browsing."""
    return sorted({f for f in session.execute(select(Project.field).distinct()).scalars() if f})


def my_fields(session: Session, actor: Actor) -> list[str]:
    rows = session.execute(
        select(TalentOptIn.field).where(TalentOptIn.worker_id == actor.user_id)
    ).scalars()
    return sorted(rows)


def set_fields(session: Session, actor: Actor, fields: list[str]) -> list[str]:
    """Opt in to exactly these fields (an empty list leaves the pool)."""
    _require_worker(actor)
    if len(fields) > MAX_FIELDS:
        raise InputError(f"at most {MAX_FIELDS} fields", field="fields")
    wanted = sorted({_check_field(f) for f in fields})
    rows = {
        r.field: r
        for r in session.execute(
            select(TalentOptIn).where(TalentOptIn.worker_id == actor.user_id)
        ).scalars()
    }
    before = sorted(rows)
    if before == wanted:
        return wanted
    for name, row in rows.items():
        if name not in wanted:
            session.delete(row)
    for name in wanted:
        if name not in rows:
            session.add(TalentOptIn(worker_id=actor.user_id, field=name))
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="talent.opt_in",
        object_type="talent_profile",
        object_id=actor.pseudonym,
        before={"fields": before},
        after={"fields": wanted},
    )
    return wanted


def hiring_orgs(session: Session, actor: Actor) -> list[Organization]:
    """Institutions and vendors where the actor is an admin or manager."""
    ids = actor.orgs_with_role(Role.ADMIN, Role.MANAGER)
    if not ids:
        return []
    return list(
        session.execute(
            select(Organization)
            .where(Organization.id.in_(ids), Organization.kind.in_(HIRING_KINDS))
            .order_by(Organization.name)
        ).scalars()
    )


def _require_hirer(session: Session, actor: Actor, organization_id: int | None = None) -> None:
    orgs = {o.id for o in hiring_orgs(session, actor)}
    if not orgs:
        raise NotAllowed("only admins and managers of institutions and vendors see the pool")
    if organization_id is not None and organization_id not in orgs:
        raise NotFound("no such organisation of yours", field="organization_id")


@dataclass(frozen=True)
class Candidate:
    pseudonym: str
    field: str
    hours: float
    items: int
    gold_accuracy: float | None
    gold_answers: int
    training_hours: float
    qualification_hours: float

    def public(self) -> dict[str, Any]:
        return dict(self.__dict__)


def pool(session: Session, actor: Actor, *, secret: str, field: str) -> list[Candidate]:
    """Opted-in workers of `field` with their verified history in it (never personal data)."""
    _require_hirer(session, actor)
    field = _check_field(field)
    worker_ids = sorted(
        session.execute(select(TalentOptIn.worker_id).where(TalentOptIn.field == field)).scalars()
    )
    if not worker_ids:
        return []
    projects = list(session.execute(select(Project.id).where(Project.field == field)).scalars())
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
            .where(Annotation.worker_id.in_(worker_ids), Project.field == field)
        )
    ]
    measured = measure(session, works)
    duration: dict[int, int] = defaultdict(int)
    items: dict[int, int] = defaultdict(int)
    for work in works:
        duration[work.worker_id] += measured[work.annotation_id]
        items[work.worker_id] += 1
    extra: dict[tuple[int, str], int] = defaultdict(int)
    if projects:
        for wid, source, us in session.execute(
            select(WorkedTime.worker_id, WorkedTime.source, WorkedTime.duration_us).where(
                WorkedTime.worker_id.in_(worker_ids), WorkedTime.project_id.in_(projects)
            )
        ):
            extra[(wid, source)] += int(us)
            duration[wid] += int(us)
    gold: dict[int, list[float]] = defaultdict(list)
    wanted, in_field = set(worker_ids), set(projects)
    for score in sources.gold_scores_between(session, EPOCH, utcnow()):
        if score.worker_id in wanted and score.project_id in in_field:
            gold[score.worker_id].append(score.score)
    found = []
    for wid in worker_ids:
        scores = gold.get(wid, [])
        found.append(
            Candidate(
                pseudonym=pool_pseudonym(secret, wid),
                field=field,
                hours=round(duration[wid] / US_PER_HOUR, 2),
                items=items[wid],
                gold_accuracy=round(sum(scores) / len(scores), 4) if scores else None,
                gold_answers=len(scores),
                training_hours=round(extra[(wid, "training")] / US_PER_HOUR, 2),
                qualification_hours=round(extra[(wid, "qualification")] / US_PER_HOUR, 2),
            )
        )
    found.sort(key=lambda c: (-c.hours, c.pseudonym))
    return found


def _resolve(session: Session, secret: str, field: str, pseudonym: str) -> int:
    for wid in session.execute(
        select(TalentOptIn.worker_id).where(TalentOptIn.field == field)
    ).scalars():
        if hmac.compare_digest(pool_pseudonym(secret, wid), pseudonym):
            return int(wid)
    raise NotFound("no candidate with that pseudonym in this field", field="candidate")


def send_offer(
    session: Session,
    actor: Actor,
    *,
    secret: str,
    organization_id: int,
    candidate: str,
    field: str,
    title: str,
    message: str = "",
) -> JobOffer:
    _require_hirer(session, actor, organization_id)
    field = _check_field(field)
    title = title.strip()
    if not 0 < len(title) <= 200:
        raise InputError("a title of 1-200 characters says what the job is", field="title")
    if len(message) > 5000:
        raise InputError("the message is at most 5000 characters", field="message")
    worker_id = _resolve(session, secret, field, candidate)
    open_offer = session.execute(
        select(JobOffer.id).where(
            JobOffer.organization_id == organization_id,
            JobOffer.worker_id == worker_id,
            JobOffer.status == "sent",
        )
    ).first()
    if open_offer is not None:
        raise Conflict("this candidate already has an open offer from you", field="candidate")
    offer = JobOffer(
        organization_id=organization_id,
        worker_id=worker_id,
        field=field,
        title=title,
        message=message.strip(),
        status="sent",
        created_by=actor.user_id,
    )
    session.add(offer)
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="talent.offer.send",
        object_type="job_offer",
        object_id=offer.id,
        organization_id=organization_id,
        after={"candidate": candidate, "field": field, "title": title, "status": "sent"},
    )
    return offer


def respond(session: Session, actor: Actor, offer_id: int, *, accept: bool) -> JobOffer:
    """The worker accepts or declines an offer made to them (once)."""
    offer = session.get(JobOffer, offer_id)
    if offer is None or offer.worker_id != actor.user_id:
        raise NotFound(f"no offer {offer_id}", field="offer_id")
    if offer.status != "sent":
        raise Conflict(f"this offer is already {offer.status}", code="offer_closed")
    before = offer.status
    offer.status = "accepted" if accept else "declined"
    offer.responded_at = utcnow()
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="talent.offer.accept" if accept else "talent.offer.decline",
        object_type="job_offer",
        object_id=offer.id,
        organization_id=offer.organization_id,
        before={"status": before},
        after={"status": offer.status},
    )
    return offer


def record_hire(session: Session, actor: Actor, offer_id: int) -> JobOffer:
    """The organisation records that an accepted offer became a job."""
    offer = session.get(JobOffer, offer_id)
    orgs = {o.id for o in hiring_orgs(session, actor)}
    if offer is None or offer.organization_id not in orgs:
        raise NotFound(f"no offer {offer_id}", field="offer_id")
    if offer.status != "accepted":
        raise Conflict("only an accepted offer becomes a hire", code="offer_not_accepted")
    offer.status = "hired"
    offer.hired_at = utcnow()
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="talent.offer.hire",
        object_type="job_offer",
        object_id=offer.id,
        organization_id=offer.organization_id,
        before={"status": "accepted"},
        after={"status": "hired"},
    )
    return offer


def offers_for(session: Session, actor: Actor, *, secret: str) -> dict[str, list[dict[str, Any]]]:
    """Offers made to the actor, and offers the actor's organisations made. The candidate's
    name and e-mail are shown to the organisation only once the worker has accepted."""
    received = []
    for offer, org_name in session.execute(
        select(JobOffer, Organization.name)
        .join(Organization, Organization.id == JobOffer.organization_id)
        .where(JobOffer.worker_id == actor.user_id)
        .order_by(JobOffer.id.desc())
    ):
        received.append(_offer_public(offer, org_name, secret))
    sent = []
    orgs = [o.id for o in hiring_orgs(session, actor)]
    if orgs:
        for offer, org_name, user in session.execute(
            select(JobOffer, Organization.name, User)
            .join(Organization, Organization.id == JobOffer.organization_id)
            .join(User, User.id == JobOffer.worker_id)
            .where(JobOffer.organization_id.in_(orgs))
            .order_by(JobOffer.id.desc())
            .limit(500)
        ):
            row = _offer_public(offer, org_name, secret)
            if offer.status in ("accepted", "hired"):
                row["contact"] = {"display_name": user.display_name, "email": user.email}
            sent.append(row)
    return {"received": received, "sent": sent}


def _offer_public(offer: JobOffer, org_name: str, secret: str) -> dict[str, Any]:
    return {
        "id": int(offer.id),
        "organization_id": int(offer.organization_id),
        "organization": org_name,
        "candidate": pool_pseudonym(secret, offer.worker_id),
        "field": offer.field,
        "title": offer.title,
        "message": offer.message,
        "status": offer.status,
        "created_at": offer.created_at,
        "responded_at": offer.responded_at,
        "hired_at": offer.hired_at,
        "contact": None,
    }
