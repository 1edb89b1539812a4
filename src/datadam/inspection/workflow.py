"""Verdicts, corrections, rework and appeals: what happens to a piece of work once inspected.

- **Accept** moves the work to the next stage (queued, or pooled for a lot when that stage
  samples), or marks it done after the last stage.
- **Correct** stores the inspector's result as a new version (the original stays in
  `annotation_version`), counts as nonconforming in a lot, and moves on like an accept.
- **Reject** needs a reason from the project's list; the work goes back for rework to its own
  worker or to another one (project setting `rework_to`). The reworked result is a new version
  and goes back into the queue of the stage that rejected it. Rework time is paid
  (`worked_time` source 'rework').
- Nobody judges their own work: the check is here, not only in the queue's WHERE clause.
- The worker may appeal a rejection; a manager upholds it (the rejection is withdrawn and, if
  the work is still waiting for rework, it moves on as accepted) or denies it.
- Work on a gold item (`gold_answer`) is judged like any other, so inspectors cannot tell it
  apart, but it never goes to rework or into lots: it only measures the inspector.

`annotation.result` always holds the latest version, so export and metrics need no join.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.audit import record_event
from datadam.domain.enums import Role
from datadam.errors import Conflict, InputError, NotAllowed, NotFound
from datadam.inspection import config
from datadam.inspection.config import StageConfig
from datadam.projects import inspection_queue
from datadam.projects.service import ProjectView, get_project_for
from datadam.schema import parse_schema, validate_result
from datadam.storage.tables import (
    Annotation,
    AnnotationVersion,
    InspectionState,
    InspectionVerdict,
    Item,
    Membership,
    Project,
    WorkedTime,
)
from datadam.storage.types import utcnow

OUTCOMES = ("accept", "reject", "correct")
MAX_COMMENT = 2000
GOLD_STAGE = "gold"


@dataclass(frozen=True)
class VerdictOutcome:
    verdict_id: int
    annotation_id: int
    status: str  # the annotation's workflow status after the verdict
    stage: int
    version: int
    lot_decided: str | None = None  # 'accepted' / 'rejected' when this verdict decided a lot


def _state_for_update(session: Session, annotation: Annotation) -> InspectionState:
    """The annotation's workflow row, locked; created (waiting at stage 1) on first use. Two
    inspectors judging the same fresh work at once: the second gets a Conflict, not a 500."""
    state = session.get(InspectionState, annotation.id, with_for_update=True)
    if state is None:
        state = InspectionState(
            annotation_id=annotation.id,
            project_id=annotation.project_id,
            stage=1,
            status="queued",
            version=1,
        )
        try:
            with session.begin_nested():
                session.add(state)
        except IntegrityError:
            raise Conflict("this work was judged a moment ago", code="not_waiting") from None
    return state


def ensure_original_version(session: Session, annotation: Annotation) -> int:
    """Keep the worker's original as version 1 before anything replaces it; the latest number."""
    latest = session.execute(
        select(func.max(AnnotationVersion.version)).where(
            AnnotationVersion.annotation_id == annotation.id
        )
    ).scalar_one()
    if latest is None:
        session.add(
            AnnotationVersion(
                annotation_id=annotation.id,
                project_id=annotation.project_id,
                version=1,
                result=annotation.result,
                source="original",
                author_id=annotation.worker_id,
                created_at=annotation.submitted_at,
            )
        )
        session.flush()
        return 1
    return int(latest)


def add_version(
    session: Session, annotation: Annotation, result: dict[str, Any], *, source: str, author_id: int
) -> int:
    """Store `result` as the next version and make it the annotation's current result."""
    number = ensure_original_version(session, annotation) + 1
    session.add(
        AnnotationVersion(
            annotation_id=annotation.id,
            project_id=annotation.project_id,
            version=number,
            result=result,
            source=source,
            author_id=author_id,
        )
    )
    annotation.result = result
    session.flush()
    return number


