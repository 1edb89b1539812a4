"""The one place where errors become HTTP responses, always as the standard error body:
`{"error": {"code": ..., "message": ..., "field": ...}}` with no trace, SQL or path in it."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from datadam import errors

log = logging.getLogger("datadam.web")

STATUS = {
    errors.InputError: 422,
    errors.BadRequest: 400,
    errors.UnsupportedMediaType: 415,
    errors.NotFound: 404,
    errors.NotAllowed: 403,
    errors.NotAuthenticated: 401,
    errors.Conflict: 409,
    errors.TooMany: 429,
    errors.PayloadTooLarge: 413,
    errors.Unavailable: 503,
}
_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "field": field}}


def status_for(exc: errors.DatadamError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 400


def _field_path(loc: tuple[object, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _value_refused(cause: BaseException | None) -> JSONResponse:
    """The database refused a value the request carried: a number beyond 64 bits, or a NUL
    character PostgreSQL cannot store. That is the caller's input, so 422, never 500."""
    log.info("value refused by the database: %s", type(cause).__name__)
    return JSONResponse(
        error_body(
            "invalid_value",
            "A value in the request is out of range or contains a character that cannot be "
            "stored (such as NUL).",
        ),
        status_code=422,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.DatadamError)
    async def _datadam(_request: Request, exc: errors.DatadamError) -> JSONResponse:
        headers = {}
        if isinstance(exc, errors.TooMany | errors.Unavailable):
            headers["Retry-After"] = str(getattr(exc, "retry_after", 5))
        body = error_body(exc.code, exc.message, exc.field)
        problems = getattr(exc, "errors", None)
        if isinstance(problems, list):
            body["error"]["errors"] = problems  # type: ignore[index]
        return JSONResponse(body, status_code=status_for(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = _field_path(tuple(first.get("loc", ())))
        kind = first.get("type", "")
        code = "unknown_field" if kind == "extra_forbidden" else "invalid_input"
        if kind == "json_invalid":
            code = "invalid_json"
        message = f"{field}: {first.get('msg', 'invalid value')}"
        return JSONResponse(error_body(code, message, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return JSONResponse(
            error_body(code, message), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(DataError)
    async def _bad_value(_request: Request, exc: DataError) -> JSONResponse:
        return _value_refused(exc.orig)

    @app.exception_handler(OverflowError)
    async def _overflow(_request: Request, exc: OverflowError) -> JSONResponse:
        return _value_refused(exc)

    @app.exception_handler(OperationalError)
    async def _db_busy(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database operational error: %s", type(exc.orig).__name__)
        return JSONResponse(
            error_body("database_busy", "The database is busy; please retry in a moment."),
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "Something went wrong on our side; it was logged."),
            status_code=500,
        )
