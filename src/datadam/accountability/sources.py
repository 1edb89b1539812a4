"""Reading the quality workflow's records defensively.

Inspection verdicts (`inspection_verdict`) and gold answers (`gold_answer` with
`datadam.quality.gold_scoring`) belong to other parts of the platform. A database that
predates them, or an installation without them, simply has no such numbers: every reader
here returns empty results instead of failing, and the scorecard shows "no data".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from datadam.storage.tables import Annotation, Project
from datadam.storage.types import JsonColumn, UTCDateTime

_VERDICT = sa.table(
    "inspection_verdict",
    sa.column("id"),
    sa.column("project_id"),
    sa.column("worker_id"),
    sa.column("outcome"),
    sa.column("bad_faith"),
    sa.column("appeal_status"),
    sa.column("at", UTCDateTime()),
)
_GOLD = sa.table(
    "gold_answer",
    sa.column("item_id"),
    sa.column("project_id"),
    sa.column("answer", JsonColumn),
    sa.column("purpose"),
)


def has_table(session: Session, name: str) -> bool:
    return sa.inspect(session.connection()).has_table(name)


@dataclass(frozen=True)
class Verdict:
    project_id: int
    worker_id: int
    outcome: str  # accept | reject | correct
    bad_faith: bool
    appeal_status: str  # none | open | upheld | denied


def verdicts_between(
    session: Session, start: datetime, end: datetime, *, project_id: int | None = None
) -> list[Verdict]:
    """Verdicts given in [start, end); none when the inspection tables are not installed."""
    if not has_table(session, "inspection_verdict"):
        return []
    v = _VERDICT.c
    query = sa.select(v.project_id, v.worker_id, v.outcome, v.bad_faith, v.appeal_status).where(
        v.at >= start, v.at < end
    )
    if project_id is not None:
        query = query.where(v.project_id == project_id)
    return [
        Verdict(int(p), int(w), str(o), bool(b), str(a or "none"))
        for p, w, o, b, a in session.execute(query)
    ]


@dataclass(frozen=True)
class GoldScore:
    project_id: int
    worker_id: int
    score: float  # in [0, 1]


def _scorer() -> Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], float] | None:
    try:
        module = import_module("datadam.quality.gold_scoring")
    except ModuleNotFoundError:
        return None
    return getattr(module, "score", None)


def gold_scores_between(
    session: Session, start: datetime, end: datetime, *, project_id: int | None = None
) -> list[GoldScore]:
    """Each answer submitted in [start, end) on a gold question, scored against its answer."""
    score = _scorer()
    if score is None or not has_table(session, "gold_answer"):
        return []
    g = _GOLD.c
    query = (
        sa.select(
            Annotation.project_id, Annotation.worker_id, Annotation.result, g.answer, Project.schema
        )
        .join(_GOLD, g.item_id == Annotation.item_id)
        .join(Project, Project.id == Annotation.project_id)
        .where(
            g.purpose == "gold",
            Annotation.submitted_at >= start,
            Annotation.submitted_at < end,
        )
    )
    if project_id is not None:
        query = query.where(Annotation.project_id == project_id)
    found = []
    for pid, wid, result, answer, schema in session.execute(query):
        try:
            value = float(score(schema, result, _json(answer)))
        except (ValueError, TypeError, KeyError):
            continue
        found.append(GoldScore(int(pid), int(wid), min(1.0, max(0.0, value))))
    return found


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return value if isinstance(value, dict) else {}
