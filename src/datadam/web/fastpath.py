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

A taken request resolves the token in one statement and calls the route functions themselves
(`take_next_task`, `submit`). On SQLite it does so on the event loop, through the database's
`nowait` twin (SQLite calls take tens of microseconds and its writers queue on one lock anyway):
a lock held elsewhere fails the call at once, and the whole route is then run again in the
thread pool through the waiting engine. Every transaction is atomic, so the retry is safe; a
submit whose own transaction had committed before its follow-up next task met the lock answers
the retry as a replay (`replayed: true`), as for any client retry. On PostgreSQL, where each
statement is a network round trip and row locks may be waited for, the call goes to the thread
pool as before. Errors go through the app's exception handlers (`web/errors.py`), and
unexpected ones propagate to the server-error handler as usual.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from datadam.access import authn
from datadam.access.actor import Actor
from datadam.storage.db import Database
from datadam.storage.raw import for_dialect
from datadam.web.api.wire import MAX_ID

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

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        route = _match(scope) if scope["type"] == "http" and scope["method"] == "POST" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:  # the client went away
            return
        call = _call_for(route, body)
        if call is None:
            await self.app(scope, _replaying(body, receive), send)
            return
        app = scope["app"]
        request = Request(scope, receive)
        db: Database = app.state.db
        try:
            if db.is_postgres:
                result = await run_in_threadpool(call, request, db, app.state.settings)
            else:
                try:
                    result = call(request, db.nowait, app.state.settings)
                except OperationalError:
                    result = await run_in_threadpool(call, request, db, app.state.settings)
        except Exception as exc:
            handler = _handler_for(app.exception_handlers, exc)
            if handler is None:
                raise
            response = handler(request, exc)
            result = await response if inspect.isawaitable(response) else response
        if isinstance(result, BaseModel):
            result = _json(result)
        await result(scope, receive, send)


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


Call = Callable[[Request, Database, Any], Any]


def _call_for(route: tuple[str, int, int | None], body: bytes) -> Call | None:
    """The route call for a matched request, or None when FastAPI should answer it."""
    from datadam.web.api.assignments import submit, take_next_task
    from datadam.web.api.wire import SubmitRequest

    kind, object_id, next_in_project = route
    if kind == "next":

        def next_call(request: Request, db: Database, settings: Any) -> Any:
            actor = _token_actor(request, db)
            return take_next_task(project_id=object_id, actor=actor, db=db)

        return next_call
    try:
        parsed = SubmitRequest.model_validate_json(body)
    except ValidationError:
        return None

    def submit_call(request: Request, db: Database, settings: Any) -> Any:
        actor = _token_actor(request, db)
        return submit(
            assignment_id=object_id,
            body=parsed,
            actor=actor,
            db=db,
            next_in_project=next_in_project,
        )

    return submit_call


def _token_actor(request: Request, db: Database) -> Actor:
    """`deps.current_actor` for a Bearer request whose URL carries no token (`_match` made
    sure), with the one statement on a bare pooled connection instead of a SQLAlchemy one."""
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = request.headers["authorization"][7:].strip()
    dialect = db.engine.dialect
    statement = for_dialect(authn.ACTOR_BY_KEY_SQL, dialect.name)
    params = {"h": authn.sha256_hex(token)}
    pooled = db.engine.raw_connection()
    try:
        cursor = pooled.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    except dialect.loaded_dbapi.Error as err:
        raise DBAPIError.instance(statement, params, err, dialect.loaded_dbapi.Error) from err
    finally:
        pooled.close()
    request.state.actor = actor = authn.actor_from_token_rows(rows)
    return actor


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


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
