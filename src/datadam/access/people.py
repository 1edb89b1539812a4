"""Organisations, people and memberships."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.audit import record_event
from datadam.domain.enums import OrgKind, Role
from datadam.errors import Conflict, InputError, NotFound
from datadam.storage.tables import Membership, Organization, User

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$")


def new_pseudonym() -> str:
    """A stable public id for a person: what managers, inspectors and exports see."""
    return "w_" + secrets.token_hex(6)


def create_organization(
    session: Session, *, slug: str, name: str, kind: OrgKind, actor_id: int | None = None
) -> Organization:
    if not _SLUG.match(slug):
        raise InputError("slug must be 2-63 lower-case letters, digits or dashes", field="slug")
    if session.execute(select(Organization.id).where(Organization.slug == slug)).first():
        raise Conflict(f"an organisation with slug {slug!r} exists", field="slug")
    org = Organization(slug=slug, name=name.strip(), kind=kind.value)
    session.add(org)
    session.flush()
    record_event(
        session,
        actor_id=actor_id,
        action="organization.create",
        object_type="organization",
        object_id=org.id,
        after={"slug": slug, "name": org.name, "kind": kind.value},
        organization_id=org.id,
    )
    return org


def get_organization_by_slug(session: Session, slug: str) -> Organization:
    org = session.execute(
        select(Organization).where(Organization.slug == slug)
    ).scalar_one_or_none()
    if org is None:
        raise NotFound(f"no organisation {slug!r}", field="org")
    return org


def create_user(
    session: Session,
    *,
    email: str,
    display_name: str,
    password_hash: str,
    locale: str = "en",
    actor_id: int | None = None,
) -> User:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InputError("not a valid e-mail address", field="email")
    if session.execute(select(User.id).where(User.email == email)).first():
        raise Conflict("a user with this e-mail exists", field="email")
    user = User(
        email=email,
        display_name=display_name.strip() or email,
        password_hash=password_hash,
        pseudonym=new_pseudonym(),
        locale=locale,
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        actor_id=actor_id,
        action="user.create",
        object_type="user",
        object_id=user.id,
        after={"pseudonym": user.pseudonym},
    )
    return user


def add_membership(
    session: Session, *, user_id: int, organization_id: int, role: Role, actor_id: int | None = None
) -> Membership:
    membership = Membership(user_id=user_id, organization_id=organization_id, role=role.value)
    try:
        with session.begin_nested():
            session.add(membership)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("this person already holds that role there", field="role") from exc
    record_event(
        session,
        actor_id=actor_id,
        action="membership.add",
        object_type="membership",
        object_id=membership.id,
        organization_id=organization_id,
        after={"user_id": user_id, "role": role.value},
    )
    return membership


def remove_membership(
    session: Session, *, user_id: int, organization_id: int, role: Role, actor_id: int | None
) -> None:
    row = session.execute(
        select(Membership).where(
            Membership.user_id == user_id,
            Membership.organization_id == organization_id,
            Membership.role == role.value,
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("no such membership")
    session.delete(row)
    record_event(
        session,
        actor_id=actor_id,
        action="membership.remove",
        object_type="membership",
        object_id=row.id,
        organization_id=organization_id,
        before={"user_id": user_id, "role": role.value},
    )


def list_visible_organizations(session: Session, actor: Actor) -> list[Organization]:
    """Members see their own organisations; the program office and quality agency see all."""
    query = select(Organization).order_by(Organization.id)
    if not (actor.is_in_kind(OrgKind.PROGRAM_OFFICE) or actor.is_in_kind(OrgKind.QUALITY_AGENCY)):
        query = query.where(Organization.id.in_(actor.organization_ids or {-1}))
    return list(session.execute(query).scalars())


def list_members(session: Session, organization_id: int) -> list[tuple[User, str]]:
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization_id)
        .order_by(User.id, Membership.role)
    ).all()
    return [(user, role) for user, role in rows]
