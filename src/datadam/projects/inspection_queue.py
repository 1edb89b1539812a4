"""The inspector's queue: submitted work to look at, one annotation at a time.

Rules, in the order they are applied:

1. The caller needs `inspect` on the project (owner-side admins, managers, inspectors, and
   vendor-side ones on a project granted to their vendor).
2. Nobody sees their own work (conflict of interest): annotations by the caller are never in
   their queue, and opening one by id is a 404 like any annotation outside the queue.
3. Vendor-side inspectors see only work by members of their own vendor organisations; a
   vendor must not judge its competitor's crowd. Owner-side inspectors see everybody's.
4. `awaiting_inspection()` decides which work still needs a look. Today that is every
   submitted annotation; the accept/reject workflow will narrow it (e.g. "no verdict yet")
   in that one place, and the queue, its counts and its navigation follow.

The queue runs item by item (several workers' answers to one item sit next to each other),
ordered by (item id, annotation id). Moving to the previous or next entry is a keyset lookup
on the `(project_id, item_id)` index, however long the queue is. Workers appear only under
their per-project pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, true, tuple_
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.domain.enums import Role
from datadam.errors import NotFound
from datadam.exporting.jsonl import worker_pseudonym
from datadam.projects.service import ProjectView
from datadam.storage.tables import Annotation, Item, Membership

_OWNER_SIDE_INSPECTORS = (Role.ADMIN, Role.MANAGER, Role.INSPECTOR)
_VENDOR_SIDE_INSPECTORS = (Role.ADMIN, Role.MANAGER, Role.INSPECTOR)
_ORDER = (Annotation.item_id, Annotation.id)


@dataclass(frozen=True)
class InspectionEntry:
    """One piece of submitted work, as the inspector sees it."""

    annotation_id: int
    item_id: int
    external_id: str | None
    stage: str
    payload: dict[str, Any]
    result: dict[str, Any]
    worker: str  # per-project pseudonym
    schema_version: int
    submitted_at: datetime
    active_seconds: float
    # Filled by the accept/reject workflow when it lands (None: no verdict yet).
    verdict: str | None = None


@dataclass(frozen=True)
class QueuePosition:
    """An entry with its neighbours: what the page needs to render and navigate."""

    entry: InspectionEntry
    position: int  # 1-based place in the queue
    total: int
    previous_id: int | None
    next_id: int | None


def awaiting_inspection() -> ColumnElement[bool]:
    """Which annotations still need a look: the extension point for the verdict workflow."""
    return true()


def queue_condition(view: ProjectView, actor: Actor) -> ColumnElement[bool]:
    """The WHERE clause of `actor`'s queue on this project (rules 1-4 of the module doc)."""
    view.require(ProjectAction.INSPECT)
    project = view.project
    clauses: list[ColumnElement[bool]] = [
        Annotation.project_id == project.id,
        Annotation.worker_id != actor.user_id,
        awaiting_inspection(),
    ]
    if not actor.has_role(project.owner_org_id, *_OWNER_SIDE_INSPECTORS):
        own_vendors = [
            org_id for org_id in view.vendor_ids if actor.has_role(org_id, *_VENDOR_SIDE_INSPECTORS)
        ]
        crew = select(Membership.user_id).where(
            Membership.organization_id.in_(own_vendors or [-1]),
            Membership.role == Role.WORKER.value,
        )
        clauses.append(Annotation.worker_id.in_(crew))
    return and_(*clauses)


def queue_size(session: Session, view: ProjectView, actor: Actor) -> int:
    where = queue_condition(view, actor)
    return session.execute(select(func.count()).select_from(Annotation).where(where)).scalar_one()


def first_in_queue(session: Session, view: ProjectView, actor: Actor) -> int | None:
    """The annotation id to start with (on the first item), or None for an empty queue."""
    where = queue_condition(view, actor)
    return session.execute(
        select(Annotation.id).where(where).order_by(*_ORDER).limit(1)
    ).scalar_one_or_none()


def get_queue_position(
    session: Session, view: ProjectView, actor: Actor, annotation_id: int, *, secret: str
) -> QueuePosition:
    """One entry of the queue with its neighbours; NotFound if it is not in `actor`'s queue."""
    where = queue_condition(view, actor)
    row = session.execute(
        select(Annotation, Item)
        .join(Item, Item.id == Annotation.item_id)
        .where(where, Annotation.id == annotation_id)
    ).first()
    if row is None:
        raise NotFound(f"no submitted work {annotation_id} in your queue", field="annotation_id")
    annotation, item = row
    key = tuple_(Annotation.item_id, Annotation.id)
    here = tuple_(item.id, annotation.id)
    previous_id = session.execute(
        select(Annotation.id)
        .where(where, key < here)
        .order_by(*(c.desc() for c in _ORDER))
        .limit(1)
    ).scalar_one_or_none()
    next_id = session.execute(
        select(Annotation.id).where(where, key > here).order_by(*_ORDER).limit(1)
    ).scalar_one_or_none()
    before = session.execute(
        select(func.count()).select_from(Annotation).where(where, key < here)
    ).scalar_one()
    entry = InspectionEntry(
        annotation_id=annotation.id,
        item_id=item.id,
        external_id=item.external_id,
        stage=item.stage,
        payload=item.payload,
        result=annotation.result,
        worker=worker_pseudonym(secret, view.project.id, annotation.worker_id),
        schema_version=annotation.schema_version,
        submitted_at=annotation.submitted_at,
        active_seconds=annotation.active_seconds,
    )
    return QueuePosition(
        entry=entry,
        position=before + 1,
        total=queue_size(session, view, actor),
        previous_id=previous_id,
        next_id=next_id,
    )
