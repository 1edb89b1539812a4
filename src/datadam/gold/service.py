"""Gold questions for managers and workers: settings, marking and importing known answers,
live gold accuracy, pauses and appeals.

A project's quality settings live in `quality_settings` (defaults below when there is no row).
Marking an item gold moves it to stage 'gold' (through `stages.transitions`) and stores its
answer in `gold_answer`; only an item nobody has taken yet can be marked, so no one's work is
pulled out of the dataset. Accuracy counts the worker's scored gold answers since their last
reinstatement, with a 95% Wilson interval. Every change is an audit event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.audit import record_event
from datadam.domain.enums import Stage
from datadam.errors import Conflict, InputError, NotFound
from datadam.gold.injection import OPEN_PAUSE, gold_counts
from datadam.projects.service import ProjectView
from datadam.quality.intervals import wilson_interval
from datadam.stages.transitions import move_item_if
from datadam.storage.tables import GoldAnswer, GoldResult, Item, QualitySettings, WorkerPause
from datadam.storage.types import utcnow

PURPOSES = ("gold", "training", "qualification")
MAX_GOLD_RATE = 0.5
MAX_EXPLANATION = 5_000
MAX_APPEAL = 2_000
MAX_IMPORT_ERRORS = 20
SETTING_KEYS = (
    "gold_rate",
    "pause_threshold",
    "min_gold_answers",
    "qualification_required",
    "pass_mark",
    "max_attempts",
)


@dataclass(frozen=True)
class QualityConfig:
    """A project's gold and qualification settings."""

    gold_rate: float = 0.0  # share of new tasks that are gold questions
    pause_threshold: float = 0.7  # gold accuracy below this pauses a worker ...
    min_gold_answers: int = 10  # ... once they have answered this many gold questions
    qualification_required: bool = False  # real work only after passing the test
    pass_mark: float = 0.8  # share of qualification questions to get right
    max_attempts: int = 3  # tries at the qualification test

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in SETTING_KEYS}


def quality_config(session: Session, project_id: int) -> QualityConfig:
    row = session.get(QualitySettings, project_id)
    if row is None:
        return QualityConfig()
    return QualityConfig(**{key: getattr(row, key) for key in SETTING_KEYS})


def _fraction(changes: dict[str, Any], key: str, top: float = 1.0) -> None:
    value = changes.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= top:
        raise InputError(f"{key} must be a number from 0 to {top:g}", field=key)
    changes[key] = float(value)


def _whole(changes: dict[str, Any], key: str, low: int, high: int) -> None:
    value = changes.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"{key} must be a whole number from {low} to {high}", field=key)


def update_quality_settings(
    session: Session, view: ProjectView, actor: Actor, changes: dict[str, Any]
) -> QualityConfig:
    """Change some settings (None values are left alone); the rest keep their values."""
    view.require(ProjectAction.MANAGE)
    unknown = sorted(set(changes) - set(SETTING_KEYS))
    if unknown:
        raise InputError(f"unknown setting {unknown[0]}", field=unknown[0])
    changes = {k: v for k, v in changes.items() if v is not None}
    _fraction(changes, "gold_rate", MAX_GOLD_RATE)
    _fraction(changes, "pause_threshold")
    _fraction(changes, "pass_mark")
    _whole(changes, "min_gold_answers", 1, 10_000)
    _whole(changes, "max_attempts", 1, 100)
    if "qualification_required" in changes and not isinstance(
        changes["qualification_required"], bool
    ):
        raise InputError(
            "qualification_required must be true or false", field="qualification_required"
        )
    project_id = view.project.id
    before = quality_config(session, project_id)
    row = session.get(QualitySettings, project_id)
    if row is None:
        row = QualitySettings(project_id=project_id, **before.as_dict())
        session.add(row)
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_by = actor.user_id
    row.updated_at = utcnow()
    session.flush()
    after = quality_config(session, project_id)
    record_event(
        session,
        actor_id=actor.user_id,
        action="quality.settings",
        object_type="project",
        object_id=project_id,
        organization_id=view.project.owner_org_id,
        project_id=project_id,
        before=before.as_dict(),
        after=after.as_dict(),
    )
    return after


def _checked_answer(view: ProjectView, answer: Any, payload: dict[str, Any], field: str) -> Any:
    from datadam.schema import parse_schema, validate_result

    try:
        return validate_result(parse_schema(view.project.schema), answer, payload)
    except InputError as exc:
        where = f"{field}.{exc.field}" if exc.field else field
        raise InputError(f"the answer is not valid: {exc.message}", field=where) from None


