"""Training and qualification: known-answer questions a worker answers before (or beside)
real work, and the paid time they spend on them.

Training items show the correct answer and the guideline's explanation right after each
answer. A qualification test is every 'qualification' item of the project, in a fixed order;
an attempt ends when all are answered and passes when the share answered correctly reaches the
project's pass mark. A worker has `max_attempts` tries; until one passes, a project that
requires qualification gives them no real tasks (`gold.injection.check_gate`).

Each question is stamped when served and when answered, by the server's clock. The time in
between, capped at `PRACTICE_TIME_CAP` (someone who walked away is not paid for the break), is
recorded as `worked_time` (source 'training' or 'qualification'), which pay period close pays.
Serving again before answering returns the same question with its first stamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.audit import record_event
from datadam.errors import Conflict, InputError, NotFound
from datadam.gold.service import QualityConfig, quality_config
from datadam.pay.worktime import to_us
from datadam.projects.service import ProjectView
from datadam.quality.gold_scoring import is_correct, score
from datadam.storage.tables import (
    GoldAnswer,
    Item,
    PracticeAnswer,
    QualificationAttempt,
    WorkedTime,
)
from datadam.storage.types import utcnow

PRACTICE_TIME_CAP = timedelta(minutes=15)
PRACTICE_PURPOSES = ("training", "qualification")


@dataclass(frozen=True)
class PracticeTask:
    """A training or qualification question as the worker sees it."""

    id: int
    project_id: int
    item_id: int
    purpose: str
    payload: dict[str, Any]
    number: int  # 1-based position among the questions of this training or attempt
    total: int


@dataclass(frozen=True)
class AttemptResult:
    attempt_no: int
    correct: int
    questions: int
    score: float
    passed: bool
    attempts_left: int


@dataclass(frozen=True)
class PracticeFeedback:
    """What the worker learns after answering. Qualification questions reveal nothing until
    the attempt ends; training questions show the answer and the explanation."""

    practice_id: int
    purpose: str
    correct: bool | None
    score: float | None
    answer: dict[str, Any] | None
    explanation: str | None
    attempt: AttemptResult | None
    more: bool  # another question of the same kind is waiting


@dataclass(frozen=True)
class QualificationStatus:
    required: bool
    questions: int
    passed: bool
    attempts_used: int
    max_attempts: int
    open_attempt: bool
    last_score: float | None

    @property
    def attempts_left(self) -> int:
        return max(0, self.max_attempts - self.attempts_used)

    @property
    def can_start(self) -> bool:
        return self.questions > 0 and not self.passed and (self.open_attempt or self.attempts_left)


def _questions(session: Session, project_id: int, purpose: str) -> list[int]:
    return list(
        session.execute(
            select(GoldAnswer.item_id)
            .where(GoldAnswer.project_id == project_id, GoldAnswer.purpose == purpose)
            .order_by(GoldAnswer.item_id)
        ).scalars()
    )


def _attempts(session: Session, project_id: int, worker_id: int) -> list[QualificationAttempt]:
    return list(
        session.execute(
            select(QualificationAttempt)
            .where(
                QualificationAttempt.project_id == project_id,
                QualificationAttempt.worker_id == worker_id,
            )
            .order_by(QualificationAttempt.attempt_no)
        ).scalars()
    )


def qualification_status(
    session: Session, project_id: int, worker_id: int, config: QualityConfig | None = None
) -> QualificationStatus:
    config = config or quality_config(session, project_id)
    attempts = _attempts(session, project_id, worker_id)
    finished = [a for a in attempts if a.status != "open"]
    return QualificationStatus(
        required=config.qualification_required,
        questions=len(_questions(session, project_id, "qualification")),
        passed=any(a.status == "passed" for a in attempts),
        attempts_used=len(attempts),
        max_attempts=config.max_attempts,
        open_attempt=any(a.status == "open" for a in attempts),
        last_score=finished[-1].score if finished else None,
    )


def training_progress(session: Session, project_id: int, worker_id: int) -> tuple[int, int]:
    """(training questions answered by the worker, training questions in the project)."""
    total = len(_questions(session, project_id, "training"))
    done = session.execute(
        select(func.count(func.distinct(PracticeAnswer.item_id))).where(
            PracticeAnswer.project_id == project_id,
            PracticeAnswer.worker_id == worker_id,
            PracticeAnswer.purpose == "training",
            PracticeAnswer.answered_at.is_not(None),
        )
    ).scalar_one()
    return int(done), total


def _open_row(
    session: Session, project_id: int, worker_id: int, purpose: str, attempt_id: int | None
) -> PracticeAnswer | None:
    query = select(PracticeAnswer).where(
        PracticeAnswer.project_id == project_id,
        PracticeAnswer.worker_id == worker_id,
        PracticeAnswer.purpose == purpose,
        PracticeAnswer.answered_at.is_(None),
    )
    if attempt_id is not None:
        query = query.where(PracticeAnswer.attempt_id == attempt_id)
    return session.execute(query.order_by(PracticeAnswer.id).limit(1)).scalar()


def _task(session: Session, row: PracticeAnswer, number: int, total: int) -> PracticeTask:
    item = session.get(Item, row.item_id)
    assert item is not None
    return PracticeTask(
        row.id, row.project_id, row.item_id, row.purpose, item.payload, number, total
    )


def _serve(
    session: Session,
    project_id: int,
    worker_id: int,
    purpose: str,
    item_id: int,
    attempt_id: int | None,
) -> PracticeAnswer:
    row = PracticeAnswer(
        project_id=project_id,
        worker_id=worker_id,
        item_id=item_id,
        purpose=purpose,
        attempt_id=attempt_id,
        served_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def _next_training(session: Session, view: ProjectView, actor: Actor) -> PracticeTask | None:
    project_id, worker_id = view.project.id, actor.user_id
    questions = _questions(session, project_id, "training")
    done, _total = training_progress(session, project_id, worker_id)
    row = _open_row(session, project_id, worker_id, "training", None)
    if row is None:
        answered = exists().where(
            PracticeAnswer.item_id == GoldAnswer.item_id,
            PracticeAnswer.worker_id == worker_id,
            PracticeAnswer.answered_at.is_not(None),
        )
        item_id = session.execute(
            select(GoldAnswer.item_id)
            .where(
                and_(GoldAnswer.project_id == project_id, GoldAnswer.purpose == "training"),
                ~answered,
            )
            .order_by(GoldAnswer.item_id)
            .limit(1)
        ).scalar()
        if item_id is None:
            return None
        row = _serve(session, project_id, worker_id, "training", item_id, None)
    return _task(session, row, done + 1, len(questions))


def _start_attempt(
    session: Session, view: ProjectView, actor: Actor, questions: list[int]
) -> QualificationAttempt:
    project_id = view.project.id
    status = qualification_status(session, project_id, actor.user_id)
    if status.passed:
        raise Conflict("you have already passed this project's test", code="already_qualified")
    if not questions:
        raise NotFound("this project has no qualification test", code="no_qualification_test")
    if status.attempts_left <= 0:
        raise Conflict(
            f"you have used all {status.max_attempts} attempts at this test",
            code="no_attempts_left",
        )
    attempt = QualificationAttempt(
        project_id=project_id,
        worker_id=actor.user_id,
        attempt_no=status.attempts_used + 1,
        status="open",
        n_items=len(questions),
        n_correct=0,
        started_at=utcnow(),
    )
    session.add(attempt)
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="qualification.started",
        object_type="qualification_attempt",
        object_id=attempt.id,
        project_id=project_id,
        after={"attempt_no": attempt.attempt_no, "questions": attempt.n_items},
    )
    return attempt


def _next_qualification(session: Session, view: ProjectView, actor: Actor) -> PracticeTask:
    project_id, worker_id = view.project.id, actor.user_id
    questions = _questions(session, project_id, "qualification")
    attempt = next(
        (a for a in _attempts(session, project_id, worker_id) if a.status == "open"), None
    )
    if attempt is None:
        attempt = _start_attempt(session, view, actor, questions)
    seen = dict(
        session.execute(
            select(PracticeAnswer.item_id, PracticeAnswer.answered_at).where(
                PracticeAnswer.attempt_id == attempt.id
            )
        ).all()
    )
    answered = sum(1 for at in seen.values() if at is not None)
    row = _open_row(session, project_id, worker_id, "qualification", attempt.id)
    if row is None:
        item_id = next((q for q in questions if q not in seen), None)
        if item_id is None:  # questions were withdrawn mid-attempt: finish with what there is
            _finish_attempt(session, view, actor, attempt, answered)
            raise Conflict("this attempt has ended; see your result", code="attempt_finished")
        row = _serve(session, project_id, worker_id, "qualification", item_id, attempt.id)
    return _task(session, row, answered + 1, attempt.n_items)


def next_practice(
    session: Session, view: ProjectView, actor: Actor, *, purpose: str
) -> PracticeTask | None:
    """The worker's current (or next) training or qualification question.

    Training: None once every training question is answered. Qualification: starts an attempt
    when none is open (refused when passed, out of attempts, or there is no test).
    """
    view.require(ProjectAction.WORK)
    if purpose == "training":
        return _next_training(session, view, actor)
    if purpose == "qualification":
        return _next_qualification(session, view, actor)
    raise InputError("purpose must be training or qualification", field="purpose")


def _finish_attempt(
    session: Session,
    view: ProjectView,
    actor: Actor,
    attempt: QualificationAttempt,
    answered: int,
) -> AttemptResult:
    config = quality_config(session, view.project.id)
    questions = max(attempt.n_items, answered, 1)
    attempt.score = attempt.n_correct / questions
    attempt.status = "passed" if attempt.score >= config.pass_mark else "failed"
    attempt.finished_at = utcnow()
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action=f"qualification.{attempt.status}",
        object_type="qualification_attempt",
        object_id=attempt.id,
        project_id=view.project.id,
        before={"status": "open"},
        after={
            "status": attempt.status,
            "score": round(attempt.score, 4),
            "pass_mark": config.pass_mark,
            "attempt_no": attempt.attempt_no,
        },
    )
    return _attempt_result(attempt, config)


def _attempt_result(attempt: QualificationAttempt, config: QualityConfig) -> AttemptResult:
    return AttemptResult(
        attempt_no=attempt.attempt_no,
        correct=attempt.n_correct,
        questions=attempt.n_items,
        score=attempt.score or 0.0,
        passed=attempt.status == "passed",
        attempts_left=max(0, config.max_attempts - attempt.attempt_no),
    )


def _record_time(session: Session, row: PracticeAnswer) -> None:
    assert row.answered_at is not None
    spent = min(row.answered_at - row.served_at, PRACTICE_TIME_CAP)
    duration = to_us(spent)
    if duration <= 0:
        return
    session.add(
        WorkedTime(
            worker_id=row.worker_id,
            project_id=row.project_id,
            source=row.purpose,
            duration_us=duration,
            work_ref=f"practice:{row.id}",
            recorded_at=row.answered_at,
        )
    )


def _feedback(
    session: Session, row: PracticeAnswer, gold: GoldAnswer, attempt: AttemptResult | None
) -> PracticeFeedback:
    training = row.purpose == "training"
    more = _has_more_training(session, row) if training else attempt is None
    return PracticeFeedback(
        practice_id=row.id,
        purpose=row.purpose,
        correct=row.correct if training else None,
        score=row.score if training else None,
        answer=gold.answer if training else None,
        explanation=gold.explanation if training else None,
        attempt=attempt,
        more=more,
    )


def _has_more_training(session: Session, row: PracticeAnswer) -> bool:
    done, total = training_progress(session, row.project_id, row.worker_id)
    return done < total


def answer_practice(
    session: Session, view: ProjectView, actor: Actor, *, practice_id: int, result: Any
) -> PracticeFeedback:
    """Score the worker's answer to a served question; repeating the same answer is harmless."""
    from datadam.schema import parse_schema, validate_result

    view.require(ProjectAction.WORK)
    row = session.get(PracticeAnswer, practice_id)
    if row is None or row.worker_id != actor.user_id or row.project_id != view.project.id:
        raise NotFound(f"no question {practice_id}", field="practice_id", code="no_practice")
    gold = session.get(GoldAnswer, row.item_id)
    item = session.get(Item, row.item_id)
    if gold is None or item is None:
        raise NotFound("this question was withdrawn", field="practice_id", code="no_practice")
    schema = parse_schema(view.project.schema)
    clean = validate_result(schema, result, item.payload)
    config = quality_config(session, view.project.id)
    attempt = session.get(QualificationAttempt, row.attempt_id) if row.attempt_id else None
    if row.answered_at is not None:
        if row.result != clean:
            raise Conflict("this question was already answered", code="already_answered")
        done = attempt if attempt is not None and attempt.status != "open" else None
        return _feedback(session, row, gold, _attempt_result(done, config) if done else None)
    if attempt is not None and attempt.status != "open":
        raise Conflict("this attempt has ended", code="attempt_finished")
    schema_dict = view.project.schema
    row.result = clean
    row.score = score(schema_dict, clean, gold.answer)
    row.correct = is_correct(schema_dict, clean, gold.answer)
    row.answered_at = utcnow()
    _record_time(session, row)
    session.flush()
    finished = None
    if attempt is not None:
        attempt.n_correct += 1 if row.correct else 0
        answered = session.execute(
            select(func.count()).where(
                PracticeAnswer.attempt_id == attempt.id, PracticeAnswer.answered_at.is_not(None)
            )
        ).scalar_one()
        if answered >= attempt.n_items:
            finished = _finish_attempt(session, view, actor, attempt, int(answered))
    return _feedback(session, row, gold, finished)


@dataclass(frozen=True)
class WorkerQuality:
    """What a worker sees of their own standing on a project."""

    config: QualityConfig
    accuracy: Any  # gold.service.GoldAccuracy
    pause: Any  # the open WorkerPause, or None
    qualification: QualificationStatus
    training_done: int
    training_total: int


def worker_quality(session: Session, view: ProjectView, actor: Actor) -> WorkerQuality:
    from datadam.gold.service import gold_accuracy, open_pause

    view.require(ProjectAction.WORK)
    project_id = view.project.id
    config = quality_config(session, project_id)
    done, total = training_progress(session, project_id, actor.user_id)
    return WorkerQuality(
        config=config,
        accuracy=gold_accuracy(session, project_id, actor.user_id),
        pause=open_pause(session, project_id, actor.user_id),
        qualification=qualification_status(session, project_id, actor.user_id, config),
        training_done=done,
        training_total=total,
    )
