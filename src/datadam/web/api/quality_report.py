"""Quality: live metrics, the quality report (JSON and CSV error list), the plan and the
auditor's checklist. (A worker's own view is `GET …/quality/me` in `quality.py`; the
rejections part of it comes from `datadam.quality.worker.worker_quality`.)"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.errors import NotAllowed
from datadam.exporting.jsonl import worker_pseudonym
from datadam.projects.service import ProjectView, get_project_for
from datadam.quality import metrics, plan, report
from datadam.storage.db import Database
from datadam.web.api.wire import PathId
from datadam.web.deps import CurrentActor, Db

router = APIRouter(tags=["quality"])


class PlanUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target_items: int | None = Field(None, description="Planned number of items.")
    class_targets: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Per categorical control, each label's planned share."
    )
    targets: dict[str, float] = Field(
        default_factory=dict, description="Targets by characteristic (see the report schema)."
    )


class ChecklistUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: dict[str, dict[str, str]] = Field(
        description='By question key: {"answer": "yes"|"no"|"na", "note": "..."}.'
    )


def report_view(db: Database, actor: Actor, project_id: int) -> ProjectView:
    """The project, if the actor may read its quality (managers, auditors, oversight)."""
    with db.read() as session:
        view = get_project_for(session, actor, project_id)
    if not ({ProjectAction.MANAGE, ProjectAction.EXPORT} & view.actions):
        raise NotAllowed("you may not read this project's quality report", code="forbidden")
    return view


def public_metrics(secret: str, project_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """The snapshot with workers under their per-project pseudonym instead of their id."""
    workers = []
    for row in data.get("workers", []):
        row = dict(row)
        row["worker"] = worker_pseudonym(secret, project_id, row.pop("worker_id"))
        workers.append(row)
    return {**data, "workers": workers}


def current_metrics(db: Database, project_id: int, secret: str) -> dict[str, Any]:
    snapshot = metrics.current_snapshot(db, project_id)
    return {
        "project_id": project_id,
        "computed_at": snapshot.computed_at.isoformat(),
        "seconds": snapshot.seconds,
        **public_metrics(secret, project_id, snapshot.metrics),
    }


@router.get("/projects/{project_id}/quality/metrics")
def get_metrics(request: Request, project_id: PathId, actor: CurrentActor, db: Db) -> Any:
    """The latest live metrics (computed on the fly, not stored, while a batch of new work is
    not in a snapshot yet)."""
    report_view(db, actor, project_id)
    return current_metrics(db, project_id, request.app.state.secret_key)


@router.post("/projects/{project_id}/quality/metrics")
def recompute_metrics(
    request: Request, project_id: PathId, actor: CurrentActor, db: Db, full: bool = False
) -> Any:
    """Recompute now (`full=true`: recode every annotation and fit from scratch)."""
    view = report_view(db, actor, project_id)
    view.require(ProjectAction.MANAGE)
    result = metrics.refresh_metrics(db, project_id, full=full)
    return {
        "snapshot_id": result.snapshot_id,
        "new_annotations": result.new_annotations,
        "answers": result.n_answers,
        "seconds": round(result.seconds, 3),
    }


@router.get("/projects/{project_id}/quality/report")
def get_report(request: Request, project_id: PathId, actor: CurrentActor, db: Db) -> Any:
    """The quality report (docs/quality-report.schema.json)."""
    report_view(db, actor, project_id)
    return report.build_report(db, project_id, secret=request.app.state.secret_key)


@router.get(
    "/projects/{project_id}/quality/errors.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def get_error_list(
    request: Request, project_id: PathId, actor: CurrentActor, db: Db
) -> StreamingResponse:
    """Every broken annotation and non-conforming item, one CSV row each."""
    report_view(db, actor, project_id)
    rows = report.error_rows(db, project_id, secret=request.app.state.secret_key)
    return StreamingResponse(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="project-{project_id}-errors.csv"'},
    )


@router.put("/projects/{project_id}/quality/plan")
def put_plan(project_id: PathId, body: PlanUpdate, actor: CurrentActor, db: Db) -> Any:
    """Set the plan the report measures against (project managers)."""
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        view.require(ProjectAction.MANAGE)
        return plan.set_plan(
            session,
            actor,
            view.project,
            target_items=body.target_items,
            class_targets=body.class_targets,
            targets=body.targets,
        ).as_dict()


@router.put("/projects/{project_id}/quality/checklist")
def put_checklist(project_id: PathId, body: ChecklistUpdate, actor: CurrentActor, db: Db) -> Any:
    """Answer readiness and usefulness questions (auditors)."""
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        answers = plan.answer_checklist(session, actor, view.project, body.answers)
        return [
            {"key": a.key, "answer": a.answer, "note": a.note, "answered_by": a.answered_by}
            for a in answers
        ]