def _check_purpose(purpose: str, field: str = "purpose") -> str:
    if purpose not in PURPOSES:
        raise InputError(f"purpose must be one of {', '.join(PURPOSES)}", field=field)
    return purpose


def _check_explanation(explanation: Any, field: str = "explanation") -> str:
    if explanation is None:
        return ""
    if not isinstance(explanation, str) or len(explanation) > MAX_EXPLANATION:
        raise InputError(f"explanation must be text of at most {MAX_EXPLANATION}", field=field)
    if "\x00" in explanation:
        raise InputError("explanation contains a NUL character", field=field)
    return explanation


def mark_gold(
    session: Session,
    view: ProjectView,
    actor: Actor,
    *,
    item_id: int,
    answer: Any,
    explanation: str | None = "",
    purpose: str = "gold",
) -> GoldAnswer:
    """Give an item a known answer (gold question, training or qualification item).

    An item already marked has its answer replaced. Otherwise it must be untouched: nobody
    holds or has submitted it, so marking it withdraws no one's work from the dataset.
    """
    view.require(ProjectAction.MANAGE)
    _check_purpose(purpose)
    explanation = _check_explanation(explanation)
    item = session.get(Item, item_id)
    if item is None or item.project_id != view.project.id:
        raise NotFound(f"no item {item_id} in this project", field="item_id")
    clean = _checked_answer(view, answer, item.payload, "answer")
    return _save_gold(session, view, actor, item, clean, explanation, purpose)


def _save_gold(
    session: Session,
    view: ProjectView,
    actor: Actor,
    item: Item,
    answer: dict[str, Any],
    explanation: str,
    purpose: str,
) -> GoldAnswer:
    existing = session.get(GoldAnswer, item.id)
    before = None
    if existing is not None:
        before = {"answer": existing.answer, "purpose": existing.purpose}
        existing.answer, existing.explanation, existing.purpose = answer, explanation, purpose
        gold = existing
    else:
        if item.stage == Stage.GOLD.value or item.n_taken > 0 or item.n_done > 0:
            raise Conflict(
                f"item {item.id} has already been given to workers; mark an item nobody has taken",
                field="item_id",
                code="item_in_use",
            )
        if not move_item_if(session, item.id, source=Stage(item.stage), target=Stage.GOLD):
            raise Conflict(f"item {item.id} changed meanwhile; try again", code="item_in_use")
        gold = GoldAnswer(
            item_id=item.id,
            project_id=item.project_id,
            answer=answer,
            explanation=explanation,
            purpose=purpose,
            created_by=actor.user_id,
            created_at=utcnow(),
        )
        session.add(gold)
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="gold.mark",
        object_type="item",
        object_id=item.id,
        organization_id=view.project.owner_org_id,
        project_id=item.project_id,
        before=before,
        after={"answer": answer, "purpose": purpose},
    )
    return gold


@dataclass(frozen=True)
class GoldImportSummary:
    rows: int
    marked: int
    created: int


def _row_answer(raw: Any, view: ProjectView) -> Any:
    """A row's answer: a JSON object, or (CSV) for a one-control schema, the bare value."""
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("{"):
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                raise InputError("answer is not valid JSON", field="answer") from None
        controls = view.project.schema.get("controls", [])
        if len(controls) == 1 and controls[0].get("type") in ("choice", "transcription", "text"):
            return {controls[0]["name"]: text}
        raise InputError("answer must be a JSON object keyed by control name", field="answer")
    return raw


def _row_item(session: Session, view: ProjectView, data: dict[str, Any]) -> tuple[Item, bool]:
    """The row's item (by item_id, external_id or payload) and whether it was created."""
    project_id = view.project.id
    if data.get("item_id") not in (None, ""):
        raw = data["item_id"]
        try:
            item_id = int(raw)
        except (TypeError, ValueError):
            raise InputError("item_id must be a whole number", field="item_id") from None
        item = session.get(Item, item_id)
        if item is None or item.project_id != project_id:
            raise InputError(f"no item {item_id} in this project", field="item_id")
        return item, False
    if data.get("external_id") not in (None, ""):
        external = str(data["external_id"])
        item = session.execute(
            select(Item).where(Item.project_id == project_id, Item.external_id == external)
        ).scalar()
        if item is None:
            raise InputError(f"no item with external_id {external!r}", field="external_id")
        return item, False
    payload = data.get("payload")
    if isinstance(payload, str) and payload.strip().startswith("{"):
        try:
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise InputError("payload is not valid JSON", field="payload") from None
    if not isinstance(payload, dict) or not payload:
        raise InputError("each row needs item_id, external_id or a payload object", field="item_id")
    content = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
    item = session.execute(
        select(Item).where(Item.project_id == project_id, Item.content_hash == content)
    ).scalar()
    if item is not None:
        return item, False
    external = payload.get("id") if isinstance(payload.get("id"), str) else None
    item = Item(
        project_id=project_id,
        external_id=external,
        payload=payload,
        content_hash=content,
        stage=Stage.LABELING.value,
        created_at=utcnow(),
    )
    session.add(item)
    session.flush()
    return item, True


