"""Gold questions, pauses and appeals, training and qualification (issue 6, items 1 and 2)."""

from __future__ import annotations

import uuid
from functools import partial
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as FormFile

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.errors import InputError, PayloadTooLarge
from datadam.exporting.jsonl import worker_pseudonym
from datadam.gold import practice
from datadam.gold import service as gold
from datadam.projects.service import ProjectView, get_project_for
from datadam.web.api.wire import Input, PathId, file_upload_body
from datadam.web.deps import AppSettings, CurrentActor, Db
from datadam.web.limits import MAX_FIELD_BYTES, MAX_FORM_FIELDS

router = APIRouter(tags=["quality"])
MAX_GOLD_FILE = 20 * 1024 * 1024


class QualitySettingsPublic(BaseModel):
    gold_rate: float = Field(description="Share of new tasks that are gold questions (0-0.5).")
    pause_threshold: float = Field(description="Gold accuracy below this pauses a worker.")
    min_gold_answers: int = Field(description="Gold answers needed before a pause can happen.")
    qualification_required: bool
    pass_mark: float = Field(description="Share of qualification questions to get right.")
    max_attempts: int


class QualitySettingsUpdate(Input):
    gold_rate: float | None = None
    pause_threshold: float | None = None
    min_gold_answers: int | None = None
    qualification_required: bool | None = None
    pass_mark: float | None = None
    max_attempts: int | None = None


class GoldMark(Input):
    item_id: int = Field(ge=1, le=2**63 - 1)
    answer: dict[str, Any]
    explanation: str = Field("", max_length=gold.MAX_EXPLANATION)
    purpose: Literal["gold", "training", "qualification"] = "gold"


class GoldMarked(BaseModel):
    item_id: int
    purpose: str
    answer: dict[str, Any]


class GoldImportResult(BaseModel):
    rows: int
    marked: int
    created: int


class Accuracy(BaseModel):
    answers: int
    correct: int
    accuracy: float | None
    low: float = Field(description="95% Wilson interval, lower end.")
    high: float


class WorkerAccuracy(BaseModel):
    worker: str = Field(description="The worker's pseudonym in this project.")
    gold: Accuracy
    paused: bool


class PausePublic(BaseModel):
    id: int
    worker: str
    status: str
    reason: str
    accuracy: float | None
    gold_answers: int
    appeal_text: str | None
    resolution: str | None


class Appeal(Input):
    text: str = Field(min_length=1, max_length=gold.MAX_APPEAL)


class Resolution(Input):
    decision: Literal["reinstate", "uphold"]
    note: str = Field("", max_length=gold.MAX_APPEAL)


class QualificationPublic(BaseModel):
    required: bool
    questions: int
    passed: bool
    attempts_used: int
    max_attempts: int
    open_attempt: bool
    last_score: float | None


class MyQuality(BaseModel):
    gold: Accuracy
    paused: bool
    pause_reason: str | None
    pause_status: str | None
    qualification: QualificationPublic
    training_done: int
    training_total: int


class PracticeNext(Input):
    purpose: Literal["training", "qualification"]


class PracticeTaskPublic(BaseModel):
    practice_id: int
    project_id: int
    item_id: int
    purpose: str
    payload: dict[str, Any]
    number: int
    total: int


class PracticeAnswerBody(Input):
    result: dict[str, Any]


class AttemptPublic(BaseModel):
    attempt_no: int
    correct: int
    questions: int
    score: float
    passed: bool
    attempts_left: int


class PracticeFeedbackPublic(BaseModel):
    practice_id: int
    purpose: str
    correct: bool | None = Field(description="Training only; null for qualification questions.")
    score: float | None
    answer: dict[str, Any] | None = Field(description="Training only: the correct answer.")
    explanation: str | None
    attempt: AttemptPublic | None = Field(description="Set when this answer ended an attempt.")
    more: bool


def _accuracy(a: gold.GoldAccuracy) -> Accuracy:
    return Accuracy(
        answers=a.answers, correct=a.correct, accuracy=a.accuracy, low=a.low, high=a.high
    )


def _view(session: Any, actor: Actor, project_id: int, action: ProjectAction) -> ProjectView:
    view = get_project_for(session, actor, project_id)
    view.require(action)
    return view


def _pause_public(p: Any, worker: str) -> PausePublic:
    return PausePublic(
        id=p.id,
        worker=worker,
        status=p.status,
        reason=p.reason,
        accuracy=p.accuracy,
        gold_answers=p.gold_answers,
        appeal_text=p.appeal_text,
        resolution=p.resolution,
    )


