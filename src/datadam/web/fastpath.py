"""The worker loop's two hot routes, next task and submit, without the framework's per-request
machinery and without a thread-pool hop.

Scripts and load tools call `POST /api/v1/projects/{id}/tasks/next` and
`POST /api/v1/assignments/{id}/submit` hundreds of times a second. Through FastAPI each call
paid for routing over every route, dependency solving, body and response re-validation and a
hop to the thread pool and back, whose GIL hand-over alone stalled a request for milliseconds
on a busy machine: about 8 ms of server CPU per next+submit pair around a 1.5 ms service call.

This pure ASGI middleware sits innermost, inside the request limits and security headers, so
a request it takes has passed the same size and strict-JSON checks and gets the same headers.
It takes a request only when it is plainly well formed: one of the two paths with an id in
range, a Bearer token, no query string except `next_in_project=ID` on submit, and for submit
a body the route's own model (`SubmitRequest`) accepts. Anything else (session cookies, odd
ids, invalid bodies, ...) goes on to FastAPI unchanged, so every error keeps its one source.

A taken request is served by `assignment.loop`: on SQLite synchronously on the event loop, on
connections that never wait for the write lock; on PostgreSQL through psycopg's async
connections; with the same conversations as the blocking routes. Whatever that path leaves
aside (`Fallback`: a lock held elsewhere on SQLite, an answer to a gold question, a racing
duplicate submission), and every PostgreSQL request of an app whose lifespan has not started (a
test client used without `with`, whose requests each run on a fresh event loop), runs the route
functions themselves (`take_next_task`, `submit`) in the thread pool instead. Errors go through
the app's exception handlers (`web/errors.py`), and unexpected ones propagate to the
server-error handler as usual.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from datadam.access.actor import Actor
from datadam.access.authn import token_actor
from datadam.assignment.loop import Fallback, PostgresLoop, SqliteLoop
from datadam.storage.conversation import drive
from datadam.storage.db import Database
from datadam.web.api.assignments import submit_response, task_public
from datadam.web.api.wire import MAX_ID
from datadam.web.limits import replaying

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_NEXT = re.compile(r"/api/v1/projects/([1-9][0-9]{0,18})/tasks/next")
_SUBMIT = re.compile(r"/api/v1/assignments/([1-9][0-9]{0,18})/submit")
_NEXT_IN_PROJECT = re.compile(rb"next_in_project=([1-9][0-9]{0,18})")


class WorkerLoopFastPath:
    """ASGI middleware serving next task and submit directly; see the module docstring."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop: SqliteLoop | PostgresLoop | None = None
        self.started = False  # the lifespan started: this event loop lives as long as the app

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._watching(receive), send)
            return
        route = _match(scope) if scope["type"] == "http" and scope["method"] == "POST" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:  # the client went away
            return
        parsed = _parsed(route, body)
        if parsed is _REFUSED:
            await self.app(scope, replaying(body, receive), send)
            return
        app = scope["app"]
        request = Request(scope, receive)
        db: Database = app.state.db
        try:
            try:
                result = await self._serve(db, scope, route, parsed)
            except (Fallback, OperationalError):
                call = _call_for(route, parsed)
                result = await run_in_threadpool(call, request, db)
        except Exception as exc:
            handler = _handler_for(app.exception_handlers, exc)
            if handler is None:
                raise
            response = handler(request, exc)
            result = await response if inspect.isawaitable(response) else response
        if isinstance(result, BaseModel):
            result = _json(result)
        await result(scope, receive, send)

    async def _serve(self, db: Database, scope: Message, route: Route, parsed: Any) -> Any:
        """The answer through `assignment.loop`; `Fallback` for the thread pool."""
        if db.is_postgres and not self.started:
            raise Fallback
        if self.loop is None:
            self.loop = PostgresLoop(db) if db.is_postgres else SqliteLoop(db)
        token = _bearer(scope)
        kind, object_id, next_in_project = route
        if kind == "next":
            task = await self.loop.next_task(token, object_id)
            return Response(status_code=204) if task is None else task_public(task)
        submitted = await self.loop.submit(
            token, object_id, parsed.result, parsed.client_submission_id, next_in_project
        )
        return submit_response(submitted.done, submitted.upcoming, submitted.next_checked)

    def _watching(self, receive: Receive) -> Receive:
        """`receive` for the lifespan scope, noting start-up and closing the pool at shutdown."""

        async def watched() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.started = True
            elif message["type"] == "lifespan.shutdown":
                self.started = False
                if isinstance(self.loop, PostgresLoop):
                    await self.loop.close()
                elif isinstance(self.loop, SqliteLoop):
                    self.loop.close()
            return message

        return watched


Route = tuple[str, int, int | None]
_REFUSED = object()


def _match(scope: Message) -> tuple[str, int, int | None] | None:
    """('next'|'submit', id, next_in_project) for a request this path takes, else None."""
    auth = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
    if auth[:7].lower() != b"bearer " or not auth[7:].strip():
        return None
    path = scope["path"]
    query = scope.get("query_string", b"")
    if path.endswith("/tasks/next"):
        found = _NEXT.fullmatch(path)
        if found is None or query:
            return None
        return _in_range("next", int(found[1]), None)
    if path.endswith("/submit"):
        found = _SUBMIT.fullmatch(path)
        if found is None:
            return None
        next_in_project = None
        if query:
            wanted = _NEXT_IN_PROJECT.fullmatch(query)
            if wanted is None:
                return None
            next_in_project = int(wanted[1])
            if next_in_project > MAX_ID:
                return None
        return _in_range("submit", int(found[1]), next_in_project)
    return None


def _in_range(kind: str, object_id: int, next_in_project: int | None) -> Any:
    return (kind, object_id, next_in_project) if object_id <= MAX_ID else None


Call = Callable[[Request, Database], Any]


def _parsed(route: Route, body: bytes) -> Any:
    """The submit body as the route's model, None for next task, `_REFUSED` when FastAPI
    should answer (with its own error)."""
    if route[0] == "next":
        return None
    from datadam.web.api.wire import SubmitRequest

    try:
        return SubmitRequest.model_validate_json(body)
    except ValidationError:
        return _REFUSED


def _call_for(route: Route, parsed: Any) -> Call:
    """The blocking route call for a taken request, run in the thread pool."""
    from datadam.web.api.assignments import submit, take_next_task

    kind, object_id, next_in_project = route
    if kind == "next":

        def next_call(request: Request, db: Database) -> Any:
            return take_next_task(project_id=object_id, actor=_token_actor(request, db), db=db)

        return next_call

    def submit_call(request: Request, db: Database) -> Any:
        return submit(
            assignment_id=object_id,
            body=parsed,
            actor=_token_actor(request, db),
            db=db,
            next_in_project=next_in_project,
        )

    return submit_call


def _bearer(scope: Message) -> str:
    auth = next(v for k, v in scope["headers"] if k == b"authorization")
    return auth[7:].strip().decode("latin-1")


def _token_actor(request: Request, db: Database) -> Actor:
    """`deps.current_actor` for a Bearer request whose URL carries no token (`_match` made
    sure), in one statement."""
    with db.engine.connect() as conn:
        return drive(conn, token_actor(_bearer(request.scope)))


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _handler_for(handlers: dict[Any, Any], exc: Exception) -> Any:
    """The app's handler for `exc`, as Starlette's exception middleware would pick it; the
    catch-all `Exception` handler is left to the server-error middleware outside."""
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None


def _json(model: BaseModel) -> Response:
    return Response(model.model_dump_json().encode(), media_type="application/json")
