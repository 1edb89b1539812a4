"""Lots and ISO 2859-1 acceptance sampling at a sampling stage.

Work reaching a stage whose mode is 'sample' waits, pooled, until a lot is formed: by a manager
(`form_lot`) or automatically every `lot_size` pieces of work (`form_due_lots`). Forming a lot
computes the single sampling plan from the lot size, the stage's level and AQL and the project's
current switching severity (`quality.sampling.plan`), draws the sample with a recorded seed
(`quality.sampling.draw_sample` over the lot's annotation ids in ascending order, so the same
lot and seed always give the same sample), queues the sampled work and holds the rest.

Each first verdict on a sampled piece counts; 'reject' and 'correct' are nonconforming. The lot
is rejected as soon as the nonconforming count reaches Re, accepted once every sampled piece is
judged with fewer (≤ Ac, or under reduced inspection below Re). Then the switching rules
(`quality.switching.record_lot`) give the project's state for its next lot. Held work of an
accepted lot moves to the next stage; of a rejected lot it is queued for full inspection or sent
back for rework (project setting `rejected_lot_action`).
"""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.audit import record_event
from datadam.errors import Conflict, InputError, NotFound
from datadam.inspection import config
from datadam.inspection.workflow import GOLD_STAGE, advance, send_to_rework
from datadam.projects.service import ProjectView
from datadam.quality import sampling, switching
from datadam.storage.tables import (
    Annotation,
    InspectionLot,
    InspectionLotItem,
    InspectionState,
    InspectionVerdict,
    Item,
    Project,
)
from datadam.storage.types import utcnow

MAX_LOT = 500_000


def switching_state(raw: dict[str, Any] | None) -> switching.SwitchingState:
    if not raw:
        return switching.initial_state()
    return switching.SwitchingState(
        severity=raw.get("severity", "normal"),
        switching_score=int(raw.get("switching_score", 0)),
        recent_normal=tuple(bool(v) for v in raw.get("recent_normal", ())),
        tightened_accepted_run=int(raw.get("tightened_accepted_run", 0)),
        tightened_rejections=int(raw.get("tightened_rejections", 0)),
    )


def _state_dict(state: switching.SwitchingState) -> dict[str, Any]:
    data = asdict(state)
    data["recent_normal"] = list(state.recent_normal)
    return data


def _pooled_condition(
    project_id: int, stage: config.StageConfig, stages: list[config.StageConfig]
) -> Any:
    """Submitted annotations pooled at `stage`, waiting for a lot (gold work never is)."""
    pooled = exists().where(
        InspectionState.annotation_id == Annotation.id,
        InspectionState.status == "pooled",
        InspectionState.stage == stage.position,
    )
    clauses = [pooled]
    if stage.position == 1 and stages[0].mode == "sample":
        clauses.append(
            ~exists().where(InspectionState.annotation_id == Annotation.id)
            & ~exists().where(InspectionVerdict.annotation_id == Annotation.id)
        )
    not_gold = ~exists().where(Item.id == Annotation.item_id, Item.stage == GOLD_STAGE)
    return (Annotation.project_id == project_id) & or_(*clauses) & not_gold


def _sampling_stage(stages: list[config.StageConfig], position: int | None) -> config.StageConfig:
    sampled = [s for s in stages if s.mode == "sample"]
    if not sampled:
        raise InputError("this project has no sampling stage", field="stage")
    if position is None:
        return sampled[0]
    for stage in sampled:
        if stage.position == position:
            return stage
    raise InputError(f"stage {position} does not inspect by sampling", field="stage")


def pooled_count(session: Session, project_id: int, position: int | None = None) -> int:
    stages = config.list_stages(session, project_id)
    if not any(s.mode == "sample" for s in stages):
        return 0
    stage = _sampling_stage(stages, position)
    where = _pooled_condition(project_id, stage, stages)
    return session.execute(select(func.count()).select_from(Annotation).where(where)).scalar_one()


