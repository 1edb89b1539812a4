"""The gold questions' part of the worker's loop: the gate, the injector and the scorer.

`assignment.service.next_task` reads a project's quality settings in the same statement as the
project (`GATE_COLUMNS`, `GATE_JOIN`), so a project without settings costs nothing extra. With
settings, a worker paused on the project is refused (`worker_paused`), one who has not passed a
required qualification test too (`qualification_required`); otherwise, at the project's gold
rate, a gold item the worker has never seen is leased instead of a queue item.

Which asks get gold is decided by a hash of (project, worker, number of the worker's
assignments so far), so a run is reproducible and a worker cannot predict it from timing.
Gold items sit at stage 'gold': the queue never picks them, they take no overlap slot and
count toward no progress; the lease and the task a worker sees look exactly like any other.

A submitted answer to a gold item is scored (`quality.gold_scoring`) into `gold_result` in the
submit's own transaction; after `min_gold_answers` answers since the worker's last
reinstatement, accuracy below `pause_threshold` pauses the worker on the project.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, select
from sqlalchemy.orm import Session

from datadam.assignment.queue import Lease, db_time
from datadam.audit import record_event
from datadam.errors import NotAllowed
from datadam.quality.gold_scoring import is_correct, score
from datadam.storage.conversation import Steps, ask
from datadam.storage.tables import GoldAnswer, GoldResult, QualitySettings, WorkerPause
from datadam.storage.types import utcnow

OPEN_PAUSE = ("paused", "appealed")

# Appended to next-task's project statement (after the vendor column): the gold rate, whether a
# qualification is required, the open pause's id and the worker's passed attempts. The
# subqueries run only for projects that have quality settings.
GATE_COLUMNS = (
    ", qs.gold_rate, qs.qualification_required, "
    "CASE WHEN qs.project_id IS NULL THEN NULL ELSE (SELECT MAX(wp.id) FROM worker_pause wp "
    "WHERE wp.project_id = p.id AND wp.worker_id = :w AND wp.status IN ('paused', 'appealed')) "
    "END, CASE WHEN qs.qualification_required THEN (SELECT COUNT(*) FROM qualification_attempt "
    "qa WHERE qa.project_id = p.id AND qa.worker_id = :w AND qa.status = 'passed') ELSE NULL END "
)
GATE_JOIN = " LEFT JOIN quality_settings qs ON qs.project_id = p.id"


def check_gate(*, project_id: int, worker_id: int, gate: Any) -> Steps[float]:
    """Refuse a paused or unqualified worker; else the project's gold rate (0 without gold).

    `gate` holds the four `GATE_COLUMNS` values of the project row.
    """
    gold_rate, qualification_required, pause_id, passed = gate
    if gold_rate is None:  # no quality settings: nothing to check
        return 0.0
    if pause_id is not None:
        pause = yield from ask("SELECT reason FROM worker_pause WHERE id = :i", {"i": pause_id})
        reason = pause.rows[0][0]
        raise NotAllowed(
            f"you are paused on this project: {reason} You can appeal on the project's page.",
            code="worker_paused",
        )
    if qualification_required and not passed:
        raise NotAllowed(
            "pass this project's qualification test before taking its tasks",
            code="qualification_required",
        )
    return float(gold_rate)


def draws_gold(project_id: int, worker_id: int, asked: int, rate: float) -> bool:
    """Whether the worker's `asked`-th new task (0-based) is a gold question, at `rate`."""
    if rate <= 0:
        return False
    digest = hashlib.sha256(f"gold:{project_id}:{worker_id}:{asked}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


_ASKED = "SELECT COUNT(*) FROM assignment WHERE worker_id = :w AND project_id = :p"
_UNSEEN_GOLD = (
    "SELECT ga.item_id, i.payload, i.media_key FROM gold_answer ga "
    "JOIN item i ON i.id = ga.item_id WHERE ga.project_id = :p AND ga.purpose = 'gold' "
    "AND i.stage = 'gold' AND NOT EXISTS (SELECT 1 FROM assignment a "
    "WHERE a.item_id = ga.item_id AND a.worker_id = :w) ORDER BY ga.item_id LIMIT 1"
)
_LEASE_GOLD = (
    "INSERT INTO assignment (project_id, item_id, worker_id, status, leased_at, expires_at)"
    " VALUES (:p, :i, :w, 'active', :now, :exp) RETURNING id"
)


def lease_gold_item(
    dialect: str, *, project: Any, worker_id: int, rate: float
) -> Steps[Lease | None]:
    """A lease on an unseen gold item when this ask draws gold; None to use the queue.

    The caller has already returned any live lease and holds the worker's lock.
    """
    asked = (yield from ask(_ASKED, {"w": worker_id, "p": project.id})).rows[0][0]
    if not draws_gold(project.id, worker_id, int(asked), rate):
        return None
    row = (yield from ask(_UNSEEN_GOLD, {"p": project.id, "w": worker_id})).first()
    if row is None:
        return None
    item_id, payload, media_key = row
    now = utcnow()
    expires = now + timedelta(seconds=project.lease_seconds)
    params = {
        "p": project.id,
        "i": item_id,
        "w": worker_id,
        "now": db_time(dialect, now),
        "exp": db_time(dialect, expires),
    }
    assignment_id = (yield from ask(_LEASE_GOLD, params)).rows[0][0]
    return Lease(assignment_id, item_id, project.id, now, expires, False, payload, media_key)


def record_gold_result(
    conn: Connection,
    *,
    project_id: int,
    worker_id: int,
    item_id: int,
    annotation_id: int,
    result: dict[str, Any],
    schema: Any,
) -> None:
    """Score a stored answer to a gold item and pause the worker if their accuracy fell."""
    answer = conn.execute(
        select(GoldAnswer.answer).where(GoldAnswer.item_id == item_id, GoldAnswer.purpose == "gold")
    ).scalar()
    if answer is None:
        return
    points = score(schema, result, answer)
    conn.execute(
        insert(GoldResult).values(
            annotation_id=annotation_id,
            project_id=project_id,
            worker_id=worker_id,
            item_id=item_id,
            score=points,
            correct=is_correct(schema, result, answer),
            at=utcnow(),
        )
    )
    _pause_if_below(conn, project_id=project_id, worker_id=worker_id)


def counting_since(conn_or_session: Any, project_id: int, worker_id: int) -> Any:
    """When the worker's gold accuracy starts counting: their last reinstatement, or None."""
    return conn_or_session.execute(
        select(func.max(WorkerPause.resolved_at)).where(
            WorkerPause.project_id == project_id,
            WorkerPause.worker_id == worker_id,
            WorkerPause.status == "reinstated",
        )
    ).scalar()


def gold_counts(conn_or_session: Any, project_id: int, worker_id: int) -> tuple[int, int]:
    """(answers, correct answers) on gold since the worker's last reinstatement."""
    since = counting_since(conn_or_session, project_id, worker_id)
    query = select(func.count(), func.coalesce(func.sum(case((GoldResult.correct, 1), else_=0)), 0))
    condition = and_(GoldResult.project_id == project_id, GoldResult.worker_id == worker_id)
    if since is not None:
        condition = and_(condition, GoldResult.at > since)
    answers, correct = conn_or_session.execute(query.where(condition)).one()
    return int(answers), int(correct)


def pause_reason(correct: int, answers: int, threshold: float) -> str:
    return (
        f"your accuracy on check questions is {correct / answers:.0%} ({correct} of {answers}), "
        f"below the {threshold:.0%} this project requires."
    )


def _pause_if_below(conn: Connection, *, project_id: int, worker_id: int) -> None:
    settings = conn.execute(
        select(QualitySettings.pause_threshold, QualitySettings.min_gold_answers).where(
            QualitySettings.project_id == project_id
        )
    ).one_or_none()
    if settings is None:
        return
    threshold, minimum = settings
    answers, correct = gold_counts(conn, project_id, worker_id)
    if answers < minimum or correct / answers >= threshold:
        return
    already = conn.execute(
        select(WorkerPause.id).where(
            WorkerPause.project_id == project_id,
            WorkerPause.worker_id == worker_id,
            WorkerPause.status.in_(OPEN_PAUSE),
        )
    ).first()
    if already is not None:
        return
    session = Session(bind=conn)
    pause = WorkerPause(
        project_id=project_id,
        worker_id=worker_id,
        reason_code="gold_accuracy",
        reason=pause_reason(correct, answers, threshold),
        accuracy=correct / answers,
        gold_answers=answers,
        status="paused",
        created_at=utcnow(),
    )
    session.add(pause)
    session.flush()
    record_event(
        session,
        actor_id=None,
        action="worker.paused",
        object_type="worker_pause",
        object_id=pause.id,
        project_id=project_id,
        after={
            "worker_id": worker_id,
            "reason_code": "gold_accuracy",
            "accuracy": round(correct / answers, 4),
            "gold_answers": answers,
            "threshold": threshold,
        },
    )
    session.flush()
    session.close()
