"""What an actor may do with a project, decided from their memberships alone.

A project is visible to its owner institution, to the vendor organisations it grants, and to the
program office and quality agency (oversight is read-only). Everyone else gets 404, never 403,
so that the existence of another organisation's project is not revealed.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from datadam.access.actor import Actor
from datadam.domain.enums import OrgKind, Role


class ProjectAction(StrEnum):
    VIEW = "view"
    MANAGE = "manage"  # settings, imports, vendor grants
    WORK = "work"  # next task, submit, skip
    INSPECT = "inspect"  # read submitted work
    EXPORT = "export"


_OWNER = {
    Role.ADMIN: {
        ProjectAction.VIEW,
        ProjectAction.MANAGE,
        ProjectAction.INSPECT,
        ProjectAction.EXPORT,
    },
    Role.MANAGER: {
        ProjectAction.VIEW,
        ProjectAction.MANAGE,
        ProjectAction.INSPECT,
        ProjectAction.EXPORT,
    },
    Role.INSPECTOR: {ProjectAction.VIEW, ProjectAction.INSPECT},
    Role.WORKER: {ProjectAction.VIEW, ProjectAction.WORK},
    Role.AUDITOR: {ProjectAction.VIEW, ProjectAction.EXPORT},
}
_VENDOR = {
    Role.ADMIN: {ProjectAction.VIEW, ProjectAction.INSPECT},
    Role.MANAGER: {ProjectAction.VIEW, ProjectAction.INSPECT},
    Role.INSPECTOR: {ProjectAction.VIEW, ProjectAction.INSPECT},
    Role.WORKER: {ProjectAction.VIEW, ProjectAction.WORK},
    Role.AUDITOR: {ProjectAction.VIEW},
}
_OVERSIGHT = {ProjectAction.VIEW, ProjectAction.EXPORT}


def project_actions(
    actor: Actor, *, owner_org_id: int, granted_org_ids: Iterable[int]
) -> frozenset[ProjectAction]:
    """Every action the actor may take on a project with this owner and these vendor grants."""
    allowed: set[ProjectAction] = set()
    for role in actor.roles_in(owner_org_id):
        allowed |= _OWNER[role]
    for org_id in granted_org_ids:
        for role in actor.roles_in(org_id):
            allowed |= _VENDOR[role]
    if actor.is_in_kind(OrgKind.PROGRAM_OFFICE) or actor.is_in_kind(OrgKind.QUALITY_AGENCY):
        allowed |= _OVERSIGHT
    return frozenset(allowed)


def sees_all_projects(actor: Actor) -> bool:
    """The program office and the quality agency oversee every project."""
    return actor.is_in_kind(OrgKind.PROGRAM_OFFICE) or actor.is_in_kind(OrgKind.QUALITY_AGENCY)


def can_create_project_in(actor: Actor, org_id: int, org_kind: OrgKind) -> bool:
    """Institutions own datasets; their admins and managers open projects."""
    return org_kind == OrgKind.INSTITUTION and actor.has_role(org_id, Role.ADMIN, Role.MANAGER)


def can_manage_members(actor: Actor, org_id: int) -> bool:
    return actor.has_role(org_id, Role.ADMIN)


def can_create_organizations(actor: Actor) -> bool:
    return actor.is_in_kind(OrgKind.PROGRAM_OFFICE, Role.ADMIN)