def form_lot(
    session: Session,
    view: ProjectView,
    actor: Actor | None,
    *,
    stage: int | None = None,
    limit: int | None = None,
    seed: int | None = None,
) -> InspectionLot:
    """Group the pooled work (the oldest `limit` pieces, or all) into a lot and draw its sample.

    `actor` None means the platform formed it (a lot of the project's set size came due).
    """
    if actor is not None:
        view.require(ProjectAction.MANAGE)
    project = view.project
    stages = config.list_stages(session, project.id)
    chosen = _sampling_stage(stages, stage)
    assert chosen.level is not None and chosen.aql is not None
    settings = config.settings_for_update(session, project.id)
    current = switching_state(settings.switching)
    if current.severity == "discontinued":
        raise Conflict(
            "sampling inspection is discontinued after 5 lots not accepted on tightened "
            "inspection; record corrective action first",
            code="inspection_discontinued",
        )
    query = (
        select(Annotation.id, Annotation.item_id)
        .where(_pooled_condition(project.id, chosen, stages))
        .order_by(Annotation.id)
        .limit(min(limit or MAX_LOT, MAX_LOT))
    )
    rows = session.execute(query).all()
    if len(rows) < 2:
        raise InputError("a lot needs at least 2 pieces of submitted work", field="lot_size")
    plan = sampling.plan(len(rows), chosen.level, chosen.aql, current.severity)
    if seed is None:
        seed = secrets.randbits(62)
    ids = [int(r[0]) for r in rows]
    sample = set(sampling.draw_sample(ids, plan.sample_size, seed))
    lot = InspectionLot(
        project_id=project.id,
        stage=chosen.position,
        size=len(ids),
        level=plan.level,
        aql=plan.aql,
        severity=plan.severity,
        code_letter=plan.code_letter,
        sample_size=plan.sample_size,
        accept_number=plan.accept,
        reject_number=plan.reject,
        seed=seed,
        status="open",
        nonconforming=0,
        judged=0,
        switching_before=_state_dict(current),
        created_by=actor.user_id if actor else None,
    )
    session.add(lot)
    session.flush()
    existing = {
        s.annotation_id: s
        for s in session.execute(
            select(InspectionState).where(InspectionState.annotation_id.in_(ids))
        ).scalars()
    }
    now = utcnow()
    for annotation_id, item_id in rows:
        picked = annotation_id in sample
        session.add(
            InspectionLotItem(
                lot_id=lot.id, annotation_id=annotation_id, item_id=item_id, sampled=picked
            )
        )
        state = existing.get(annotation_id)
        if state is None:
            state = InspectionState(
                annotation_id=annotation_id, project_id=project.id, stage=chosen.position, version=1
            )
            session.add(state)
        state.status = "queued" if picked else "held"
        state.lot_id = lot.id
        state.updated_at = now
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id if actor else None,
        action="inspection.lot_formed",
        object_type="inspection_lot",
        object_id=lot.id,
        organization_id=project.owner_org_id,
        project_id=project.id,
        after={"plan": plan.as_dict(), "seed": seed, "sampled": sorted(sample)},
    )
    return lot


def form_due_lots(session: Session, project: Project) -> list[int]:
    """Form lots of exactly the project's `lot_size` while enough work is pooled."""
    settings = config.get_settings(session, project.id)
    size = settings.lot_size
    stages = config.list_stages(session, project.id)
    formed: list[int] = []
    if not size or not any(s.mode == "sample" for s in stages):
        return formed
    view = ProjectView(project, frozenset({ProjectAction.MANAGE}), ())
    for stage in (s for s in stages if s.mode == "sample"):
        if switching_state(settings.switching).severity == "discontinued":
            break
        while pooled_count(session, project.id, stage.position) >= size and len(formed) < 20:
            formed.append(form_lot(session, view, None, stage=stage.position, limit=size).id)
    return formed


def count_sampled_verdict(
    session: Session, project: Project, lot_id: int, annotation_id: int, outcome: str
) -> str | None:
    """Count the first verdict on a sampled piece of an open lot; decide the lot when it can."""
    lot = session.get(InspectionLot, lot_id, with_for_update=True)
    entry = session.get(InspectionLotItem, (lot_id, annotation_id))
    if lot is None or entry is None or lot.status != "open" or not entry.sampled:
        return None
    if entry.outcome is not None:
        return None
    entry.outcome = outcome
    lot.judged += 1
    if outcome != "accept":
        lot.nonconforming += 1
    if lot.nonconforming >= lot.reject_number:
        return decide_lot(session, project, lot, accepted=False)
    if lot.judged >= lot.sample_size:
        return decide_lot(session, project, lot, accepted=True)
    return None


