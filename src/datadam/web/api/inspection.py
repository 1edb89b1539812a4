"""Inspection: the project's setup, verdicts, rework, appeals, lots and inspectors' gold scores.

Handlers parse, load the project through the caller's permissions and call one function of
`datadam.inspection`; the rules live there.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from datadam.access.policies import ProjectAction
from datadam.exporting.jsonl import worker_pseudonym
from datadam.inspection import config, gold, lots, workflow
from datadam.projects.service import get_project_for
from datadam.storage.tables import InspectionLot, InspectionVerdict
from datadam.web.api.wire import Input, PathId
from datadam.web.deps import CurrentActor, Db

router = APIRouter(tags=["inspection"])


class StageIn(Input):
    name: str = Field("", max_length=100)
    inspector_side: Literal["vendor", "owner", "any"] = "any"
    mode: Literal["all", "sample"] = "all"
    level: str | None = Field(None, max_length=4)
    aql: str | None = Field(None, max_length=8)


class ReasonIn(Input):
    code: str = Field(max_length=40)
    label: str = Field(max_length=200)
    bad_faith: bool = False


class InspectionSetup(Input):
    """Any subset: stages and reasons replace the lists; the rest are settings."""

    stages: list[StageIn] | None = Field(None, max_length=config.MAX_STAGES)
    reasons: list[ReasonIn] | None = Field(None, max_length=config.MAX_REASONS)
    rework_to: Literal["same", "other"] | None = None
    rejected_lot_action: Literal["full", "rework"] | None = None
    lot_size: int | None = Field(None, ge=2, le=500000)
    production_steady: bool | None = None
    reduced_approved: bool | None = None


class InspectionSetupPublic(BaseModel):
    stages: list[dict[str, Any]]
    reasons: list[dict[str, Any]]
    settings: dict[str, Any]


class VerdictCreate(Input):
    annotation_id: int = Field(ge=1, le=2**63 - 1)
    outcome: Literal["accept", "reject", "correct"]
    reason_code: str | None = Field(None, max_length=40)
    comment: str = Field("", max_length=workflow.MAX_COMMENT)
    result: dict[str, Any] | None = None


class VerdictPublic(BaseModel):
    verdict_id: int
    annotation_id: int
    status: str
    stage: int
    version: int
    lot_decided: str | None


class ReworkPublic(BaseModel):
    annotation_id: int
    project_id: int
    item_id: int
    payload: dict[str, Any]
    result: dict[str, Any]
    stage: int
    reason_code: str | None
    reason_label: str | None
    comment: str
    verdict_id: int | None
    appeal_status: str
    returned_at: datetime | None


class ReworkSubmit(Input):
    result: dict[str, Any]
    active_seconds: float = Field(0.0, ge=0, le=86400)


class ReworkDone(BaseModel):
    annotation_id: int
    version: int


class AppealCreate(Input):
    text: str = Field(min_length=1, max_length=workflow.MAX_COMMENT)


class AppealDecision(Input):
    decision: Literal["upheld", "denied"]


class RejectionPublic(BaseModel):
    verdict_id: int
    project_id: int
    annotation_id: int
    item_id: int
    stage: int
    reason_code: str | None
    bad_faith: bool
    comment: str
    at: datetime
    appeal_status: str
    appeal_text: str | None


class AppealPublic(RejectionPublic):
    worker: str
    inspector_id: int


class LotCreate(Input):
    stage: int | None = Field(None, ge=1, le=config.MAX_STAGES)
    limit: int | None = Field(None, ge=2, le=lots.MAX_LOT)
    seed: int | None = Field(None, ge=0, le=2**62)


class LotPublic(BaseModel):
    id: int
    stage: int
    size: int
    level: str
    aql: str
    severity: str
    code_letter: str
    sample_size: int
    accept: int
    reject: int
    seed: int
    status: str
    judged: int
    nonconforming: int
    action: str | None
    switch_reason: str | None
    created_at: datetime
    decided_at: datetime | None
    sampled_annotation_ids: list[int] | None = None


class InspectorScore(BaseModel):
    inspector_id: int
    judged: int
    agreed: int
    accuracy: float | None


def _setup(session: Any, project_id: int) -> InspectionSetupPublic:
    row = config.get_settings(session, project_id)
    return InspectionSetupPublic(
        stages=[asdict(s) for s in config.list_stages(session, project_id)],
        reasons=[asdict(r) for r in config.list_reasons(session, project_id)],
        settings=config.settings_dict(row),
    )


def _lot_public(lot: InspectionLot, sampled: list[int] | None = None) -> LotPublic:
    return LotPublic(
        id=lot.id,
        stage=lot.stage,
        size=lot.size,
        level=lot.level,
        aql=lot.aql,
        severity=lot.severity,
        code_letter=lot.code_letter,
        sample_size=lot.sample_size,
        accept=lot.accept_number,
        reject=lot.reject_number,
        seed=lot.seed,
        status=lot.status,
        judged=lot.judged,
        nonconforming=lot.nonconforming,
        action=lot.action,
        switch_reason=lot.switch_reason,
        created_at=lot.created_at,
        decided_at=lot.decided_at,
        sampled_annotation_ids=sampled,
    )


def _rejection(v: InspectionVerdict) -> dict[str, Any]:
    return {
        "verdict_id": v.id,
        "project_id": v.project_id,
        "annotation_id": v.annotation_id,
        "item_id": v.item_id,
        "stage": v.stage,
        "reason_code": v.reason_code,
        "bad_faith": v.bad_faith,
        "comment": v.comment,
        "at": v.at,
        "appeal_status": v.appeal_status,
        "appeal_text": v.appeal_text,
    }


@router.get("/projects/{project_id}/inspection", response_model=InspectionSetupPublic)
def get_setup(project_id: PathId, actor: CurrentActor, db: Db) -> InspectionSetupPublic:
    """The project's inspection stages, rejection reasons and settings (defaults if unset)."""
    with db.read() as session:
        get_project_for(session, actor, project_id)
        return _setup(session, project_id)


