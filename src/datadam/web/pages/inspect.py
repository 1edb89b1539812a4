"""The inspector's pages: projects to inspect, and the queue of submitted work, item by item.

The rules of the queue (no one sees their own work; vendor-side inspectors see only their
own crew) live in `projects.inspection_queue`; these handlers only parse, load and render.
The entry page shows the item and the worker's answer read-only, under the worker's
per-project pseudonym, with previous/next links the keyboard follows.

The entry page carries the verdict forms (accept; reject with a reason and a comment; correct
with the widgets in editable mode); a verdict goes on to the next piece of work waiting. The
worker's side (work returned for rework, rejections and appeals) lives under `/work/rework`,
the manager's (settings, lots, appeals, inspectors' gold accuracy) under
`/manage/projects/{id}/inspection`. The rules are in `datadam.inspection`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from datadam import errors
from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.exporting.jsonl import worker_pseudonym
from datadam.inspection import config, gold, lots, workflow
from datadam.projects import inspection_queue, service
from datadam.storage.tables import Annotation, Project
from datadam.web.deps import Db
from datadam.web.pages.common import PageActor, page_router, redirect, render
from datadam.web.pages.manage import _form_fields, _int_field, _managed_project, widget_strings

router = page_router()


@dataclass(frozen=True)
class QueueSummary:
    project: Project
    waiting: int


def _inspectable(session: Session, actor: Actor, project_id: int) -> service.ProjectView:
    """The project if the actor may inspect it; 404 otherwise, as for an unknown project."""
    view = service.get_project_for(session, actor, project_id)
    if ProjectAction.INSPECT not in view.actions:
        raise errors.NotFound(f"no project {project_id}", field="project_id")
    return view


@router.get("/inspect")
def inspect_home(request: Request, actor: PageActor, db: Db) -> Response:
    """Projects with work to inspect, and how much of it is waiting for this inspector."""
    with db.read() as session:
        queues = []
        for project in service.list_projects(session, actor, limit=500):
            view = service.get_project_for(session, actor, project.id)
            if ProjectAction.INSPECT in view.actions:
                waiting = inspection_queue.queue_size(session, view, actor)
                queues.append(QueueSummary(project, waiting))
    return render(request, "inspect/home.html", {"queues": queues}, actor=actor)


@router.get("/inspect/projects/{project_id}")
def queue_start(request: Request, project_id: int, actor: PageActor, db: Db) -> Response:
    """Go to the first piece of work in the queue, or say that the queue is empty."""
    with db.write() as session:
        view = _inspectable(session, actor, project_id)
        lots.form_due_lots(session, view.project)
    with db.read() as session:
        view = _inspectable(session, actor, project_id)
        first = inspection_queue.first_in_queue(session, view, actor)
    if first is not None:
        return redirect(f"/inspect/projects/{project_id}/work/{first}")
    return render(request, "inspect/empty.html", {"project": view.project}, actor=actor)


@router.get("/inspect/projects/{project_id}/work/{annotation_id}")
def queue_entry(
    request: Request, project_id: int, annotation_id: int, actor: PageActor, db: Db
) -> Response:
    with db.read() as session:
        view = _inspectable(session, actor, project_id)
        _refuse_own_work(session, actor, project_id, annotation_id)
        spot = inspection_queue.get_queue_position(
            session, view, actor, annotation_id, secret=request.app.state.secret_key
        )
        reasons = config.list_reasons(session, project_id)
    base = f"/inspect/projects/{project_id}/work/"
    boot = {
        "schema": view.project.schema,
        "item_id": spot.entry.item_id,
        "payload": spot.entry.payload,
        "result": spot.entry.result,
        "strings": widget_strings(request, actor),
    }
    context = {
        "project": view.project,
        "spot": spot,
        "entry": spot.entry,
        "previous_url": f"{base}{spot.previous_id}" if spot.previous_id else None,
        "next_url": f"{base}{spot.next_id}" if spot.next_id else None,
        "boot": boot,
        "reasons": reasons,
        "verdict_url": f"{base}{annotation_id}/verdict",
        "error": request.query_params.get("error"),
    }
    return render(request, "inspect/entry.html", context, actor=actor)


def _refuse_own_work(session: Session, actor: Actor, project_id: int, annotation_id: int) -> None:
    """Say plainly that one's own work is not for one's own inspection (not a bare 404)."""
    annotation = session.get(Annotation, annotation_id)
    if (
        annotation is not None
        and annotation.project_id == project_id
        and annotation.worker_id == actor.user_id
    ):
        raise errors.NotAllowed("you may not inspect your own work", code="own_work")


@router.post("/inspect/projects/{project_id}/work/{annotation_id}/verdict")
async def verdict_submit(
    request: Request, project_id: int, annotation_id: int, actor: PageActor, db: Db
) -> Response:
    """Record the verdict, then go on to the next piece of work waiting."""
    fields = await _form_fields(request)
    corrected: Any = None
    if fields.get("outcome") == "correct":
        try:
            corrected = json.loads(fields.get("result", "") or "null")
        except ValueError:
            raise errors.InputError(
                "the corrected answer is not valid JSON", field="result"
            ) from None
    with db.write() as session:
        view = _inspectable(session, actor, project_id)
        workflow.record_verdict(
            session,
            view,
            actor,
            annotation_id,
            outcome=fields.get("outcome", ""),
            reason_code=fields.get("reason_code") or None,
            comment=fields.get("comment", "")[: workflow.MAX_COMMENT + 1],
            corrected=corrected,
        )
    return redirect(f"/inspect/projects/{project_id}")


# ---------------------------------------------------------------- the worker: rework, appeals


@router.get("/work/rework")
def rework_list(request: Request, actor: PageActor, db: Db) -> Response:
    """Work returned for rework (with the inspector's reason), and rejections to appeal."""
    with db.read() as session:
        entries = workflow.list_rework(session, actor)
        rejections = workflow.list_rejections(session, actor, limit=100)
        labels: dict[int, dict[str, str]] = {}
        for verdict in rejections:
            if verdict.project_id not in labels:
                labels[verdict.project_id] = {
                    r.code: r.label for r in config.list_reasons(session, verdict.project_id)
                }
    context = {"entries": entries, "rejections": rejections, "labels": labels}
    return render(request, "work/rework_list.html", context, actor=actor)


@router.get("/work/rework/{annotation_id}")
def rework_page(request: Request, annotation_id: int, actor: PageActor, db: Db) -> Response:
    with db.read() as session:
        entry = workflow.get_rework(session, actor, annotation_id)
    boot = {
        "schema": entry.schema,
        "item_id": entry.item_id,
        "payload": entry.payload,
        "result": entry.result,
        "strings": widget_strings(request, actor),
    }
    return render(request, "work/rework.html", {"entry": entry, "boot": boot}, actor=actor)


@router.post("/work/rework/{annotation_id}")
async def rework_submit(request: Request, annotation_id: int, actor: PageActor, db: Db) -> Response:
    fields = await _form_fields(request)
    try:
        result = json.loads(fields.get("result", "") or "null")
        seconds = float(fields.get("active_seconds", "0") or 0)
    except ValueError:
        raise errors.InputError("the answer could not be read", field="result") from None
    with db.write() as session:
        workflow.resubmit_rework(
            session, actor, annotation_id, result=result, active_seconds=min(seconds, 86400.0)
        )
    return redirect("/work/rework")


@router.post("/work/rejections/{verdict_id}/appeal")
async def appeal_submit(request: Request, verdict_id: int, actor: PageActor, db: Db) -> Response:
    fields = await _form_fields(request)
    with db.write() as session:
        workflow.appeal_rejection(
            session, actor, verdict_id, text=fields.get("text", "")[: workflow.MAX_COMMENT + 1]
        )
    return redirect("/work/rework")


# ---------------------------------------------------------------- the manager: lots, appeals


@dataclass(frozen=True)
class AppealRow:
    verdict_id: int
    worker: str
    item_id: int
    reason_code: str | None
    comment: str
    appeal_text: str | None


@router.get("/manage/projects/{project_id}/inspection")
def manage_inspection(request: Request, project_id: int, actor: PageActor, db: Db) -> Response:
    """Settings, stages, reasons, lots with their plans, open appeals, inspectors' accuracy."""
    secret = request.app.state.secret_key
    with db.read() as session:
        view = _managed_project(session, actor, project_id)
        settings = config.settings_dict(config.get_settings(session, project_id))
        stages = config.list_stages(session, project_id)
        context = {
            "project": view.project,
            "settings": settings,
            "stages": stages,
            "reasons": config.list_reasons(session, project_id),
            "lots": lots.list_lots(session, view, limit=50),
            "pooled": lots.pooled_count(session, project_id),
            "samples": any(s.mode == "sample" for s in stages),
            "appeals": [
                AppealRow(
                    v.id,
                    worker_pseudonym(secret, project_id, v.worker_id),
                    v.item_id,
                    v.reason_code,
                    v.comment,
                    v.appeal_text,
                )
                for v in workflow.list_open_appeals(session, view)
            ],
            "scores": gold.inspector_gold_scores(session, view),
            "levels": ("S-1", "S-2", "S-3", "S-4", "I", "II", "III"),
        }
    return render(request, "manage/inspection.html", context, actor=actor)


@router.post("/manage/projects/{project_id}/inspection/settings")
async def inspection_settings_submit(
    request: Request, project_id: int, actor: PageActor, db: Db
) -> Response:
    fields = await _form_fields(request)
    stages = []
    for n in range(1, 4):
        name = fields.get(f"stage{n}_name", "").strip()
        if not name:
            continue
        stages.append(
            {
                "name": name[:100],
                "inspector_side": fields.get(f"stage{n}_side", "any"),
                "mode": fields.get(f"stage{n}_mode", "all"),
                "level": fields.get(f"stage{n}_level") or None,
                "aql": fields.get(f"stage{n}_aql") or None,
            }
        )
    lot_size = fields.get("lot_size", "").strip()
    changes: dict[str, Any] = {
        "rework_to": fields.get("rework_to", "same"),
        "rejected_lot_action": fields.get("rejected_lot_action", "full"),
        "lot_size": _int_field(fields, "lot_size") if lot_size else None,
    }
    with db.write() as session:
        view = _managed_project(session, actor, project_id)
        if stages:
            config.set_stages(session, view, actor, stages)
        config.update_settings(session, view, actor, changes)
    return redirect(f"/manage/projects/{project_id}/inspection")


@router.post("/manage/projects/{project_id}/inspection/lots")
async def lot_submit(request: Request, project_id: int, actor: PageActor, db: Db) -> Response:
    """Form a lot of all the pooled work now."""
    await _form_fields(request)
    with db.write() as session:
        view = _managed_project(session, actor, project_id)
        lots.form_lot(session, view, actor)
    return redirect(f"/manage/projects/{project_id}/inspection")


@router.post("/manage/projects/{project_id}/inspection/appeals/{verdict_id}")
async def appeal_decision_submit(
    request: Request, project_id: int, verdict_id: int, actor: PageActor, db: Db
) -> Response:
    fields = await _form_fields(request)
    with db.write() as session:
        view = _managed_project(session, actor, project_id)
        workflow.resolve_appeal(
            session, view, actor, verdict_id, decision=fields.get("decision", "")
        )
    return redirect(f"/manage/projects/{project_id}/inspection")
