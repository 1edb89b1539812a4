"""The inspector's queue: submitted work to look at, one annotation at a time.

Rules, in the order they are applied:

1. The caller needs `inspect` on the project (owner-side admins, managers, inspectors, and
   vendor-side ones on a project granted to their vendor).
2. Nobody sees their own work (conflict of interest): annotations by the caller are never in
   their queue; the inspection page and the verdict API refuse one's own work by id with a
   plain 403 `own_work` (see `inspection.workflow.record_verdict`).
3. Vendor-side inspectors see only work by members of their own vendor organisations; a
   vendor must not judge its competitor's crowd. Owner-side inspectors see everybody's.
4. Only work waiting at a stage the caller may inspect is in the queue (`awaiting_inspection`):
   each stage names its side (the vendors' inspectors, the owner's, or either), and work moves
   to stage k+1 only once accepted (or corrected) at stage k. A submitted annotation with
   neither an `inspection_state` row nor any verdict waits at stage 1 (queued when that stage
   inspects everything, pooled for a lot when it samples); verdicts recorded without the
   workflow (e.g. imported history) count as judged. Nobody sees work they reworked or
   corrected themselves either.

The queue runs item by item (several workers' answers to one item sit next to each other),
ordered by (item id, annotation id). Moving to the previous or next entry is a keyset lookup
on the `(project_id, item_id)` index, however long the queue is. Workers appear only under
their per-project pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, tuple_
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.domain.enums import Role
from datadam.errors import NotFound
from datadam.exporting.jsonl import worker_pseudonym
from datadam.inspection.config import StageConfig, list_stages
from datadam.projects.service import ProjectView
from datadam.storage.tables import (
    Annotation,
    AnnotationVersion,
    InspectionState,
    InspectionVerdict,
    Item,
    Membership,
)

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
    verdict: str | None = None
    inspection_stage: int = 1
    stage_name: str = ""
    lot_id: int | None = None


@dataclass(frozen=True)
class QueuePosition:
    """An entry with its neighbours: what the page needs to render and navigate."""

    entry: InspectionEntry
    position: int  # 1-based place in the queue
    total: int
    previous_id: int | None
    next_id: int | None


def awaiting_inspection(stages: list[StageConfig], positions: set[int]) -> ColumnElement[bool]:
    """Annotations queued at one of `positions` (stage numbers the caller may inspect)."""
    if not positions:
        return false()
    state = InspectionState
    queued = exists().where(
        state.annotation_id == Annotation.id,
        state.status == "queued",
        state.stage.in_(sorted(positions)),
    )
    if 1 in positions and stages[0].mode == "all":
        fresh = and_(
            ~exists().where(state.annotation_id == Annotation.id),
            ~exists().where(InspectionVerdict.annotation_id == Annotation.id),
        )
        return or_(queued, fresh)
    return queued


def _positions(stages: list[StageConfig], *sides: str) -> set[int]:
    return {s.position for s in stages if s.inspector_side in sides}


def queue_condition(session: Session, view: ProjectView, actor: Actor) -> ColumnElement[bool]:
    """The WHERE clause of `actor`'s queue on this project (rules 1-4 of the module doc)."""
    view.require(ProjectAction.INSPECT)
    project = view.project
    stages = list_stages(session, project.id)
    own_versions = exists().where(
        AnnotationVersion.annotation_id == Annotation.id,
        AnnotationVersion.author_id == actor.user_id,
    )
    clauses: list[ColumnElement[bool]] = [
        Annotation.project_id == project.id,
        Annotation.worker_id != actor.user_id,
        ~own_versions,
    ]
    sides: list[ColumnElement[bool]] = []
    if actor.has_role(project.owner_org_id, *_OWNER_SIDE_INSPECTORS):
        sides.append(awaiting_inspection(stages, _positions(stages, "owner", "any")))
    own_vendors = [
        org_id for org_id in view.vendor_ids if actor.has_role(org_id, *_VENDOR_SIDE_INSPECTORS)
    ]
    if own_vendors:
        crew = select(Membership.user_id).where(
            Membership.organization_id.in_(own_vendors),
            Membership.role == Role.WORKER.value,
        )
        vendor_positions = _positions(stages, "vendor", "any")
        if sides:  # owner-side too: 'any' stages are already covered
            vendor_positions -= _positions(stages, "any")
        sides.append(
            and_(awaiting_inspection(stages, vendor_positions), Annotation.worker_id.in_(crew))
        )
    clauses.append(or_(*sides) if sides else false())
    return and_(*clauses)


def queue_size(session: Session, view: ProjectView, actor: Actor) -> int:
    where = queue_condition(session, view, actor)
    return session.execute(select(func.count()).select_from(Annotation).where(where)).scalar_one()


def first_in_queue(session: Session, view: ProjectView, actor: Actor) -> int | None:
    """The annotation id to start with (on the first item), or None for an empty queue."""
    where = queue_condition(session, view, actor)
    return session.execute(
        select(Annotation.id).where(where).order_by(*_ORDER).limit(1)
    ).scalar_one_or_none()


def get_queue_position(
    session: Session, view: ProjectView, actor: Actor, annotation_id: int, *, secret: str
) -> QueuePosition:
    """One entry of the queue with its neighbours; NotFound if it is not in `actor`'s queue."""
    where = queue_condition(session, view, actor)
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
    state = session.get(InspectionState, annotation.id)
    stages = list_stages(session, view.project.id)
    at_stage = state.stage if state is not None else 1
    names = {s.position: s.name for s in stages}
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
        inspection_stage=at_stage,
        stage_name=names.get(at_stage, ""),
        lot_id=state.lot_id if state is not None else None,
    )
    return QueuePosition(
        entry=entry,
        position=before + 1,
        total=queue_size(session, view, actor),
        previous_id=previous_id,
        next_id=next_id,
    )