@router.put("/projects/{project_id}/inspection", response_model=InspectionSetupPublic)
def put_setup(
    project_id: PathId, body: InspectionSetup, actor: CurrentActor, db: Db
) -> InspectionSetupPublic:
    """Managers: replace stages or reasons, change rework and lot settings."""
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        view.require(ProjectAction.MANAGE)
        if body.stages is not None:
            config.set_stages(session, view, actor, [s.model_dump() for s in body.stages])
        if body.reasons is not None:
            config.set_reasons(session, view, actor, [r.model_dump() for r in body.reasons])
        changes = body.model_dump(exclude_none=True, exclude={"stages", "reasons"})
        if changes:
            config.update_settings(session, view, actor, changes)
        return _setup(session, project_id)


@router.post("/projects/{project_id}/inspection/verdicts", response_model=VerdictPublic)
def create_verdict(
    project_id: PathId, body: VerdictCreate, actor: CurrentActor, db: Db
) -> VerdictPublic:
    """Accept, reject (with a reason code from the project's list) or correct (with `result`)
    a piece of work waiting in your queue. Your own work is refused (403 `own_work`)."""
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        out = workflow.record_verdict(
            session,
            view,
            actor,
            body.annotation_id,
            outcome=body.outcome,
            reason_code=body.reason_code,
            comment=body.comment,
            corrected=body.result,
        )
    return VerdictPublic(**asdict(out))


@router.get("/inspection/rework", response_model=list[ReworkPublic])
def list_rework(actor: CurrentActor, db: Db) -> list[ReworkPublic]:
    """Work returned to you for rework, with the inspector's reason and comment."""
    with db.read() as session:
        entries = workflow.list_rework(session, actor)
    return [
        ReworkPublic(**{k: v for k, v in asdict(e).items() if k in ReworkPublic.model_fields})
        for e in entries
    ]


@router.post("/inspection/rework/{annotation_id}", response_model=ReworkDone)
def submit_rework(
    annotation_id: PathId, body: ReworkSubmit, actor: CurrentActor, db: Db
) -> ReworkDone:
    """Resubmit reworked work: a new version, back to the stage that rejected it."""
    with db.write() as session:
        version = workflow.resubmit_rework(
            session, actor, annotation_id, result=body.result, active_seconds=body.active_seconds
        )
    return ReworkDone(annotation_id=annotation_id, version=version)