def _plan_of(lot: InspectionLot) -> sampling.SamplingPlan:
    return sampling.plan(lot.size, lot.level, lot.aql, lot.severity)


def decide_lot(session: Session, project: Project, lot: InspectionLot, *, accepted: bool) -> str:
    settings = config.settings_for_update(session, project.id)
    before = switching_state(settings.switching)
    lot.status = "accepted" if accepted else "rejected"
    lot.decided_at = utcnow()
    if before.severity == lot.severity:
        step = switching.record_lot(
            before,
            switching.LotResult(
                plan=_plan_of(lot),
                nonconforming=lot.nonconforming,
                production_steady=settings.production_steady,
                reduced_approved=settings.reduced_approved,
            ),
        )
        settings.switching = _state_dict(step.state)
        lot.switch_reason = step.reason[:200]
    else:
        lot.switch_reason = (
            f"not counted for switching: the lot was drawn under {lot.severity} inspection, "
            f"{before.severity} is now in effect"
        )[:200]
    lot.switching_after = dict(settings.switching or {})
    held = list(
        session.execute(
            select(InspectionState).where(
                InspectionState.lot_id == lot.id, InspectionState.status == "held"
            )
        ).scalars()
    )
    stages = config.list_stages(session, project.id)
    action = None if accepted else settings.rejected_lot_action
    lot.action = action
    for state in held:
        if accepted:
            advance(state, stages)
        elif action == "full":
            state.status = "queued"
            state.updated_at = utcnow()
        else:
            annotation = session.get(Annotation, state.annotation_id)
            assert annotation is not None
            send_to_rework(session, state, annotation, None)
    session.flush()
    record_event(
        session,
        actor_id=None,
        action=f"inspection.lot_{lot.status}",
        object_type="inspection_lot",
        object_id=lot.id,
        organization_id=project.owner_org_id,
        project_id=project.id,
        before={"switching": _state_dict(before)},
        after={
            "nonconforming": lot.nonconforming,
            "judged": lot.judged,
            "action": action,
            "switching": lot.switching_after,
            "reason": lot.switch_reason,
        },
    )
    return lot.status


def resume_after_corrective_action(
    session: Session, view: ProjectView, actor: Actor
) -> dict[str, Any]:
    view.require(ProjectAction.MANAGE)
    settings = config.settings_for_update(session, view.project.id)
    before = switching_state(settings.switching)
    after = switching.resume_after_corrective_action(before)
    settings.switching = _state_dict(after)
    record_event(
        session,
        actor_id=actor.user_id,
        action="inspection.corrective_action",
        object_type="project",
        object_id=view.project.id,
        organization_id=view.project.owner_org_id,
        project_id=view.project.id,
        before=_state_dict(before),
        after=settings.switching,
    )
    return dict(settings.switching)


def list_lots(session: Session, view: ProjectView, *, limit: int = 100) -> list[InspectionLot]:
    view.require(ProjectAction.MANAGE)
    return list(
        session.execute(
            select(InspectionLot)
            .where(InspectionLot.project_id == view.project.id)
            .order_by(InspectionLot.id.desc())
            .limit(limit)
        ).scalars()
    )


def get_lot(
    session: Session, view: ProjectView, lot_id: int
) -> tuple[InspectionLot, list[InspectionLotItem]]:
    view.require(ProjectAction.MANAGE)
    lot = session.get(InspectionLot, lot_id)
    if lot is None or lot.project_id != view.project.id:
        raise NotFound(f"no lot {lot_id}", field="lot_id")
    items = list(
        session.execute(
            select(InspectionLotItem)
            .where(InspectionLotItem.lot_id == lot.id)
            .order_by(InspectionLotItem.annotation_id)
        ).scalars()
    )
    return lot, items
