"""Inspectors' own accuracy, measured on work over gold items hidden in their queues.

A manager seeds a known-correct or known-wrong answer on a gold item (`seed_gold_work`); it
sits in inspectors' queues like any other submitted work (workers' answers to gold items do
too). The truth of a piece of work is `gold_scoring.is_correct(schema, result, answer)` on the
version the inspector saw; a verdict agrees with it when it accepts correct work or rejects
(or corrects) wrong work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.audit import record_event
from datadam.errors import Conflict, InputError, NotFound
from datadam.inspection.workflow import GOLD_STAGE
from datadam.projects.service import ProjectView
from datadam.quality.gold_scoring import is_correct
from datadam.schema import parse_schema, validate_result
from datadam.storage.tables import (
    Annotation,
    AnnotationVersion,
    Assignment,
    GoldAnswer,
    InspectionVerdict,
    Item,
)
from datadam.storage.types import utcnow


@dataclass(frozen=True)
class InspectorGoldScore:
    inspector_id: int
    judged: int
    agreed: int

    @property
    def accuracy(self) -> float | None:
        return self.agreed / self.judged if self.judged else None


def seed_gold_work(
    session: Session, view: ProjectView, actor: Actor, item_id: int, *, result: Any
) -> int:
    """Put a known answer (right or wrong) on a gold item as submitted work by `actor`, for
    inspectors to judge. Returns the annotation id. `actor` never sees it in their own queue."""
    view.require(ProjectAction.MANAGE)
    item = session.get(Item, item_id)
    gold = session.get(GoldAnswer, item_id)
    if item is None or item.project_id != view.project.id or gold is None:
        raise NotFound(f"no gold item {item_id} in this project", field="item_id")
    if item.stage != GOLD_STAGE:
        raise InputError("the item is not a gold item", field="item_id")
    if not isinstance(result, dict):
        raise InputError("the result must be an object", field="result")
    clean = validate_result(parse_schema(view.project.schema), result, item.payload)
    taken = session.execute(
        select(Annotation.id).where(
            Annotation.item_id == item_id, Annotation.worker_id == actor.user_id
        )
    ).first()
    if taken is not None:
        raise Conflict("you seeded work on this item already", code="already_seeded")
    now = utcnow()
    assignment = Assignment(
        project_id=view.project.id,
        item_id=item_id,
        worker_id=actor.user_id,
        status="submitted",
        leased_at=now,
        expires_at=now + timedelta(seconds=1),
        finished_at=now,
    )
    session.add(assignment)
    session.flush()
    annotation = Annotation(
        project_id=view.project.id,
        item_id=item_id,
        assignment_id=assignment.id,
        worker_id=actor.user_id,
        result=clean,
        schema_version=view.project.schema_version,
        client_submission_id=f"gold-seed-{uuid.uuid4().hex}",
        started_at=now,
        submitted_at=now,
        active_seconds=0.0,
    )
    session.add(annotation)
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="inspection.gold_seeded",
        object_type="annotation",
        object_id=annotation.id,
        organization_id=view.project.owner_org_id,
        project_id=view.project.id,
        after={"item_id": item_id},
    )
    return annotation.id


def _judged_result(session: Session, verdict: InspectionVerdict, current: dict[str, Any]) -> Any:
    row = session.execute(
        select(AnnotationVersion.result).where(
            AnnotationVersion.annotation_id == verdict.annotation_id,
            AnnotationVersion.version == verdict.version,
        )
    ).first()
    return row[0] if row is not None else current


def inspector_gold_scores(session: Session, view: ProjectView) -> list[InspectorGoldScore]:
    """Per inspector on this project: verdicts on gold work and how many agree with the truth."""
    view.require(ProjectAction.MANAGE)
    schema = view.project.schema
    rows = session.execute(
        select(InspectionVerdict, GoldAnswer.answer, Annotation.result)
        .join(GoldAnswer, GoldAnswer.item_id == InspectionVerdict.item_id)
        .join(Annotation, Annotation.id == InspectionVerdict.annotation_id)
        .where(InspectionVerdict.project_id == view.project.id, GoldAnswer.purpose == "gold")
        .order_by(InspectionVerdict.inspector_id, InspectionVerdict.id)
    ).all()
    tally: dict[int, list[int]] = {}
    for verdict, answer, current in rows:
        truth = is_correct(schema, _judged_result(session, verdict, current), answer)
        agreed = (verdict.outcome == "accept") == truth
        counts = tally.setdefault(verdict.inspector_id, [0, 0])
        counts[0] += 1
        counts[1] += int(agreed)
    return [InspectorGoldScore(k, v[0], v[1]) for k, v in sorted(tally.items())]