@router.get("/projects/{project_id}/quality/settings", response_model=QualitySettingsPublic)
def get_quality_settings(project_id: PathId, actor: CurrentActor, db: Db) -> QualitySettingsPublic:
    """Gold rate, pause rule and qualification test settings (project managers)."""
    with db.read() as session:
        _view(session, actor, project_id, ProjectAction.MANAGE)
        return QualitySettingsPublic(**gold.quality_config(session, project_id).as_dict())


@router.put("/projects/{project_id}/quality/settings", response_model=QualitySettingsPublic)
def put_quality_settings(
    project_id: PathId, body: QualitySettingsUpdate, actor: CurrentActor, db: Db
) -> QualitySettingsPublic:
    """Change some settings; fields left out or null keep their values."""
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        changes = body.model_dump(exclude_none=True)
        config = gold.update_quality_settings(session, view, actor, changes)
    return QualitySettingsPublic(**config.as_dict())


@router.post("/projects/{project_id}/gold", response_model=GoldMarked, status_code=201)
def mark_gold(project_id: PathId, body: GoldMark, actor: CurrentActor, db: Db) -> GoldMarked:
    """Give an item nobody has taken a known answer: a gold question, training or test item."""
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        row = gold.mark_gold(
            session,
            view,
            actor,
            item_id=body.item_id,
            answer=body.answer,
            explanation=body.explanation,
            purpose=body.purpose,
        )
        return GoldMarked(item_id=row.item_id, purpose=row.purpose, answer=row.answer)


_GOLD_UPLOAD = file_upload_body(
    "JSONL, JSON array or CSV: item_id, external_id or payload; answer; "
    "optional explanation and purpose."
)


def _import(db: Db, actor: Actor, project_id: int, path: Path) -> gold.GoldImportSummary:
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        return gold.import_gold(session, view, actor, path=path)


def _can_manage(db: Db, actor: Actor, project_id: int) -> None:
    with db.read() as session:
        _view(session, actor, project_id, ProjectAction.MANAGE)


@router.post(
    "/projects/{project_id}/gold/import",
    response_model=GoldImportResult,
    status_code=201,
    openapi_extra=_GOLD_UPLOAD,
)
async def import_gold(
    request: Request, project_id: PathId, actor: CurrentActor, db: Db, settings: AppSettings
) -> GoldImportResult:
    """Mark many items at once. Any bad row refuses the whole file (422 naming each line)."""
    await run_in_threadpool(_can_manage, db, actor, project_id)
    async with request.form(
        max_files=1, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES
    ) as form:
        file = form.get("file")
        if not isinstance(file, FormFile):
            raise InputError("file: Field required", field="file")
        limit = min(settings.max_upload_bytes, MAX_GOLD_FILE)
        data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"a gold file is at most {limit} bytes", field="file")
    suffix = Path(file.filename or "").suffix.lower()
    folder = settings.data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    known = suffix if suffix in (".csv", ".jsonl", ".json") else ""
    path = folder / f"gold-{uuid.uuid4().hex}{known}"
    path.write_bytes(data)
    try:
        summary = await run_in_threadpool(partial(_import, db, actor, project_id, path))
    finally:
        path.unlink(missing_ok=True)
    return GoldImportResult(rows=summary.rows, marked=summary.marked, created=summary.created)


@router.get("/projects/{project_id}/gold/accuracy", response_model=list[WorkerAccuracy])
def gold_accuracy(
    request: Request, project_id: PathId, actor: CurrentActor, db: Db
) -> list[WorkerAccuracy]:
    """Each worker's live gold accuracy (since their last reinstatement), weakest first."""
    secret = request.app.state.secret_key
    with db.read() as session:
        view = _view(session, actor, project_id, ProjectAction.MANAGE)
        rows = gold.accuracy_by_worker(
            session, view, pseudonym=partial(worker_pseudonym, secret, project_id)
        )
    return [
        WorkerAccuracy(worker=r.worker, gold=_accuracy(r.accuracy), paused=r.paused) for r in rows
    ]