def list_versions(session: Session, annotation_id: int) -> list[AnnotationVersion]:
    return list(
        session.execute(
            select(AnnotationVersion)
            .where(AnnotationVersion.annotation_id == annotation_id)
            .order_by(AnnotationVersion.version)
        ).scalars()
    )


def _validated(project: Project, result: Any, payload: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise InputError("the corrected result must be an object", field="result")
    return validate_result(parse_schema(project.schema), result, payload)


def advance(state: InspectionState, stages: list[StageConfig]) -> None:
    """Move accepted work to the next stage, or mark it done after the last."""
    following = [s for s in stages if s.position > state.stage]
    state.lot_id = None
    state.rework_worker_id = None
    state.returned_at = None
    state.updated_at = utcnow()
    if not following:
        state.status = "done"
        return
    state.stage = following[0].position
    state.status = "pooled" if following[0].mode == "sample" else "queued"


def pick_rework_worker(session: Session, annotation: Annotation, rework_to: str) -> int:
    """The worker who reworks a rejected annotation: its own worker for 'same'; for 'other',
    a fellow worker of the same organisations who has not answered this item, with the fewest
    open reworks (ties by id), falling back to the original worker when there is none."""
    if rework_to != "other":
        return annotation.worker_id
    orgs = select(Membership.organization_id).where(
        Membership.user_id == annotation.worker_id, Membership.role == Role.WORKER.value
    )
    answered = select(Annotation.worker_id).where(Annotation.item_id == annotation.item_id)
    open_reworks = (
        select(func.count())
        .select_from(InspectionState)
        .where(
            InspectionState.rework_worker_id == Membership.user_id,
            InspectionState.status == "rework",
        )
        .scalar_subquery()
    )
    row = session.execute(
        select(Membership.user_id)
        .where(
            Membership.organization_id.in_(orgs),
            Membership.role == Role.WORKER.value,
            Membership.user_id != annotation.worker_id,
            Membership.user_id.not_in(answered),
        )
        .order_by(open_reworks, Membership.user_id)
        .limit(1)
    ).first()
    return int(row[0]) if row is not None else annotation.worker_id


def send_to_rework(
    session: Session, state: InspectionState, annotation: Annotation, verdict_id: int | None
) -> None:
    rework_to = config.get_settings(session, annotation.project_id).rework_to
    state.status = "rework"
    state.rework_worker_id = pick_rework_worker(session, annotation, rework_to)
    state.verdict_id = verdict_id
    state.returned_at = utcnow()
    state.updated_at = state.returned_at


def _is_gold(item: Item) -> bool:
    return item.stage == GOLD_STAGE


def record_verdict(
    session: Session,
    view: ProjectView,
    actor: Actor,
    annotation_id: int,
    *,
    outcome: str,
    reason_code: str | None = None,
    comment: str = "",
    corrected: Any = None,
) -> VerdictOutcome:
    """Judge one piece of work waiting in `actor`'s queue (see the module doc for each outcome)."""
    view.require(ProjectAction.INSPECT)
    project = view.project
    annotation = session.get(Annotation, annotation_id)
    if annotation is None or annotation.project_id != project.id:
        raise NotFound(f"no submitted work {annotation_id}", field="annotation_id")
    if annotation.worker_id == actor.user_id:
        raise NotAllowed("you may not inspect your own work", code="own_work")
    authored = session.execute(
        select(AnnotationVersion.id).where(
            AnnotationVersion.annotation_id == annotation.id,
            AnnotationVersion.author_id == actor.user_id,
        )
    ).first()
    if authored is not None:
        raise NotAllowed(
            "you may not inspect work you reworked or corrected yourself", code="own_work"
        )
    if outcome not in OUTCOMES:
        raise InputError("outcome must be accept, reject or correct", field="outcome")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InputError(f"a comment has at most {MAX_COMMENT} characters", field="comment")
    where = inspection_queue.queue_condition(session, view, actor)
    if (
        session.execute(select(Annotation.id).where(where, Annotation.id == annotation.id)).first()
        is None
    ):
        raise Conflict(
            "this work is not waiting for you: it was judged already or is not at your stage",
            code="not_waiting",
        )
    item = session.get(Item, annotation.item_id)
    assert item is not None
    reason = None
    if outcome == "reject":
        reason = config.reason_by_code(session, project.id, reason_code)
    elif reason_code:
        raise InputError("only a rejection takes a reason", field="reason_code")
    if outcome == "correct":
        clean = _validated(project, corrected, item.payload)
        if clean == annotation.result:
            raise InputError("the correction changes nothing; accept instead", field="result")
    state = _state_for_update(session, annotation)
    if state.status != "queued":
        raise Conflict("this work was judged a moment ago", code="not_waiting")
    judged_version = state.version
    verdict = InspectionVerdict(
        project_id=project.id,
        annotation_id=annotation.id,
        item_id=annotation.item_id,
        worker_id=annotation.worker_id,
        inspector_id=actor.user_id,
        stage=state.stage,
        version=judged_version,
        outcome=outcome,
        reason_code=reason.code if reason else None,
        bad_faith=bool(reason and reason.bad_faith),
        comment=comment,
        lot_id=state.lot_id,
        appeal_status="none",
    )
    session.add(verdict)
    session.flush()
    if outcome == "correct":
        state.version = add_version(
            session, annotation, clean, source="correction", author_id=actor.user_id
        )
    stages = config.list_stages(session, project.id)
    lot_id = state.lot_id
    if _is_gold(item):
        state.status, state.lot_id, state.updated_at = "done", None, utcnow()
    elif outcome == "reject":
        send_to_rework(session, state, annotation, verdict.id)
    else:
        advance(state, stages)
    decided = None
    if lot_id is not None:
        from datadam.inspection import lots  # lots imports this module

        decided = lots.count_sampled_verdict(session, project, lot_id, annotation.id, outcome)
    record_event(
        session,
        actor_id=actor.user_id,
        action=f"inspection.{outcome}",
        object_type="annotation",
        object_id=annotation.id,
        organization_id=project.owner_org_id,
        project_id=project.id,
        before={"stage": verdict.stage, "version": judged_version},
        after={
            "verdict_id": verdict.id,
            "status": state.status,
            "stage": state.stage,
            "version": state.version,
            "reason_code": verdict.reason_code,
            "rework_worker_id": state.rework_worker_id,
        },
    )
    return VerdictOutcome(
        verdict.id, annotation.id, state.status, state.stage, state.version, decided
    )


# ------------------------------------------------------------------ the worker's side


@dataclass(frozen=True)
class ReworkEntry:
    annotation_id: int
    project_id: int
    project_name: str
    item_id: int
    payload: dict[str, Any]
    result: dict[str, Any]
    schema: dict[str, Any]
    stage: int
    reason_code: str | None
    reason_label: str | None
    comment: str
    returned_at: datetime | None
    verdict_id: int | None
    appeal_status: str
    own_work: bool  # False when this is another worker's rejected work handed to the caller


def _rework_entry(
    session: Session, actor: Actor, state: InspectionState, annotation: Annotation
) -> ReworkEntry:
    project = session.get(Project, state.project_id)
    item = session.get(Item, annotation.item_id)
    assert project is not None and item is not None
    verdict = session.get(InspectionVerdict, state.verdict_id) if state.verdict_id else None
    labels = {r.code: r.label for r in config.list_reasons(session, project.id)}
    return ReworkEntry(
        annotation_id=annotation.id,
        project_id=project.id,
        project_name=project.name,
        item_id=item.id,
        payload=item.payload,
        result=annotation.result,
        schema=project.schema,
        stage=state.stage,
        reason_code=verdict.reason_code if verdict else None,
        reason_label=labels.get(verdict.reason_code or "", verdict.reason_code)
        if verdict
        else None,
        comment=verdict.comment if verdict else "",
        returned_at=state.returned_at,
        verdict_id=verdict.id if verdict else None,
        appeal_status=verdict.appeal_status if verdict else "none",
        own_work=annotation.worker_id == actor.user_id,
    )


def list_rework(session: Session, actor: Actor, *, limit: int = 200) -> list[ReworkEntry]:
    """Work returned to `actor` for rework, oldest first, with the inspector's reason."""
    rows = session.execute(
        select(InspectionState, Annotation)
        .join(Annotation, Annotation.id == InspectionState.annotation_id)
        .where(
            InspectionState.rework_worker_id == actor.user_id, InspectionState.status == "rework"
        )
        .order_by(InspectionState.returned_at, InspectionState.annotation_id)
        .limit(limit)
    ).all()
    entries = []
    for state, annotation in rows:
        view = get_project_for(session, actor, state.project_id)
        if ProjectAction.WORK in view.actions:
            entries.append(_rework_entry(session, actor, state, annotation))
    return entries


def _rework_state(
    session: Session, actor: Actor, annotation_id: int, *, lock: bool
) -> tuple[InspectionState, Annotation]:
    state = session.get(InspectionState, annotation_id, with_for_update=lock)
    annotation = session.get(Annotation, annotation_id)
    if (
        state is None
        or annotation is None
        or state.status != "rework"
        or state.rework_worker_id != actor.user_id
    ):
        raise NotFound(f"no work {annotation_id} waiting for your rework", field="annotation_id")
    get_project_for(session, actor, state.project_id).require(ProjectAction.WORK)
    return state, annotation


def get_rework(session: Session, actor: Actor, annotation_id: int) -> ReworkEntry:
    state, annotation = _rework_state(session, actor, annotation_id, lock=False)
    return _rework_entry(session, actor, state, annotation)


def resubmit_rework(
    session: Session,
    actor: Actor,
    annotation_id: int,
    *,
    result: Any,
    active_seconds: float = 0.0,
) -> int:
    """Store the reworked result as a new version and send it back to the stage that rejected
    it. Paid time is the worker's reported active time, capped by the server's clock since the
    work was returned (never more than that). Returns the new version number."""
    state, annotation = _rework_state(session, actor, annotation_id, lock=True)
    project = session.get(Project, state.project_id)
    item = session.get(Item, annotation.item_id)
    assert project is not None and item is not None
    if not isinstance(result, dict):
        raise InputError("the result must be an object", field="result")
    clean = validate_result(parse_schema(project.schema), result, item.payload)
    version = add_version(session, annotation, clean, source="rework", author_id=actor.user_id)
    now = utcnow()
    try:
        reported = float(active_seconds)
    except (TypeError, ValueError):
        raise InputError("active_seconds must be a number", field="active_seconds") from None
    elapsed = (now - state.returned_at) if state.returned_at else timedelta(0)
    seconds = max(0.0, min(reported, elapsed.total_seconds()))
    duration_us = int(seconds * 1_000_000)
    if duration_us > 0:
        session.add(
            WorkedTime(
                worker_id=actor.user_id,
                project_id=project.id,
                source="rework",
                duration_us=duration_us,
                work_ref=f"rework:{annotation.id}:v{version}",
                recorded_at=now,
                recorded_by=actor.user_id,
            )
        )
    state.version = version
    state.status = "queued"
    state.rework_worker_id = None
    state.returned_at = None
    state.updated_at = now
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="inspection.rework",
        object_type="annotation",
        object_id=annotation.id,
        organization_id=project.owner_org_id,
        project_id=project.id,
        before={"version": version - 1},
        after={"version": version, "stage": state.stage, "worked_us": duration_us},
    )
    return version


