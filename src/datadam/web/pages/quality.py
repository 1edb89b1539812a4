"""Gold, training and qualification pages: the worker's appeal, training and test questions,
and the manager's quality page (settings, live gold accuracy, pauses and appeals).

The worker's standing (pause notice, test link, own gold accuracy) is shown on the project's
start page (`work/_quality.html`, context from `worker_quality_context`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from datadam import errors
from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.exporting.jsonl import worker_pseudonym
from datadam.gold import practice
from datadam.gold import service as gold
from datadam.i18n import N_
from datadam.i18n.js import script_messages
from datadam.projects.service import ProjectView, get_project_for
from datadam.storage.tables import Item, PracticeAnswer
from datadam.web.deps import Db
from datadam.web.pages.common import PageActor, gettext, page_router, redirect, render

router = page_router()


PURPOSE_TITLES = {
    "training": N_("Training questions"),
    "qualification": N_("Qualification test"),
}
NOTICES = {
    "appealed": N_("Your appeal was sent. A manager will answer it."),
    "training_done": N_("You have answered every training question."),
    "settings": N_("Quality settings saved."),
    "resolved": N_("The appeal was answered."),
}


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def worker_quality_context(session: Session, view: ProjectView, actor: Actor) -> dict[str, Any]:
    """What the start page shows of the worker's standing on the project."""
    mine = practice.worker_quality(session, view, actor)
    pause = mine.pause
    pause_info = None
    if pause is not None:
        answers = pause.gold_answers or 0
        correct = round((pause.accuracy or 0.0) * answers)
        pause_info = {
            "status": pause.status,
            "accuracy": percent(pause.accuracy),
            "correct": correct,
            "answers": answers,
            "threshold": percent(mine.config.pause_threshold),
            "appeal_text": pause.appeal_text,
        }
    q = mine.qualification
    a = mine.accuracy
    return {
        "pause": pause_info,
        "qualification": q,
        "qualification_score": percent(q.last_score) if q.last_score is not None else None,
        "pass_mark": percent(mine.config.pass_mark),
        "training_done": mine.training_done,
        "training_total": mine.training_total,
        "accuracy": {
            "answers": a.answers,
            "correct": a.correct,
            "value": percent(a.accuracy),
            "low": percent(a.low),
            "high": percent(a.high),
        },
        "blocked": pause is not None or (q.required and not q.passed),
    }


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


@router.post("/work/projects/{project_id}/appeal")
async def appeal_submit(request: Request, project_id: int, actor: PageActor, db: Db) -> Response:
    fields = await _form(request)
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        gold.appeal_pause(session, view, actor, fields.get("text", ""))
    return redirect(f"/work/projects/{project_id}?notice=appealed")


@router.post("/work/projects/{project_id}/practice")
async def practice_start(request: Request, project_id: int, actor: PageActor, db: Db) -> Response:
    """Serve the next training or test question and open its page."""
    fields = await _form(request)
    purpose = fields.get("purpose", "")
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        task = practice.next_practice(session, view, actor, purpose=purpose)
    if task is None:
        return redirect(f"/work/projects/{project_id}?notice=training_done")
    return redirect(f"/work/projects/{project_id}/practice/{task.id}")


@router.get("/work/projects/{project_id}/practice/{practice_id}")
def practice_page(
    request: Request, project_id: int, practice_id: int, actor: PageActor, db: Db
) -> Response:
    """One training or test question, answered with the labeling widgets."""
    _ = gettext(request, actor)
    with db.read() as session:
        view = get_project_for(session, actor, project_id)
        view.require(ProjectAction.WORK)
        row = session.get(PracticeAnswer, practice_id)
        if row is None or row.worker_id != actor.user_id or row.project_id != project_id:
            raise errors.NotFound(f"no question {practice_id}", field="practice_id")
        if row.answered_at is not None:
            return redirect(f"/work/projects/{project_id}")
        item = session.get(Item, row.item_id)
        assert item is not None
        if row.purpose == "training":
            number, total = practice.training_progress(session, project_id, actor.user_id)
        else:
            status = practice.qualification_status(session, project_id, actor.user_id)
            number = sum(
                1
                for r in session.query(PracticeAnswer.answered_at).filter(
                    PracticeAnswer.attempt_id == row.attempt_id
                )
                if r[0] is not None
            )
            total = status.questions
        project = view.project
        info = {"id": project.id, "name": project.name, "instructions": project.instructions}
        boot = {
            "project_id": project.id,
            "practice_id": row.id,
            "purpose": row.purpose,
            "item_id": item.id,
            "payload": item.payload,
            "schema": project.schema,
            "answer_url": f"/api/v1/projects/{project.id}/practice/{row.id}/answer",
            "project_url": f"/work/projects/{project.id}",
            "strings": {msgid: _(msgid) for msgid in script_messages()},
        }
    return render(
        request,
        "work/practice.html",
        {
            "project": info,
            "purpose": row.purpose,
            "title": _(PURPOSE_TITLES[row.purpose]),
            "number": number + 1,
            "total": total,
            "boot": boot,
        },
        actor=actor,
    )


