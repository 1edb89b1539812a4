"""Creating, finding, listing and changing projects, always through the caller's permissions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import (
    ProjectAction,
    can_create_project_in,
    project_actions,
    sees_all_projects,
)
from datadam.audit import record_event
from datadam.domain.enums import OrgKind, ProjectStatus, Stage
from datadam.errors import Conflict, InputError, NotAllowed, NotFound
from datadam.storage.tables import Annotation, Item, Organization, Project, ProjectAccess

MAX_OVERLAP = 50
EDITABLE = ("name", "instructions", "overlap", "lease_seconds", "status", "field", "modality")


@dataclass(frozen=True)
class ProjectView:
    """A project together with what the caller may do with it."""

    project: Project
    actions: frozenset[ProjectAction]
    vendor_ids: tuple[int, ...]

    def require(self, action: ProjectAction) -> None:
        if action not in self.actions:
            raise NotAllowed(f"you may not {action.value} this project", code="forbidden")


def vendor_ids_of(session: Session, project_id: int) -> tuple[int, ...]:
    rows = session.execute(
        select(ProjectAccess.organization_id)
        .where(ProjectAccess.project_id == project_id)
        .order_by(ProjectAccess.organization_id)
    )
    return tuple(rows.scalars())


def get_project_for(session: Session, actor: Actor, project_id: int) -> ProjectView:
    """The project as `actor` may see it; NotFound when they may not know it exists."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project {project_id}", field="project_id")
    vendors = vendor_ids_of(session, project.id)
    actions = project_actions(actor, owner_org_id=project.owner_org_id, granted_org_ids=vendors)
    if ProjectAction.VIEW not in actions:
        raise NotFound(f"no project {project_id}", field="project_id")
    return ProjectView(project, actions, vendors)


def _check_settings(overlap: int | None, lease_seconds: int | None) -> None:
    if overlap is not None and not 1 <= overlap <= MAX_OVERLAP:
        raise InputError(f"overlap must be between 1 and {MAX_OVERLAP}", field="overlap")
    if lease_seconds is not None and not 30 <= lease_seconds <= 7 * 24 * 3600:
        raise InputError("lease_seconds must be between 30 and 604800", field="lease_seconds")


def parse_project_schema(raw: Any) -> dict[str, Any]:
    from datadam.schema import parse_schema

    return parse_schema(raw).to_dict()


def create_project(
    session: Session,
    actor: Actor,
    *,
    owner_org_id: int,
    name: str,
    schema: Any,
    overlap: int = 1,
    lease_seconds: int = 1800,
    instructions: str = "",
    field: str = "general",
    modality: str = "text",
) -> Project:
    org = session.get(Organization, owner_org_id)
    if org is None or owner_org_id not in actor.organization_ids:
        raise NotFound(f"no organisation {owner_org_id}", field="owner_org_id")
    if not can_create_project_in(actor, org.id, OrgKind(org.kind)):
        raise NotAllowed(
            "only admins and managers of an institution can create projects", field="owner_org_id"
        )
    name = name.strip()
    if not name:
        raise InputError("a project needs a name", field="name")
    _check_settings(overlap, lease_seconds)
    project = Project(
        owner_org_id=org.id,
        name=name,
        schema=parse_project_schema(schema),
        overlap=overlap,
        lease_seconds=lease_seconds,
        instructions=instructions,
        field=field,
        modality=modality,
        status=ProjectStatus.ACTIVE.value,
        created_by=actor.user_id,
    )
    session.add(project)
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="project.create",
        object_type="project",
        object_id=project.id,
        organization_id=org.id,
        project_id=project.id,
        after=project_settings(project),
    )
    return project


def project_settings(project: Project) -> dict[str, Any]:
    return {key: getattr(project, key) for key in EDITABLE} | {
        "schema_version": project.schema_version
    }


