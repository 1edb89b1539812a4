"""The pay policy for rejected work: rejected work is paid, unless it was rejected for a
listed bad-faith reason (a failed attention check, a time faster than humanly possible) and
the worker's appeal was not upheld.

Verdicts are the inspection workflow's `inspection_verdict` rows. An annotation may have
several (one per inspection stage); the latest (highest id) decides. A bad-faith rejection
withholds pay while the appeal is open and when it was denied; an upheld appeal pays it.

What a period close withholds is recorded in `pay_withheld` with the verdict and its reason,
so the worker's statement says why. Withheld work is not worked time for the minimum-wage
guarantee either (otherwise the top-up would pay it after all). A verdict that arrives after
the item was paid takes nothing back; an appeal upheld after the close is paid by closing the
period again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.storage.tables import InspectionVerdict


@dataclass(frozen=True)
class Withholding:
    """Why one annotation is not paid."""

    verdict_id: int
    reason_code: str | None
    appeal_status: str


def withheld_annotations(session: Session, annotation_ids: list[int]) -> dict[int, Withholding]:
    """The annotations among `annotation_ids` whose latest verdict withholds pay."""
    latest: dict[int, tuple[int, str, str | None, bool, str]] = {}
    for start in range(0, len(annotation_ids), 500):
        rows = session.execute(
            select(
                InspectionVerdict.annotation_id,
                InspectionVerdict.id,
                InspectionVerdict.outcome,
                InspectionVerdict.reason_code,
                InspectionVerdict.bad_faith,
                InspectionVerdict.appeal_status,
            ).where(InspectionVerdict.annotation_id.in_(annotation_ids[start : start + 500]))
        )
        for annotation_id, verdict_id, outcome, reason, bad_faith, appeal in rows:
            seen = latest.get(annotation_id)
            if seen is None or verdict_id > seen[0]:
                latest[annotation_id] = (verdict_id, outcome, reason, bool(bad_faith), appeal)
    return {
        annotation_id: Withholding(verdict_id, reason, appeal or "none")
        for annotation_id, (verdict_id, outcome, reason, bad_faith, appeal) in latest.items()
        if withholds(outcome, bad_faith, appeal)
    }


def withholds(outcome: str, bad_faith: bool, appeal_status: str | None) -> bool:
    """The rule itself: only a bad-faith rejection whose appeal was not upheld."""
    return outcome == "reject" and bad_faith and appeal_status != "upheld"