# ---------------------------------------------------------------- the manager's quality page


def _manage_view(session: Session, actor: Actor, project_id: int) -> ProjectView:
    view = get_project_for(session, actor, project_id)
    if ProjectAction.MANAGE not in view.actions:
        raise errors.NotFound(f"no project {project_id}", field="project_id")
    return view


def _quality_page(
    request: Request,
    actor: Actor,
    db: Db,
    project_id: int,
    *,
    notice: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    _ = gettext(request, actor)
    secret = request.app.state.secret_key
    name = partial(worker_pseudonym, secret, project_id)
    with db.read() as session:
        view = _manage_view(session, actor, project_id)
        config = gold.quality_config(session, project_id)
        counts = gold.gold_counts_by_purpose(session, project_id)
        accuracy = gold.accuracy_by_worker(session, view, pseudonym=name)
        pauses = gold.list_pauses(session, view, pseudonym=name)
        project = {"id": view.project.id, "name": view.project.name}
    rows = [
        {
            "worker": r.worker,
            "answers": r.accuracy.answers,
            "correct": r.accuracy.correct,
            "value": percent(r.accuracy.accuracy),
            "interval": f"{percent(r.accuracy.low)}–{percent(r.accuracy.high)}",
            "paused": r.paused,
        }
        for r in accuracy
    ]
    return render(
        request,
        "manage/quality.html",
        {
            "project": project,
            "config": config,
            "counts": counts,
            "rows": rows,
            "pauses": pauses,
            "percent": percent,
            "notice": _(NOTICES[notice]) if notice in NOTICES else None,
            "problem": problem,
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/manage/projects/{project_id}/quality")
def quality_page(
    request: Request, project_id: int, actor: PageActor, db: Db, notice: str = ""
) -> Response:
    return _quality_page(request, actor, db, project_id, notice=notice)


def _number(fields: dict[str, str], name: str, kind: type) -> Any:
    raw = fields.get(name, "").strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise errors.InputError(f"{name} must be a number", field=name) from None


@router.post("/manage/projects/{project_id}/quality")
async def quality_settings_submit(
    request: Request, project_id: int, actor: PageActor, db: Db
) -> Response:
    fields = await _form(request)
    try:
        changes = {
            "gold_rate": _number(fields, "gold_rate", float),
            "pause_threshold": _number(fields, "pause_threshold", float),
            "min_gold_answers": _number(fields, "min_gold_answers", int),
            "pass_mark": _number(fields, "pass_mark", float),
            "max_attempts": _number(fields, "max_attempts", int),
            "qualification_required": fields.get("qualification_required") == "on",
        }
        with db.write() as session:
            view = _manage_view(session, actor, project_id)
            gold.update_quality_settings(session, view, actor, changes)
    except errors.InputError as exc:
        return _quality_page(request, actor, db, project_id, problem=exc.message, status_code=422)
    return redirect(f"/manage/projects/{project_id}/quality?notice=settings")


@router.post("/manage/projects/{project_id}/pauses/{pause_id}/resolve")
async def pause_resolve_submit(
    request: Request, project_id: int, pause_id: int, actor: PageActor, db: Db
) -> Response:
    fields = await _form(request)
    with db.write() as session:
        view = _manage_view(session, actor, project_id)
        gold.resolve_pause(
            session,
            view,
            actor,
            pause_id=pause_id,
            decision=fields.get("decision", ""),
            note=fields.get("note", ""),
        )
    return redirect(f"/manage/projects/{project_id}/quality?notice=resolved")
