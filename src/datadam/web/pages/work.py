"""The crowdworker's pages: their projects, the labeling page and their history.

The labeling page is served for one assignment (`/work/assignments/{id}`), so a reload shows
the same item and the browser's saved draft comes back. Taking an item is a POST (it leases
work); every GET here only reads. After a submit the page's script asks the JSON API for the
next task and shows it without reloading (see `static/js/app/label.js`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request, Response
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.assignment.service import next_task
from datadam.domain.enums import ProjectStatus
from datadam.errors import NotAllowed, NotFound
from datadam.i18n.js import script_messages
from datadam.projects.service import get_project_for, vendor_ids_of, visible_projects_query
from datadam.storage.tables import Annotation, Assignment, Item, Project
from datadam.storage.types import utcnow
from datadam.web.deps import Db
from datadam.web.pages.common import (
    PageActor,
    gettext,
    page_router,
    redirect,
    render,
    static_version,
)

router = page_router()

HISTORY_PAGE = 50
MAX_HOME_PROJECTS = 200
_LIVE_STATUSES = ("active", "expired")  # an expired lease may still be submitted late


@dataclass(frozen=True)
class WorkProject:
    """A project as the worker's home page shows it."""

    id: int
    name: str
    instructions: str
    left: int
    done_by_me: int
    live_assignment_id: int | None
    pay_piece: str | None  # formatted amount per item, or None when the project pays none
    pay_hourly: str | None  # formatted amount per hour


def _money(minor: int, currency: str) -> str:
    """Integer minor units as the currency's usual text (₩120, $1.25)."""
    from babel.numbers import format_currency, get_currency_precision

    return format_currency(minor / 10 ** get_currency_precision(currency), currency, locale="en")


def _pay_rates(session: Session, project_id: int) -> tuple[str | None, str | None]:
    from datadam.pay.rates import current_terms

    terms = current_terms(session, project_id)
    piece = _money(terms.piece_rate_minor, terms.currency) if terms.piece_rate_minor else None
    hourly = _money(terms.hourly_rate_minor, terms.currency) if terms.hourly_rate_minor else None
    return piece, hourly


def _left_for(session: Session, project: Project, worker_id: int) -> int:
    """Items this worker could still be given: open slots on items never assigned to them."""
    mine = select(Assignment.item_id).where(
        Assignment.project_id == project.id, Assignment.worker_id == worker_id
    )
    return int(
        session.execute(
            select(func.count())
            .select_from(Item)
            .where(
                Item.project_id == project.id,
                Item.stage == "labeling",
                Item.n_taken < project.overlap,
                Item.id.not_in(mine),
            )
        ).scalar_one()
    )


def list_work_projects(session: Session, actor: Actor) -> list[WorkProject]:
    """Active projects the actor may work on, with what is left for them."""
    from datadam.access.policies import project_actions

    projects = session.execute(
        visible_projects_query(actor)
        .where(Project.status == ProjectStatus.ACTIVE.value)
        .order_by(Project.id)
        .limit(MAX_HOME_PROJECTS)
    ).scalars()
    out = []
    for project in projects:
        actions = project_actions(
            actor,
            owner_org_id=project.owner_org_id,
            granted_org_ids=vendor_ids_of(session, project.id),
        )
        if ProjectAction.WORK not in actions:
            continue
        live = session.execute(
            select(Assignment.id)
            .where(
                Assignment.project_id == project.id,
                Assignment.worker_id == actor.user_id,
                Assignment.status == "active",
                Assignment.expires_at > utcnow(),
            )
            .order_by(Assignment.id)
            .limit(1)
        ).scalar()
        done = session.execute(
            select(func.count())
            .select_from(Annotation)
            .where(Annotation.project_id == project.id, Annotation.worker_id == actor.user_id)
        ).scalar_one()
        pay_piece, pay_hourly = _pay_rates(session, project.id)
        out.append(
            WorkProject(
                id=project.id,
                name=project.name,
                instructions=project.instructions,
                left=_left_for(session, project, actor.user_id) + (1 if live else 0),
                done_by_me=int(done),
                live_assignment_id=live,
                pay_piece=pay_piece,
                pay_hourly=pay_hourly,
            )
        )
    return out


@router.get("/work")
def work_home(request: Request, actor: PageActor, db: Db) -> Response:
    with db.read() as session:
        projects = list_work_projects(session, actor)
    return render(request, "work/home.html", {"projects": projects}, actor=actor)


@router.get("/work/projects/{project_id}")
def project_start_page(
    request: Request, project_id: int, actor: PageActor, db: Db, notice: str = ""
) -> Response:
    """A project's instructions and its start button (also where a finished page points),
    with the worker's standing: a pause notice and appeal form, the qualification test,
    training and their own gold accuracy."""
    from datadam.web.pages.quality import NOTICES, worker_quality_context

    _ = gettext(request, actor)
    with db.read() as session:
        view = get_project_for(session, actor, project_id)
        view.require(ProjectAction.WORK)
        project = view.project
        left = _left_for(session, project, actor.user_id)
        info = {"id": project.id, "name": project.name, "instructions": project.instructions}
        quality = worker_quality_context(session, view, actor)
    context = {
        "project": info,
        "left": left,
        "quality": quality,
        "notice": _(NOTICES[notice]) if notice in NOTICES else None,
    }
    return render(request, "work/start.html", context, actor=actor)