def import_gold(
    session: Session, view: ProjectView, actor: Actor, *, path: Path
) -> GoldImportSummary:
    """Mark items gold from a JSONL, JSON or CSV file; any bad row refuses the whole file
    (the caller's transaction rolls back every row when this raises).

    A row names its item by `item_id` or `external_id`, or carries a `payload` (the item is
    created); `answer` is the known result (a JSON object; in CSV, for a one-control schema,
    the bare label or text); `explanation` and `purpose` are optional. Errors name the line.
    """
    from datadam.importing.readers import detect_format, read_rows

    view.require(ProjectAction.MANAGE)
    errors: list[str] = []
    rows = marked = created = 0
    with path.open("rb") as handle:
        fmt = detect_format(path, handle.read(64))
        handle.seek(0)
        for row in read_rows(handle, fmt):
            rows += 1
            data = row.payload
            try:
                purpose = _check_purpose(str(data.get("purpose") or "gold"))
                explanation = _check_explanation(data.get("explanation"))
                item, made = _row_item(session, view, data)
                answer = _checked_answer(
                    view, _row_answer(data.get("answer"), view), item.payload, "answer"
                )
                _save_gold(session, view, actor, item, answer, explanation, purpose)
            except (InputError, Conflict) as exc:
                where = f" ({exc.field})" if exc.field else ""
                errors.append(f"line {row.line}{where}: {exc.message}")
                if len(errors) >= MAX_IMPORT_ERRORS:
                    break
                continue
            marked += 1
            created += made
    if errors:
        raise InputError(
            f"{len(errors)} bad row(s), nothing imported: " + "; ".join(errors),
            field=errors[0].split(":")[0].split(" (")[0],
            code="invalid_gold_file",
        )
    if rows == 0:
        raise InputError("the file has no rows", field="file", code="invalid_gold_file")
    return GoldImportSummary(rows=rows, marked=marked, created=created)


def gold_counts_by_purpose(session: Session, project_id: int) -> dict[str, int]:
    rows = session.execute(
        select(GoldAnswer.purpose, func.count())
        .where(GoldAnswer.project_id == project_id)
        .group_by(GoldAnswer.purpose)
    ).all()
    return {purpose: 0 for purpose in PURPOSES} | {p: int(n) for p, n in rows}


@dataclass(frozen=True)
class GoldAccuracy:
    """A worker's gold record since their last reinstatement."""

    answers: int
    correct: int
    low: float  # 95% Wilson interval
    high: float

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answers if self.answers else None


def gold_accuracy(session: Session, project_id: int, worker_id: int) -> GoldAccuracy:
    answers, correct = gold_counts(session, project_id, worker_id)
    low, high = wilson_interval(correct, answers)
    return GoldAccuracy(answers, correct, low, high)


@dataclass(frozen=True)
class WorkerGoldRow:
    worker: str  # the per-project pseudonym
    accuracy: GoldAccuracy
    paused: bool


def accuracy_by_worker(
    session: Session, view: ProjectView, *, pseudonym: Any
) -> list[WorkerGoldRow]:
    """Every worker with gold answers on the project (since their last reinstatement),
    weakest first. `pseudonym(worker_id)` names them."""
    project_id = view.project.id
    workers = session.execute(
        select(GoldResult.worker_id)
        .where(GoldResult.project_id == project_id)
        .group_by(GoldResult.worker_id)
    ).scalars()
    paused = set(
        session.execute(
            select(WorkerPause.worker_id).where(
                WorkerPause.project_id == project_id, WorkerPause.status.in_(OPEN_PAUSE)
            )
        ).scalars()
    )
    rows = [
        WorkerGoldRow(pseudonym(w), gold_accuracy(session, project_id, w), w in paused)
        for w in workers
    ]
    rows.sort(key=lambda r: (r.accuracy.accuracy if r.accuracy.answers else 2.0, r.worker))
    return rows