# ------------------------------------------------------------------ appeals


def list_rejections(session: Session, actor: Actor, *, limit: int = 200) -> list[InspectionVerdict]:
    """Rejections of `actor`'s own work, newest first (the worker sees every reason)."""
    return list(
        session.execute(
            select(InspectionVerdict)
            .where(
                InspectionVerdict.worker_id == actor.user_id, InspectionVerdict.outcome == "reject"
            )
            .order_by(InspectionVerdict.at.desc(), InspectionVerdict.id.desc())
            .limit(limit)
        ).scalars()
    )


def appeal_rejection(
    session: Session, actor: Actor, verdict_id: int, *, text: str
) -> InspectionVerdict:
    verdict = session.get(InspectionVerdict, verdict_id, with_for_update=True)
    if verdict is None or verdict.worker_id != actor.user_id:
        raise NotFound(f"no rejection {verdict_id} of your work", field="verdict_id")
    if verdict.outcome != "reject":
        raise Conflict("only a rejection can be appealed", code="not_rejected")
    if verdict.appeal_status != "none":
        raise Conflict("this rejection was appealed already", code="appealed")
    text = (text or "").strip()
    if not text or len(text) > MAX_COMMENT:
        raise InputError(f"say why, in 1 to {MAX_COMMENT} characters", field="text")
    verdict.appeal_status = "open"
    verdict.appeal_text = text
    project = session.get(Project, verdict.project_id)
    assert project is not None
    record_event(
        session,
        actor_id=actor.user_id,
        action="inspection.appeal",
        object_type="inspection_verdict",
        object_id=verdict.id,
        organization_id=project.owner_org_id,
        project_id=project.id,
        before={"appeal_status": "none"},
        after={"appeal_status": "open", "appeal_text": text},
    )
    return verdict