def update_project(
    session: Session, view: ProjectView, actor: Actor, changes: dict[str, Any]
) -> Project:
    view.require(ProjectAction.MANAGE)
    project = view.project
    unknown = set(changes) - set(EDITABLE) - {"schema"}
    if unknown:
        raise InputError(f"unknown field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    _check_settings(changes.get("overlap"), changes.get("lease_seconds"))
    if "status" in changes and changes["status"] not in set(ProjectStatus):
        raise InputError("status must be draft, active, paused or closed", field="status")
    before = project_settings(project)
    for key, value in changes.items():
        if key == "schema":
            project.schema = parse_project_schema(value)
            project.schema_version += 1
        elif key == "name" and not str(value).strip():
            raise InputError("a project needs a name", field="name")
        else:
            setattr(project, key, value)
    record_event(
        session,
        actor_id=actor.user_id,
        action="project.update",
        object_type="project",
        object_id=project.id,
        organization_id=project.owner_org_id,
        project_id=project.id,
        before=before,
        after=project_settings(project),
    )
    return project


def grant_vendor(session: Session, view: ProjectView, actor: Actor, organization_id: int) -> None:
    view.require(ProjectAction.MANAGE)
    org = session.get(Organization, organization_id)
    if org is None or org.kind != OrgKind.VENDOR.value:
        raise NotFound(f"no vendor organisation {organization_id}", field="organization_id")
    if organization_id in view.vendor_ids:
        raise Conflict("this vendor already has access", field="organization_id")
    session.add(ProjectAccess(project_id=view.project.id, organization_id=organization_id))
    record_event(
        session,
        actor_id=actor.user_id,
        action="project.grant_vendor",
        object_type="project",
        object_id=view.project.id,
        project_id=view.project.id,
        organization_id=view.project.owner_org_id,
        after={"vendor_id": organization_id},
    )


def revoke_vendor(session: Session, view: ProjectView, actor: Actor, organization_id: int) -> None:
    view.require(ProjectAction.MANAGE)
    row = session.get(ProjectAccess, (view.project.id, organization_id))
    if row is None:
        raise NotFound("this vendor has no access", field="organization_id")
    session.delete(row)
    record_event(
        session,
        actor_id=actor.user_id,
        action="project.revoke_vendor",
        object_type="project",
        object_id=view.project.id,
        project_id=view.project.id,
        organization_id=view.project.owner_org_id,
        before={"vendor_id": organization_id},
    )


def visible_projects_query(actor: Actor) -> Any:
    query = select(Project)
    if sees_all_projects(actor):
        return query
    orgs = actor.organization_ids or frozenset({-1})
    granted = select(ProjectAccess.project_id).where(ProjectAccess.organization_id.in_(orgs))
    return query.where(or_(Project.owner_org_id.in_(orgs), Project.id.in_(granted)))


def list_projects(
    session: Session, actor: Actor, *, after_id: int | None = None, limit: int = 50
) -> list[Project]:
    """Keyset page of visible projects, by id."""
    query = visible_projects_query(actor).order_by(Project.id).limit(limit)
    if after_id is not None:
        query = query.where(Project.id > after_id)
    return list(session.execute(query).scalars())


@dataclass(frozen=True)
class ProjectCounts:
    items: int
    annotations: int
    by_stage: dict[str, int]
    complete: int


def project_counts(session: Session, project: Project) -> ProjectCounts:
    by_stage = dict(
        session.execute(
            select(Item.stage, func.count())
            .where(Item.project_id == project.id, Item.stage != Stage.GOLD.value)
            .group_by(Item.stage)
        ).all()
    )
    annotations = session.execute(
        select(func.count()).select_from(Annotation).where(Annotation.project_id == project.id)
    ).scalar_one()
    complete = session.execute(
        select(func.count())
        .select_from(Item)
        .where(
            Item.project_id == project.id,
            Item.n_done >= project.overlap,
            Item.stage != Stage.GOLD.value,
        )
    ).scalar_one()
    return ProjectCounts(
        items=sum(by_stage.values()),
        annotations=annotations,
        by_stage=by_stage,
        complete=complete,
    )