@router.get("/inspection/rejections", response_model=list[RejectionPublic])
def list_rejections(actor: CurrentActor, db: Db) -> list[RejectionPublic]:
    """Rejections of your own work, newest first, with reasons and appeal status."""
    with db.read() as session:
        return [RejectionPublic(**_rejection(v)) for v in workflow.list_rejections(session, actor)]


@router.post("/inspection/rejections/{verdict_id}/appeal", response_model=RejectionPublic)
def appeal(verdict_id: PathId, body: AppealCreate, actor: CurrentActor, db: Db) -> RejectionPublic:
    """Appeal a rejection of your work; a manager of the project decides."""
    with db.write() as session:
        verdict = workflow.appeal_rejection(session, actor, verdict_id, text=body.text)
        return RejectionPublic(**_rejection(verdict))


@router.get("/projects/{project_id}/inspection/appeals", response_model=list[AppealPublic])
def list_appeals(
    project_id: PathId, request: Request, actor: CurrentActor, db: Db
) -> list[AppealPublic]:
    """Managers: open appeals, oldest first; workers under their per-project pseudonym."""
    secret = request.app.state.secret_key
    with db.read() as session:
        view = get_project_for(session, actor, project_id)
        return [
            AppealPublic(
                **_rejection(v),
                worker=worker_pseudonym(secret, project_id, v.worker_id),
                inspector_id=v.inspector_id,
            )
            for v in workflow.list_open_appeals(session, view)
        ]


@router.post(
    "/projects/{project_id}/inspection/appeals/{verdict_id}", response_model=RejectionPublic
)
def decide_appeal(
    project_id: PathId, verdict_id: PathId, body: AppealDecision, actor: CurrentActor, db: Db
) -> RejectionPublic:
    """Managers: uphold (the rejection is withdrawn) or deny an open appeal."""
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        verdict = workflow.resolve_appeal(session, view, actor, verdict_id, decision=body.decision)
        return RejectionPublic(**_rejection(verdict))


@router.get("/projects/{project_id}/inspection/lots", response_model=list[LotPublic])
def list_lots(project_id: PathId, actor: CurrentActor, db: Db) -> list[LotPublic]:
    """Managers: the project's lots, newest first, with plans, seeds and outcomes."""
    with db.read() as session:
        view = get_project_for(session, actor, project_id)
        return [_lot_public(lot) for lot in lots.list_lots(session, view)]


@router.post("/projects/{project_id}/inspection/lots", response_model=LotPublic, status_code=201)
def create_lot(project_id: PathId, body: LotCreate, actor: CurrentActor, db: Db) -> LotPublic:
    """Managers: group pooled work into a lot, compute its ISO 2859-1 plan and draw the
    sample (give `seed` to reproduce a draw; otherwise one is chosen and recorded)."""
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        lot = lots.form_lot(
            session, view, actor, stage=body.stage, limit=body.limit, seed=body.seed
        )
        _lot, items = lots.get_lot(session, view, lot.id)
        return _lot_public(lot, [i.annotation_id for i in items if i.sampled])


@router.get("/projects/{project_id}/inspection/lots/{lot_id}", response_model=LotPublic)
def get_lot(project_id: PathId, lot_id: PathId, actor: CurrentActor, db: Db) -> LotPublic:
    with db.read() as session:
        view = get_project_for(session, actor, project_id)
        lot, items = lots.get_lot(session, view, lot_id)
        return _lot_public(lot, [i.annotation_id for i in items if i.sampled])


@router.get("/projects/{project_id}/inspection/inspectors", response_model=list[InspectorScore])
def inspector_scores(project_id: PathId, actor: CurrentActor, db: Db) -> list[InspectorScore]:
    """Managers: each inspector's verdicts on gold work and how many agree with the truth."""
    with db.read() as session:
        view = get_project_for(session, actor, project_id)
        return [
            InspectorScore(
                inspector_id=s.inspector_id, judged=s.judged, agreed=s.agreed, accuracy=s.accuracy
            )
            for s in gold.inspector_gold_scores(session, view)
        ]
