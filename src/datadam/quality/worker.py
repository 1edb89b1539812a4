"""What a worker may see of their own quality on a project: gold accuracy and rejections.

Read live (two small indexed queries on one worker's rows), so a worker sees a rejection as
soon as it is given, without waiting for the next metrics snapshot. The worker-facing pages
call `worker_quality(session, project_id, worker_id)` for the signed-in worker only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from datadam.quality.stats import rate
from datadam.storage.tables import GoldResult, InspectionVerdict, RejectionReason

MAX_REJECTIONS = 50


@dataclass(frozen=True)
class Rejection:
    annotation_id: int
    item_id: int
    stage: int
    outcome: str  # "reject", or "correct" (an inspector fixed the work)
    reason_code: str | None
    reason: str | None  # the project's wording of the reason
    bad_faith: bool
    comment: str
    at: datetime
    appeal_status: str


@dataclass(frozen=True)
class WorkerQuality:
    gold: dict[str, Any]  # successes, trials, rate, ci_low, ci_high (Wilson 95%)
    inspected: int
    accepted: int
    rejections: tuple[Rejection, ...]  # newest first, at most MAX_REJECTIONS


def worker_quality(
    session: Session, project_id: int, worker_id: int, *, limit: int = MAX_REJECTIONS
) -> WorkerQuality:
    """The worker's gold accuracy (all their scored gold answers) and the reasons of the
    inspection verdicts that did not accept their work."""
    trials, right = session.execute(
        select(
            func.count(), func.coalesce(func.sum(case((GoldResult.correct, 1), else_=0)), 0)
        ).where(GoldResult.project_id == project_id, GoldResult.worker_id == worker_id)
    ).one()
    judged = dict(
        session.execute(
            select(InspectionVerdict.outcome, func.count())
            .where(
                InspectionVerdict.project_id == project_id,
                InspectionVerdict.worker_id == worker_id,
            )
            .group_by(InspectionVerdict.outcome)
        ).all()
    )
    reasons = dict(
        session.execute(
            select(RejectionReason.code, RejectionReason.label).where(
                RejectionReason.project_id == project_id
            )
        ).all()
    )
    rows = session.execute(
        select(InspectionVerdict)
        .where(
            InspectionVerdict.project_id == project_id,
            InspectionVerdict.worker_id == worker_id,
            InspectionVerdict.outcome != "accept",
        )
        .order_by(InspectionVerdict.at.desc(), InspectionVerdict.id.desc())
        .limit(limit)
    ).scalars()
    rejections = tuple(
        Rejection(
            annotation_id=v.annotation_id,
            item_id=v.item_id,
            stage=v.stage,
            outcome=v.outcome,
            reason_code=v.reason_code,
            reason=reasons.get(v.reason_code) if v.reason_code else None,
            bad_faith=v.bad_faith,
            comment=v.comment,
            at=v.at,
            appeal_status=v.appeal_status,
        )
        for v in rows
    )
    return WorkerQuality(
        gold=rate(int(right), int(trials)),
        inspected=int(sum(judged.values())),
        accepted=int(judged.get("accept", 0)),
        rejections=rejections,
    )
