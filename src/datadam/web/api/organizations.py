"""Organisations and their members."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from datadam.access import people
from datadam.access.policies import can_create_organizations, can_manage_members
from datadam.domain.enums import OrgKind, Role
from datadam.errors import NotAllowed, NotFound
from datadam.storage.tables import Organization, User
from datadam.web.api.wire import (
    MemberAdd,
    MemberPublic,
    OrganizationCreate,
    OrganizationPublic,
    PathId,
)
from datadam.web.deps import CurrentActor, Db

router = APIRouter(tags=["organizations"])


def _public(org: Organization) -> OrganizationPublic:
    return OrganizationPublic(id=org.id, slug=org.slug, name=org.name, kind=org.kind)


@router.get("/organizations", response_model=list[OrganizationPublic])
def list_organizations(actor: CurrentActor, db: Db) -> list[OrganizationPublic]:
    """Your organisations (the program office and quality agency see every one)."""
    with db.read() as session:
        return [_public(o) for o in people.list_visible_organizations(session, actor)]


@router.post("/organizations", response_model=OrganizationPublic, status_code=201)
def create_organization(
    body: OrganizationCreate, actor: CurrentActor, db: Db
) -> OrganizationPublic:
    """Program office admins register institutions, vendors and agencies."""
    if not can_create_organizations(actor):
        raise NotAllowed("only program office admins can register organisations")
    with db.write() as session:
        org = people.create_organization(
            session, slug=body.slug, name=body.name, kind=OrgKind(body.kind), actor_id=actor.user_id
        )
        return _public(org)


def _visible_org(session: object, actor: CurrentActor, org_id: int) -> Organization:
    org = session.get(Organization, org_id)  # type: ignore[attr-defined]
    if org is None or org_id not in actor.organization_ids:
        raise NotFound(f"no organisation {org_id}", field="organization_id")
    return org


@router.get("/organizations/{org_id}/members", response_model=list[MemberPublic])
def list_members(org_id: PathId, actor: CurrentActor, db: Db) -> list[MemberPublic]:
    """Members of your organisation. Names are shown to its admins only; others see pseudonyms."""
    with db.read() as session:
        _visible_org(session, actor, org_id)
        if not actor.has_role(org_id, Role.ADMIN, Role.MANAGER):
            raise NotAllowed("only admins and managers can list members")
        show_names = can_manage_members(actor, org_id)
        return [
            MemberPublic(
                pseudonym=user.pseudonym,
                display_name=user.display_name if show_names else user.pseudonym,
                role=role,
            )
            for user, role in people.list_members(session, org_id)
        ]


@router.post(
    "/organizations/{org_id}/members",
    response_model=MemberPublic,
    status_code=status.HTTP_201_CREATED,
)
def add_member(org_id: PathId, body: MemberAdd, actor: CurrentActor, db: Db) -> MemberPublic:
    """Give a registered person a role in your organisation (admins only)."""
    with db.write() as session:
        _visible_org(session, actor, org_id)
        if not can_manage_members(actor, org_id):
            raise NotAllowed("only admins can add members")
        user = session.execute(
            select(User).where(User.email == body.email.strip().lower())
        ).scalar_one_or_none()
        if user is None:
            raise NotFound("no registered person with that e-mail", field="email")
        people.add_membership(
            session,
            user_id=user.id,
            organization_id=org_id,
            role=Role(body.role),
            actor_id=actor.user_id,
        )
        return MemberPublic(
            pseudonym=user.pseudonym, display_name=user.display_name, role=body.role
        )
