"""The worker's loop: next task, submit, skip."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from datadam.assignment.loop import GATE_CODES
from datadam.assignment.service import Submission, Task, next_task, skip_task, submit_task
from datadam.errors import NotAllowed
from datadam.web.api.wire import PathId, SkipRequest, SubmitRequest, SubmitResponse, TaskPublic
from datadam.web.deps import CurrentActor, Db

router = APIRouter(tags=["tasks"])


def task_public(task: Task) -> TaskPublic:
    return TaskPublic(
        assignment_id=task.assignment_id,
        project_id=task.project_id,
        item_id=task.item_id,
        payload=task.payload,
        expires_at=task.expires_at,
    )


@router.post(
    "/projects/{project_id}/tasks/next",
    response_model=TaskPublic,
    responses={204: {"description": "Nothing left for you in this project."}},
)
def take_next_task(project_id: PathId, actor: CurrentActor, db: Db) -> TaskPublic | Response:
    """Your current task, or a new one. Asking again returns the same task until you finish it."""
    task = next_task(db, actor, project_id)
    if task is None:
        return Response(status_code=204)
    return task_public(task)


@router.post("/assignments/{assignment_id}/submit", response_model=SubmitResponse)
def submit(
    assignment_id: PathId,
    body: SubmitRequest,
    actor: CurrentActor,
    db: Db,
    next_in_project: Annotated[
        int | None,
        Query(description="A project id: also lease your next task there and return it as `next`."),
    ] = None,
) -> SubmitResponse:
    """Store your result. Safe to retry with the same `client_submission_id`.

    With `?next_in_project=ID` the response also carries your next task in that project, which
    saves the labeling page a round trip between items."""
    done = submit_task(
        db, actor, assignment_id, result=body.result, client_submission_id=body.client_submission_id
    )
    upcoming, checked = None, next_in_project is not None
    if next_in_project is not None:
        try:
            upcoming = next_task(db, actor, next_in_project)
        except NotAllowed as refused:
            if refused.code not in GATE_CODES:
                raise
            checked = False  # stored; the page asks for the next task and shows why it can't
    return submit_response(done, upcoming, checked)


def submit_response(done: Submission, upcoming: Task | None, checked: bool) -> SubmitResponse:
    return SubmitResponse(
        annotation_id=done.annotation_id,
        assignment_id=done.assignment_id,
        item_id=done.item_id,
        submitted_at=done.submitted_at,
        replayed=done.replayed,
        next_checked=checked,
        next=task_public(upcoming) if upcoming is not None else None,
    )


@router.post("/assignments/{assignment_id}/skip", status_code=204)
def skip(assignment_id: PathId, body: SkipRequest, actor: CurrentActor, db: Db) -> Response:
    """Give the item back, saying why."""
    skip_task(db, actor, assignment_id, body.reason)
    return Response(status_code=204)
