"""The quality page of a project: live metrics with trends, the quality report, the plan form
(managers) and the readiness and usefulness checklist (auditors).

Readers are the project's managers, its institution's auditors, the program office and the
quality agency (who may manage or export the project); anyone else gets 404, as for a project
they cannot see. Workers appear under their per-project pseudonym.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request, Response

from datadam import errors
from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.i18n import N_
from datadam.projects.service import ProjectView, get_project_for
from datadam.quality import metrics, plan, report
from datadam.storage.db import Database
from datadam.web.api.quality_report import current_metrics
from datadam.web.deps import Db
from datadam.web.pages.common import PageActor, page_router, redirect, render

router = page_router()

WORKER_ROWS = 100
CHARACTERISTIC_NAMES = {
    "completeness": N_("Completeness"),
    "conformance": N_("Conformance to the plan"),
    "technical_conformance": N_("Technical conformance"),
    "statistical_diversity": N_("Statistical diversity"),
    "syntactic_accuracy": N_("Syntactic accuracy"),
    "semantic_accuracy": N_("Semantic accuracy"),
    "validity": N_("Validity"),
    "readiness": N_("Readiness"),
    "usefulness": N_("Usefulness"),
}
TARGET_NAMES = {
    "completeness": N_("Completeness"),
    "technical_conformance": N_("Technical conformance"),
    "syntactic_accuracy": N_("Syntactic accuracy"),
    "semantic_accuracy": N_("Semantic accuracy"),
    "diversity_tolerance": N_("Largest allowed difference of a class share"),
    "validity": N_("Validity (macro F1 of the baseline model)"),
}
VERDICT_NAMES = {
    "pass": N_("Pass"),
    "fail": N_("Fail"),
    "not_measured": N_("Not measured"),
    "pending": N_("Waiting for the auditor"),
}
ANSWER_NAMES = {"yes": N_("Yes"), "no": N_("No"), "na": N_("Not applicable")}
NOTICES = {
    "plan": N_("The plan was saved."),
    "checklist": N_("Your answers were saved."),
    "refreshed": N_("The metrics were recomputed."),
}


def _view(db: Database, actor: Actor, project_id: int) -> ProjectView:
    with db.read() as session:
        view = get_project_for(session, actor, project_id)
    if not ({ProjectAction.MANAGE, ProjectAction.EXPORT} & view.actions):
        raise errors.NotFound(f"no project {project_id}", field="project_id")
    return view


def _trend(data: dict[str, Any]) -> dict[str, Any]:
    days = data.get("daily", [])
    return {
        "days": [d["day"] for d in days],
        "annotations": [d["annotations"] for d in days],
        "agreement": [d["agreement_with_consensus"] for d in days],
        "gold": [d["gold"]["rate"] for d in days],
        "inspection": [d["inspection"]["rate"] for d in days],
    }


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _page(
    request: Request,
    actor: Actor,
    db: Database,
    project_id: int,
    *,
    notice: str | None = None,
    problem: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = _view(db, actor, project_id)
    secret = request.app.state.secret_key
    live = current_metrics(db, project_id, secret)
    quality = report.build_report(db, project_id, secret=secret)
    workers = sorted(live["workers"], key=lambda w: (-w["annotations"], w["worker"]))
    context = {
        "project": view.project,
        "live": live,
        "workers": workers[:WORKER_ROWS],
        "workers_total": len(workers),
        "trend": _trend(live),
        "report": quality,
        "names": CHARACTERISTIC_NAMES,
        "target_names": TARGET_NAMES,
        "verdicts": VERDICT_NAMES,
        "answer_names": ANSWER_NAMES,
        "can_manage": ProjectAction.MANAGE in view.actions,
        "can_audit": plan.can_audit(actor, view.project),
        "plan_json": json.dumps(quality["plan"]["class_targets"], ensure_ascii=False, indent=2),
        "notice": notice,
        "problem": problem,
    }
    return render(
        request, "quality_report/project.html", context, actor=actor, status_code=status_code
    )


@router.get("/quality/projects/{project_id}")
def quality_page(
    request: Request, project_id: int, actor: PageActor, db: Db, done: str = ""
) -> Response:
    return _page(request, actor, db, project_id, notice=NOTICES.get(done))


@router.post("/quality/projects/{project_id}/refresh")
def refresh_submit(request: Request, project_id: int, actor: PageActor, db: Db) -> Response:
    """Recompute the live metrics now (managers)."""
    view = _view(db, actor, project_id)
    view.require(ProjectAction.MANAGE)
    metrics.refresh_metrics(db, project_id)
    return redirect(f"/quality/projects/{project_id}?done=refreshed#metrics")


@router.post("/quality/projects/{project_id}/plan")
async def plan_submit(request: Request, project_id: int, actor: PageActor, db: Db) -> Response:
    """Save the plan: target items, class shares (JSON), and the targets (managers)."""
    fields = await _fields(request)
    view = _view(db, actor, project_id)
    view.require(ProjectAction.MANAGE)
    try:
        raw_items = fields.get("target_items", "").strip()
        target_items = int(raw_items) if raw_items else None
        try:
            classes = json.loads(fields.get("class_targets", "").strip() or "{}")
        except ValueError:
            raise errors.InputError(
                "the class shares must be JSON", field="class_targets"
            ) from None
        targets = {}
        for key in plan.DEFAULT_TARGETS:
            value = fields.get(f"target_{key}", "").strip()
            if value:
                try:
                    targets[key] = float(value)
                except ValueError:
                    raise errors.InputError("a target is a number", field=key) from None
        with db.write() as session:
            project = get_project_for(session, actor, project_id).project
            plan.set_plan(
                session,
                actor,
                project,
                target_items=target_items,
                class_targets=classes,
                targets=targets,
            )
    except ValueError:
        return _page(
            request,
            actor,
            db,
            project_id,
            problem=("plan", N_("The target item count must be a whole number.")),
            status_code=422,
        )
    except errors.InputError as exc:
        return _page(request, actor, db, project_id, problem=("plan", exc.message), status_code=422)
    return redirect(f"/quality/projects/{project_id}?done=plan#plan")


@router.post("/quality/projects/{project_id}/checklist")
async def checklist_submit(request: Request, project_id: int, actor: PageActor, db: Db) -> Response:
    """Store the auditor's answers to the readiness and usefulness questions."""
    fields = await _fields(request)
    _view(db, actor, project_id)
    answers = {}
    for key, _characteristic, _question in plan.CHECKLIST:
        answer = fields.get(f"answer_{key}", "")
        if answer in plan.ANSWERS:
            answers[key] = {"answer": answer, "note": fields.get(f"note_{key}", "")[:2000]}
    try:
        with db.write() as session:
            project = get_project_for(session, actor, project_id).project
            plan.answer_checklist(session, actor, project, answers)
    except errors.InputError as exc:
        return _page(
            request, actor, db, project_id, problem=("checklist", exc.message), status_code=422
        )
    return redirect(f"/quality/projects/{project_id}?done=checklist#checklist")
