"""A project's inspection setup: its stages, its rejection reasons and its workflow settings.

A project that configured nothing has one stage ("Inspection", every piece of work, by either
side's inspectors), the default rejection reasons below, rework by the same worker and full
inspection of rejected lots. Nothing is written until a manager changes something, so reading
the setup never needs a write transaction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.audit import record_event
from datadam.errors import InputError
from datadam.projects.service import ProjectView
from datadam.quality.sampling import normalize_aql, normalize_level
from datadam.storage.tables import (
    InspectionSettings,
    InspectionStage,
    InspectionState,
    RejectionReason,
)
from datadam.storage.types import utcnow

SIDES = ("vendor", "owner", "any")
MODES = ("all", "sample")
REWORK_TO = ("same", "other")
LOT_ACTIONS = ("full", "rework")
MAX_STAGES = 5
MAX_REASONS = 40


@dataclass(frozen=True)
class StageConfig:
    position: int
    name: str
    inspector_side: str = "any"
    mode: str = "all"
    level: str | None = None
    aql: str | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    bad_faith: bool = False


DEFAULT_STAGES = (StageConfig(1, "Inspection"),)
DEFAULT_REASONS = (
    Reason("wrong_label", "Wrong label"),
    Reason("incomplete", "Incomplete answer"),
    Reason("guideline", "Does not follow the guideline"),
    Reason("attention_check", "Failed an attention check", bad_faith=True),
    Reason("too_fast", "Impossibly fast", bad_faith=True),
)


def list_stages(session: Session, project_id: int) -> list[StageConfig]:
    rows = session.execute(
        select(InspectionStage)
        .where(InspectionStage.project_id == project_id)
        .order_by(InspectionStage.position)
    ).scalars()
    stages = [
        StageConfig(r.position, r.name, r.inspector_side, r.mode, r.level, r.aql) for r in rows
    ]
    return stages or list(DEFAULT_STAGES)


def list_reasons(session: Session, project_id: int) -> list[Reason]:
    rows = session.execute(
        select(RejectionReason)
        .where(RejectionReason.project_id == project_id, RejectionReason.active.is_(True))
        .order_by(RejectionReason.id)
    ).scalars()
    reasons = [Reason(r.code, r.label, r.bad_faith) for r in rows]
    return reasons or list(DEFAULT_REASONS)


def reason_by_code(session: Session, project_id: int, code: str | None) -> Reason:
    for reason in list_reasons(session, project_id):
        if reason.code == code:
            return reason
    raise InputError("choose a rejection reason from the project's list", field="reason_code")


def get_settings(session: Session, project_id: int) -> InspectionSettings:
    """The stored settings, or unsaved defaults (never added to the session)."""
    row = session.get(InspectionSettings, project_id)
    if row is not None:
        return row
    return InspectionSettings(
        project_id=project_id,
        rework_to="same",
        rejected_lot_action="full",
        lot_size=None,
        switching={},
        production_steady=True,
        reduced_approved=False,
    )


def settings_for_update(session: Session, project_id: int) -> InspectionSettings:
    """The settings row, created with defaults if missing, locked for this transaction."""
    row = session.get(InspectionSettings, project_id, with_for_update=True)
    if row is None:
        row = get_settings(session, project_id)
        session.add(row)
        session.flush()
    return row


def settings_dict(row: InspectionSettings) -> dict[str, Any]:
    return {
        "rework_to": row.rework_to,
        "rejected_lot_action": row.rejected_lot_action,
        "lot_size": row.lot_size,
        "production_steady": row.production_steady,
        "reduced_approved": row.reduced_approved,
        "switching": dict(row.switching or {}),
    }


def update_settings(
    session: Session, view: ProjectView, actor: Actor, changes: dict[str, Any]
) -> InspectionSettings:
    view.require(ProjectAction.MANAGE)
    allowed = {
        "rework_to",
        "rejected_lot_action",
        "lot_size",
        "production_steady",
        "reduced_approved",
    }
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise InputError(f"unknown setting {unknown[0]}", field=unknown[0])
    if "rework_to" in changes and changes["rework_to"] not in REWORK_TO:
        raise InputError("rework_to must be 'same' or 'other'", field="rework_to")
    if "rejected_lot_action" in changes and changes["rejected_lot_action"] not in LOT_ACTIONS:
        raise InputError(
            "rejected_lot_action must be 'full' or 'rework'", field="rejected_lot_action"
        )
    lot_size = changes.get("lot_size")
    if lot_size is not None and (
        isinstance(lot_size, bool) or not isinstance(lot_size, int) or not 2 <= lot_size <= 500000
    ):
        raise InputError("lot_size must be a whole number from 2 to 500000", field="lot_size")
    for flag in ("production_steady", "reduced_approved"):
        if flag in changes and not isinstance(changes[flag], bool):
            raise InputError(f"{flag} must be true or false", field=flag)
    row = settings_for_update(session, view.project.id)
    before = settings_dict(row)
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    row.updated_by = actor.user_id
    _event(session, view, actor, "inspection.settings", before, settings_dict(row))
    return row


def _clean_stage(position: int, raw: dict[str, Any]) -> StageConfig:
    name = str(raw.get("name") or "").strip()[:100] or f"Stage {position}"
    side = raw.get("inspector_side", "any")
    if side not in SIDES:
        raise InputError("inspector_side must be vendor, owner or any", field="inspector_side")
    mode = raw.get("mode", "all")
    if mode not in MODES:
        raise InputError("mode must be 'all' or 'sample'", field="mode")
    level = aql = None
    if mode == "sample":
        level = normalize_level(str(raw.get("level") or "II"))
        aql = normalize_aql(raw.get("aql") if raw.get("aql") is not None else "1.0")
    return StageConfig(position, name, side, mode, level, aql)


def set_stages(
    session: Session, view: ProjectView, actor: Actor, stages: list[dict[str, Any]]
) -> list[StageConfig]:
    """Replace the project's stages (in the given order). Stage numbers are positions: work
    waiting at a stage that no longer exists has passed every stage (done), and work pooled for
    a lot at a stage that now inspects everything is queued."""
    view.require(ProjectAction.MANAGE)
    if not isinstance(stages, list) or not 1 <= len(stages) <= MAX_STAGES:
        raise InputError(f"give 1 to {MAX_STAGES} inspection stages", field="stages")
    if not all(isinstance(s, dict) for s in stages):
        raise InputError("each stage is an object", field="stages")
    clean = [_clean_stage(i, raw) for i, raw in enumerate(stages, start=1)]
    project_id = view.project.id
    before = [asdict(s) for s in list_stages(session, project_id)]
    for row in session.execute(
        select(InspectionStage).where(InspectionStage.project_id == project_id)
    ).scalars():
        session.delete(row)
    session.flush()
    for stage in clean:
        session.add(InspectionStage(project_id=project_id, **asdict(stage)))
    session.flush()
    waiting = ("queued", "pooled", "held")
    session.execute(
        update(InspectionState)
        .where(
            InspectionState.project_id == project_id,
            InspectionState.stage > len(clean),
            InspectionState.status.in_(waiting),
        )
        .values(status="done", lot_id=None, updated_at=utcnow())
    )
    everything = [s.position for s in clean if s.mode == "all"]
    session.execute(
        update(InspectionState)
        .where(
            InspectionState.project_id == project_id,
            InspectionState.stage.in_(everything or [-1]),
            InspectionState.status == "pooled",
        )
        .values(status="queued", updated_at=utcnow())
    )
    _event(
        session,
        view,
        actor,
        "inspection.stages",
        {"stages": before},
        {"stages": [asdict(s) for s in clean]},
    )
    return clean


def set_reasons(
    session: Session, view: ProjectView, actor: Actor, reasons: list[dict[str, Any]]
) -> list[Reason]:
    """Replace the project's active rejection reasons. Old codes stay in the table (inactive),
    so past verdicts keep their meaning."""
    view.require(ProjectAction.MANAGE)
    if not isinstance(reasons, list) or not 1 <= len(reasons) <= MAX_REASONS:
        raise InputError(f"give 1 to {MAX_REASONS} rejection reasons", field="reasons")
    clean: list[Reason] = []
    for raw in reasons:
        if not isinstance(raw, dict):
            raise InputError("each reason is an object", field="reasons")
        code = str(raw.get("code") or "").strip()
        label = str(raw.get("label") or "").strip()
        if not code or len(code) > 40 or not code.replace("_", "").replace("-", "").isalnum():
            raise InputError("a reason code is 1-40 letters, digits, - or _", field="code")
        if not label or len(label) > 200:
            raise InputError("a reason needs a label of at most 200 characters", field="label")
        clean.append(Reason(code, label, bool(raw.get("bad_faith", False))))
    if len({r.code for r in clean}) != len(clean):
        raise InputError("reason codes must be distinct", field="code")
    project_id = view.project.id
    before = [asdict(r) for r in list_reasons(session, project_id)]
    existing = {
        r.code: r
        for r in session.execute(
            select(RejectionReason).where(RejectionReason.project_id == project_id)
        ).scalars()
    }
    for row in existing.values():
        row.active = False
    for reason in clean:
        row = existing.get(reason.code)
        if row is None:
            session.add(RejectionReason(project_id=project_id, active=True, **asdict(reason)))
        else:
            row.label, row.bad_faith, row.active = reason.label, reason.bad_faith, True
    session.flush()
    _event(
        session,
        view,
        actor,
        "inspection.reasons",
        {"reasons": before},
        {"reasons": [asdict(r) for r in clean]},
    )
    return clean


def _event(
    session: Session,
    view: ProjectView,
    actor: Actor,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    record_event(
        session,
        actor_id=actor.user_id,
        action=action,
        object_type="project",
        object_id=view.project.id,
        organization_id=view.project.owner_org_id,
        project_id=view.project.id,
        before=before,
        after=after,
    )
