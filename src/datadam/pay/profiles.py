"""A worker's private profile: legal name, contact and bank account for payouts.

Issue 7 item 10: personal data is visible only to the worker and to the admins of an
organisation the worker works for (their vendor, or an institution that employs workers
directly); everyone else, managers and inspectors of the projects, other vendors and the
program office included, knows a worker by pseudonym only. A refused lookup answers "not
found", so nobody learns whether a profile exists. The audit trail records which fields
changed, never their values (no bank details in logs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.audit import record_event
from datadam.domain.enums import Role
from datadam.errors import InputError, NotFound
from datadam.storage.tables import Membership, User, WorkerProfile
from datadam.storage.types import utcnow

FIELDS = {
    "legal_name": 120,
    "phone": 40,
    "contact_email": 254,
    "bank_name": 80,
    "bank_account": 64,
    "account_holder": 120,
}


@dataclass(frozen=True)
class ProfileView:
    user_id: int
    pseudonym: str
    display_name: str
    fields: dict[str, str]

    def public(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "pseudonym": self.pseudonym,
            "display_name": self.display_name,
            **self.fields,
        }


def employer_ids(session: Session, worker_id: int) -> set[int]:
    """Organisations in which `worker_id` holds the worker role."""
    return set(
        session.execute(
            select(Membership.organization_id).where(
                Membership.user_id == worker_id, Membership.role == Role.WORKER.value
            )
        ).scalars()
    )


def may_see_personal_data(session: Session, actor: Actor, worker_id: int) -> bool:
    """The worker themself, or an admin of an organisation the worker works for."""
    if actor.user_id == worker_id:
        return True
    admin_of = actor.orgs_with_role(Role.ADMIN)
    return bool(admin_of and admin_of & employer_ids(session, worker_id))


def _view(session: Session, user: User) -> ProfileView:
    row = session.get(WorkerProfile, user.id)
    fields = {name: (getattr(row, name) if row is not None else "") for name in FIELDS}
    return ProfileView(user.id, user.pseudonym, user.display_name, fields)


def get_profile(session: Session, actor: Actor, worker_id: int) -> ProfileView:
    """A worker's personal data for those allowed to see it; NotFound for everyone else."""
    user = session.get(User, worker_id)
    if user is None or not may_see_personal_data(session, actor, worker_id):
        raise NotFound(f"no worker {worker_id}", field="worker_id")
    return _view(session, user)


def update_own_profile(session: Session, actor: Actor, **values: str) -> ProfileView:
    """Change some of the actor's own fields (unknown names are refused)."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise InputError(f"unknown profile field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    row = session.get(WorkerProfile, actor.user_id)
    current = {name: (getattr(row, name) if row is not None else "") for name in FIELDS}
    changed = []
    for name, value in values.items():
        value = value.strip()
        if len(value) > FIELDS[name]:
            raise InputError(f"{name} is at most {FIELDS[name]} characters", field=name)
        if "\x00" in value:
            raise InputError(f"{name} contains a NUL character", field=name)
        if current[name] != value:
            current[name] = value
            changed.append(name)
    if changed:
        if row is None:
            row = WorkerProfile(user_id=actor.user_id)
            session.add(row)
        for name in changed:
            setattr(row, name, current[name])
        row.updated_at = utcnow()
        session.flush()
        record_event(
            session,
            actor_id=actor.user_id,
            action="worker_profile.update",
            object_type="user",
            object_id=actor.user_id,
            after={"changed": sorted(changed)},
        )
    user = session.get(User, actor.user_id)
    assert user is not None
    return _view(session, user)