def list_open_appeals(session: Session, view: ProjectView) -> list[InspectionVerdict]:
    view.require(ProjectAction.MANAGE)
    return list(
        session.execute(
            select(InspectionVerdict)
            .where(
                InspectionVerdict.project_id == view.project.id,
                InspectionVerdict.appeal_status == "open",
            )
            .order_by(InspectionVerdict.at, InspectionVerdict.id)
        ).scalars()
    )


def resolve_appeal(
    session: Session, view: ProjectView, actor: Actor, verdict_id: int, *, decision: str
) -> InspectionVerdict:
    """'upheld': the worker was right, the rejection no longer counts (and work still waiting
    for rework moves on as accepted); 'denied': the rejection stands."""
    view.require(ProjectAction.MANAGE)
    if decision not in ("upheld", "denied"):
        raise InputError("decide 'upheld' or 'denied'", field="decision")
    verdict = session.get(InspectionVerdict, verdict_id, with_for_update=True)
    if verdict is None or verdict.project_id != view.project.id:
        raise NotFound(f"no verdict {verdict_id}", field="verdict_id")
    if verdict.appeal_status != "open":
        raise Conflict("this appeal is not open", code="appeal_not_open")
    if verdict.inspector_id == actor.user_id:
        raise NotAllowed("you may not decide an appeal against your own verdict", code="own_work")
    verdict.appeal_status = decision
    verdict.appeal_resolved_by = actor.user_id
    verdict.appeal_resolved_at = utcnow()
    moved = False
    if decision == "upheld":
        state = session.get(InspectionState, verdict.annotation_id, with_for_update=True)
        if state is not None and state.status == "rework" and state.verdict_id == verdict.id:
            advance(state, config.list_stages(session, view.project.id))
            moved = True
    record_event(
        session,
        actor_id=actor.user_id,
        action="inspection.appeal_resolved",
        object_type="inspection_verdict",
        object_id=verdict.id,
        organization_id=view.project.owner_org_id,
        project_id=view.project.id,
        before={"appeal_status": "open"},
        after={"appeal_status": decision, "rework_withdrawn": moved},
    )
    return verdict