@router.get("/projects/{project_id}/pauses", response_model=list[PausePublic])
def list_pauses(
    request: Request, project_id: PathId, actor: CurrentActor, db: Db
) -> list[PausePublic]:
    """Workers paused on the project, appeals first."""
    secret = request.app.state.secret_key
    with db.read() as session:
        view = get_project_for(session, actor, project_id)
        rows = gold.list_pauses(
            session, view, pseudonym=partial(worker_pseudonym, secret, project_id)
        )
    return [
        PausePublic(
            id=r.id,
            worker=r.worker,
            status=r.status,
            reason=r.reason,
            accuracy=r.accuracy,
            gold_answers=r.gold_answers,
            appeal_text=r.appeal_text,
            resolution=r.resolution,
        )
        for r in rows
    ]


@router.post("/projects/{project_id}/pauses/{pause_id}/resolve", response_model=PausePublic)
def resolve_pause(
    request: Request,
    project_id: PathId,
    pause_id: PathId,
    body: Resolution,
    actor: CurrentActor,
    db: Db,
) -> PausePublic:
    """Reinstate a paused worker (their gold accuracy counts afresh) or uphold the pause."""
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        p = gold.resolve_pause(
            session, view, actor, pause_id=pause_id, decision=body.decision, note=body.note
        )
        name = worker_pseudonym(request.app.state.secret_key, project_id, p.worker_id)
        return _pause_public(p, name)


@router.get("/projects/{project_id}/quality/me", response_model=MyQuality)
def my_quality(project_id: PathId, actor: CurrentActor, db: Db) -> MyQuality:
    """Your gold accuracy, whether you are paused and why, your qualification and training."""
    with db.read() as session:
        view = get_project_for(session, actor, project_id)
        mine = practice.worker_quality(session, view, actor)
    q = mine.qualification
    return MyQuality(
        gold=_accuracy(mine.accuracy),
        paused=mine.pause is not None,
        pause_reason=mine.pause.reason if mine.pause else None,
        pause_status=mine.pause.status if mine.pause else None,
        qualification=QualificationPublic(
            required=q.required,
            questions=q.questions,
            passed=q.passed,
            attempts_used=q.attempts_used,
            max_attempts=q.max_attempts,
            open_attempt=q.open_attempt,
            last_score=q.last_score,
        ),
        training_done=mine.training_done,
        training_total=mine.training_total,
    )


@router.post("/projects/{project_id}/appeal", status_code=201, response_model=PausePublic)
def appeal(project_id: PathId, body: Appeal, actor: CurrentActor, db: Db) -> PausePublic:
    """Ask the project's managers to lift your pause, saying why."""
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        p = gold.appeal_pause(session, view, actor, body.text)
        return _pause_public(p, actor.pseudonym)


def practice_public(task: practice.PracticeTask) -> PracticeTaskPublic:
    return PracticeTaskPublic(
        practice_id=task.id,
        project_id=task.project_id,
        item_id=task.item_id,
        purpose=task.purpose,
        payload=task.payload,
        number=task.number,
        total=task.total,
    )


def feedback_public(feedback: practice.PracticeFeedback) -> PracticeFeedbackPublic:
    attempt = feedback.attempt
    return PracticeFeedbackPublic(
        practice_id=feedback.practice_id,
        purpose=feedback.purpose,
        correct=feedback.correct,
        score=feedback.score,
        answer=feedback.answer,
        explanation=feedback.explanation,
        attempt=AttemptPublic(**attempt.__dict__) if attempt else None,
        more=feedback.more,
    )


@router.post(
    "/projects/{project_id}/practice/next",
    response_model=PracticeTaskPublic,
    responses={204: {"description": "No training question left for you."}},
)
def next_practice(
    project_id: PathId, body: PracticeNext, actor: CurrentActor, db: Db
) -> PracticeTaskPublic | Response:
    """Your current or next training question, or qualification test question (a test
    question starts an attempt when none is open)."""
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        task = practice.next_practice(session, view, actor, purpose=body.purpose)
        if task is None:
            return Response(status_code=204)
        return practice_public(task)


@router.post(
    "/projects/{project_id}/practice/{practice_id}/answer", response_model=PracticeFeedbackPublic
)
def answer_practice(
    project_id: PathId, practice_id: PathId, body: PracticeAnswerBody, actor: CurrentActor, db: Db
) -> PracticeFeedbackPublic:
    """Answer a training or test question. Training answers come back with the correct answer
    and its explanation; test answers reveal nothing until the attempt ends."""
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        feedback = practice.answer_practice(
            session, view, actor, practice_id=practice_id, result=body.result
        )
        return feedback_public(feedback)