@router.post("/work/projects/{project_id}/start")
def start_working(request: Request, project_id: int, actor: PageActor, db: Db) -> Response:
    """Take (or resume) an item and open the labeling page for it."""
    try:
        task = next_task(db, actor, project_id)
    except NotAllowed as refused:
        if refused.code not in ("worker_paused", "qualification_required"):
            raise
        return redirect(f"/work/projects/{project_id}")  # the page says why and what to do
    if task is None:
        with db.read() as session:
            project = get_project_for(session, actor, project_id).project
            info = {"id": project.id, "name": project.name, "instructions": project.instructions}
        return render(
            request, "work/start.html", {"project": info, "left": 0, "finished": True}, actor=actor
        )
    return redirect(f"/work/assignments/{task.assignment_id}")


def _label_page_data(session: Session, actor: Actor, assignment_id: int) -> dict[str, Any]:
    """What the labeling page needs; `closed` when the assignment was submitted or skipped."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.worker_id != actor.user_id:
        raise NotFound(f"no assignment {assignment_id}", field="assignment_id")
    view = get_project_for(session, actor, assignment.project_id)
    view.require(ProjectAction.WORK)
    if assignment.status not in _LIVE_STATUSES:
        return {"closed": True, "project_id": assignment.project_id}
    item = session.execute(select(Item.id, Item.payload).where(Item.id == assignment.item_id)).one()
    project = view.project
    return {
        "closed": False,
        "project": {"id": project.id, "name": project.name, "instructions": project.instructions},
        "assignment": assignment,
        "item_id": item.id,
        "payload": item.payload,
        "schema": project.schema,
    }


def boot_block(
    request: Request,
    actor: Actor,
    *,
    assignment_id: int,
    project_id: int,
    item_id: int,
    payload: dict[str, Any],
    schema: dict[str, Any],
) -> dict[str, Any]:
    """The labeling page's JSON boot block (the contract with the widget modules)."""
    _ = gettext(request, actor)
    suggestions = payload.get("suggestions") if isinstance(payload, dict) else None
    return {
        "assignment_id": assignment_id,
        "project_id": project_id,
        "item_id": item_id,
        "payload": payload,
        "schema": schema,
        "suggestion": suggestions if isinstance(suggestions, dict) else {},
        "submit_url": f"/api/v1/assignments/{assignment_id}/submit",
        "next_url": f"/api/v1/projects/{project_id}/tasks/next",
        "skip_url": f"/api/v1/assignments/{assignment_id}/skip",
        "page_url": "/work/assignments/{id}",
        "home_url": "/work",
        "csrf_token": actor.csrf_token or "",
        "static_version": static_version(),
        "strings": {msgid: _(msgid) for msgid in script_messages()},
    }


@router.get("/work/assignments/{assignment_id}")
def label_page(request: Request, assignment_id: int, actor: PageActor, db: Db) -> Response:
    with db.read() as session:
        data = _label_page_data(session, actor, assignment_id)
    if data["closed"]:
        return redirect(f"/work/projects/{data['project_id']}")
    boot = boot_block(
        request,
        actor,
        assignment_id=assignment_id,
        project_id=data["project"]["id"],
        item_id=data["item_id"],
        payload=data["payload"],
        schema=data["schema"],
    )
    return render(
        request,
        "work/label.html",
        {"project": data["project"], "boot": boot, "item_id": data["item_id"]},
        actor=actor,
    )


@dataclass(frozen=True)
class HistoryRow:
    annotation_id: int
    project_id: int
    project_name: str
    item_id: int
    submitted_at: datetime
    active_seconds: float
    summary: str


def summarise_result(result: Any, limit: int = 80) -> str:
    """A short plain-text view of an answer: labels and texts, counts for spans and shapes."""
    if not isinstance(result, dict):
        return ""
    parts = []
    for name, value in result.items():
        if value is None:
            continue
        if isinstance(value, str):
            shown = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            shown = ", ".join(value)
        elif isinstance(value, list):
            shown = f"{len(value)}"
        else:
            shown = "…"
        parts.append(f"{name}: {shown}")
    text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def list_my_annotations(
    session: Session, actor: Actor, *, before_id: int | None, limit: int = HISTORY_PAGE
) -> list[HistoryRow]:
    """The actor's own annotations, newest first (keyset by id)."""
    query = (
        select(Annotation, Project.name)
        .join(Project, and_(Project.id == Annotation.project_id))
        .where(Annotation.worker_id == actor.user_id)
        .order_by(Annotation.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(Annotation.id < before_id)
    return [
        HistoryRow(
            annotation_id=row.id,
            project_id=row.project_id,
            project_name=name,
            item_id=row.item_id,
            submitted_at=row.submitted_at,
            active_seconds=row.active_seconds,
            summary=summarise_result(row.result),
        )
        for row, name in session.execute(query).all()
    ]


@router.get("/work/history")
def history_page(request: Request, actor: PageActor, db: Db, before: int | None = None) -> Response:
    with db.read() as session:
        rows = list_my_annotations(session, actor, before_id=before)
    more = rows[-1].annotation_id if len(rows) == HISTORY_PAGE else None
    context = {"rows": rows, "more": more}
    if request.headers.get("hx-request") == "true":
        return render(request, "work/_history_rows.html", context, actor=actor)
    return render(request, "work/history.html", context, actor=actor)
