"""The inspector's pages: projects to inspect, and the queue of submitted work, item by item.

The rules of the queue (no one sees their own work; vendor-side inspectors see only their
own crew) live in `projects.inspection_queue`; these handlers only parse, load and render.
The entry page shows the item and the worker's answer read-only, under the worker's
per-project pseudonym, with previous/next links the keyboard follows.

Extension point for the accept/reject workflow: the entry page has an empty
`verdict` block (`inspect/entry.html`) and `InspectionEntry.verdict`; the verdict form will
post to `/inspect/projects/{id}/work/{annotation_id}/verdict` and then go to `next_id`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response
from sqlalchemy.orm import Session

from datadam import errors
from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.projects import inspection_queue, service
from datadam.storage.tables import Project
from datadam.web.deps import Db
from datadam.web.pages.common import PageActor, page_router, redirect, render
from datadam.web.pages.manage import widget_strings

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
        spot = inspection_queue.get_queue_position(
            session, view, actor, annotation_id, secret=request.app.state.secret_key
        )
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
    }
    return render(request, "inspect/entry.html", context, actor=actor)