def open_pause(session: Session, project_id: int, worker_id: int) -> WorkerPause | None:
    return session.execute(
        select(WorkerPause)
        .where(
            WorkerPause.project_id == project_id,
            WorkerPause.worker_id == worker_id,
            WorkerPause.status.in_(OPEN_PAUSE),
        )
        .order_by(WorkerPause.id.desc())
        .limit(1)
    ).scalar()


def appeal_pause(session: Session, view: ProjectView, actor: Actor, text: str) -> WorkerPause:
    """The paused worker asks the project's managers to reinstate them."""
    view.require(ProjectAction.WORK)
    text = (text or "").strip()
    if not text:
        raise InputError("please say why you should be reinstated", field="text")
    if len(text) > MAX_APPEAL or "\x00" in text:
        raise InputError(f"an appeal is at most {MAX_APPEAL} characters", field="text")
    pause = open_pause(session, view.project.id, actor.user_id)
    if pause is None:
        raise NotFound("you are not paused on this project", field="project_id", code="no_pause")
    if pause.status == "appealed":
        raise Conflict("you have already appealed; a manager will answer", code="already_appealed")
    pause.status, pause.appeal_text, pause.appealed_at = "appealed", text, utcnow()
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="worker.pause_appealed",
        object_type="worker_pause",
        object_id=pause.id,
        project_id=view.project.id,
        before={"status": "paused"},
        after={"status": "appealed", "appeal_text": text},
    )
    return pause


def resolve_pause(
    session: Session,
    view: ProjectView,
    actor: Actor,
    *,
    pause_id: int,
    decision: str,
    note: str = "",
) -> WorkerPause:
    """A manager reinstates the worker (their accuracy counts afresh) or upholds the pause."""
    view.require(ProjectAction.MANAGE)
    if decision not in ("reinstate", "uphold"):
        raise InputError("decision must be reinstate or uphold", field="decision")
    note = (note or "").strip()
    if len(note) > MAX_APPEAL or "\x00" in note:
        raise InputError(f"a note is at most {MAX_APPEAL} characters", field="note")
    pause = session.get(WorkerPause, pause_id)
    if pause is None or pause.project_id != view.project.id:
        raise NotFound(f"no pause {pause_id} on this project", field="pause_id", code="no_pause")
    if pause.status not in OPEN_PAUSE:
        raise Conflict(f"this pause was already {pause.status}", code="already_resolved")
    if decision == "uphold" and pause.status != "appealed":
        raise Conflict("only an appeal can be upheld; the pause stays", code="no_appeal")
    before = {"status": pause.status}
    pause.status = "reinstated" if decision == "reinstate" else "upheld"
    pause.resolution, pause.resolved_by, pause.resolved_at = note, actor.user_id, utcnow()
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action=f"worker.pause_{pause.status}",
        object_type="worker_pause",
        object_id=pause.id,
        organization_id=view.project.owner_org_id,
        project_id=view.project.id,
        before=before,
        after={"status": pause.status, "note": note, "worker_id": pause.worker_id},
    )
    return pause


@dataclass(frozen=True)
class PauseRow:
    id: int
    worker: str
    status: str
    reason: str
    accuracy: float | None
    gold_answers: int
    appeal_text: str | None
    appealed_at: datetime | None
    resolution: str | None
    created_at: datetime


def list_pauses(
    session: Session, view: ProjectView, *, pseudonym: Any, limit: int = 200
) -> list[PauseRow]:
    """The project's pauses, open ones (appeals first) before resolved ones, newest first."""
    view.require(ProjectAction.MANAGE)
    order = case(
        (WorkerPause.status == "appealed", 0), (WorkerPause.status == "paused", 1), else_=2
    )
    rows = session.execute(
        select(WorkerPause)
        .where(WorkerPause.project_id == view.project.id)
        .order_by(order, WorkerPause.id.desc())
        .limit(limit)
    ).scalars()
    return [
        PauseRow(
            id=p.id,
            worker=pseudonym(p.worker_id),
            status=p.status,
            reason=p.reason,
            accuracy=p.accuracy,
            gold_answers=p.gold_answers,
            appeal_text=p.appeal_text,
            appealed_at=p.appealed_at,
            resolution=p.resolution,
            created_at=p.created_at,
        )
        for p in rows
    ]
