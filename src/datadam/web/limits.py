"""Request size and shape limits, applied before any route reads the body (ASGI middleware).

* A declared `Content-Length` over the limit is answered 413 `payload_too_large` without
  reading a byte of the body; an undeclared (chunked) body is cut off as soon as it passes
  the limit. JSON and form bodies may be `max_body_bytes`; multipart bodies (uploads) may be
  `max_upload_bytes`.
* Forms: more than `max_form_fields` fields, or a non-file multipart field over
  `max_field_bytes` (text fields are held in memory), is 413 as the bytes stream in, whatever
  the parser underneath would do. The same holds for `application/x-www-form-urlencoded`.
* JSON bodies are checked once here: `NaN`/`Infinity` (money and times are involved),
  duplicate keys, nesting deeper than `max_json_depth`, giant integers and invalid UTF-8 are
  422 `invalid_json` with the position, never a 500 from a `RecursionError` in a parser.
* The JSON API (`/api/`) refuses state-changing bodies sent as `text/plain`, form-encoded or
  without a type with 415: these are the types a cross-site page can send without a CORS
  preflight (C-43 d), and the API never uses them.

The body-reading error is raised as Starlette's `HTTPException(413)` because that is the only
exception FastAPI lets through unchanged from a body read; `web/errors.py` renders it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from datadam.settings import Settings
from datadam.web.errors import error_body

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_FORM_FIELDS = 1000
MAX_FIELD_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 64
MAX_PART_HEADER_BYTES = 16 * 1024
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_SIMPLE_TYPES = {"", "text/plain", "application/x-www-form-urlencoded"}
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class BodyTooLarge(HTTPException):
    def __init__(self, message: str) -> None:
        super().__init__(status_code=413, detail=message)


class RequestLimits:
    """ASGI middleware enforcing the limits above; see the module docstring."""

    def __init__(
        self,
        app: Any,
        *,
        max_body_bytes: int,
        max_upload_bytes: int,
        max_form_fields: int = MAX_FORM_FIELDS,
        max_field_bytes: int = MAX_FIELD_BYTES,
        max_json_depth: int = MAX_JSON_DEPTH,
        api_prefix: str = "/api/",
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_form_fields = max_form_fields
        self.max_field_bytes = max_field_bytes
        self.max_json_depth = max_json_depth
        self.api_prefix = api_prefix

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type, params = _parse_content_type(headers.get("content-type", ""))
        is_multipart = content_type == "multipart/form-data"
        limit = self.max_upload_bytes if is_multipart else self.max_body_bytes
        declared = headers.get("content-length")
        length: int | None = None
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                await _reply(scope, receive, send, 400, "bad_request", "Invalid Content-Length.")
                return
            if length > limit:
                await _reply(scope, receive, send, 413, "payload_too_large", _too_big(limit))
                return
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        has_body = chunked or bool(length)
        if (
            has_body
            and scope["method"] in _UNSAFE
            and scope["path"].startswith(self.api_prefix)
            and content_type in _SIMPLE_TYPES
        ):
            await _reply(
                scope,
                receive,
                send,
                415,
                "unsupported_media_type",
                "Send the request body as application/json.",
            )
            return
        if has_body and (content_type == "application/json" or content_type.endswith("+json")):
            await self._json(scope, receive, send, limit)
            return
        counter: _Counter | None = None
        if is_multipart and params.get("boundary"):
            counter = _MultipartCounter(
                params["boundary"].encode("latin-1"),
                max_fields=self.max_form_fields,
                max_field_bytes=self.max_field_bytes,
            )
        elif content_type == "application/x-www-form-urlencoded":
            counter = _UrlencodedCounter(
                max_fields=self.max_form_fields, max_field_bytes=self.max_field_bytes
            )
        await self._streamed(scope, receive, send, limit, counter)

    async def _streamed(
        self, scope: Message, receive: Receive, send: Send, limit: int, counter: _Counter | None
    ) -> None:
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise BodyTooLarge(_too_big(limit))
                if counter is not None:
                    problem = counter.feed(chunk)
                    if problem:
                        raise BodyTooLarge(problem)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _reply(scope, receive, send, 413, "payload_too_large", str(exc.detail))

    async def _json(self, scope: Message, receive: Receive, send: Send, limit: int) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _reply(scope, receive, send, 413, "payload_too_large", _too_big(limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = json_problem(body, max_depth=self.max_json_depth) if body.strip() else None
        if problem is not None:
            await _reply(scope, receive, send, 422, "invalid_json", problem)
            return
        await self.app(scope, replaying(body, receive), send)


def replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` for an app downstream of a middleware that has read the whole body: the body
    once, then whatever the client sends next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def json_problem(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why `body` is not acceptable JSON, or None. Strict: no NaN, no duplicate keys."""
    depth = _nesting_depth(body, max_depth)
    if depth > max_depth:
        return f"Invalid JSON: nested more than {max_depth} levels deep."
    try:
        json.loads(body, parse_constant=_refuse_constant, object_pairs_hook=_refuse_duplicates)
    except json.JSONDecodeError as exc:
        return f"Invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}."
    except _Refused as exc:
        return f"Invalid JSON: {exc}."
    except UnicodeDecodeError as exc:
        return f"Invalid JSON: not UTF-8 at byte {exc.start}."
    except (ValueError, RecursionError):
        return "Invalid JSON: a value is out of range."
    return None


class _Refused(ValueError):
    pass


def _refuse_constant(name: str) -> None:
    raise _Refused(f"{name} is not a number")


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"duplicate key {key!r}")
            seen.add(key)
    return result


def _nesting_depth(body: bytes, cap: int) -> int:
    """Deepest bracket nesting outside strings (cheap when the body has few brackets)."""
    if body.count(b"[") + body.count(b"{") <= cap:
        return 0
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


class _Counter:
    def feed(self, chunk: bytes) -> str | None:  # pragma: no cover - interface
        raise NotImplementedError


class _UrlencodedCounter(_Counter):
    """Counts fields (`&`) and the bytes of the field being read, across chunk borders."""

    def __init__(self, *, max_fields: int, max_field_bytes: int) -> None:
        self.max_fields = max_fields
        self.max_field_bytes = max_field_bytes
        self.separators = 0
        self.current = 0

    def feed(self, chunk: bytes) -> str | None:
        self.separators += chunk.count(b"&")
        if self.separators + 1 > self.max_fields:
            return f"A form may have at most {self.max_fields} fields."
        last = chunk.rfind(b"&")
        if last < 0:
            self.current += len(chunk)
            longest = self.current
        else:
            longest = max(self.current + chunk.find(b"&"), _longest_field(chunk[: last + 1]))
            self.current = len(chunk) - last - 1
            longest = max(longest, self.current)
        if longest > self.max_field_bytes:
            return f"A form field may hold at most {self.max_field_bytes} bytes."
        return None


def _longest_field(chunk: bytes) -> int:
    return max((len(part) for part in chunk.split(b"&")), default=0)


class _MultipartCounter(_Counter):
    """Counts parts and the size of each non-file part while the body streams in.

    It only looks for the boundary and each part's header block (whether it names a
    `filename`); the real parser still decodes the body.
    """

    def __init__(self, boundary: bytes, *, max_fields: int, max_field_bytes: int) -> None:
        self.delimiter = b"\r\n--" + boundary
        self.pending = b"\r\n"  # the first boundary has no line break before it
        self.max_fields = max_fields
        self.max_field_bytes = max_field_bytes
        self.delimiters = 0
        self.in_headers = False  # the preamble counts like a text field
        self.header_block = bytearray()
        self.is_file = False
        self.size = 0

    def feed(self, chunk: bytes) -> str | None:
        data = self.pending + chunk
        start = 0
        while (at := data.find(self.delimiter, start)) >= 0:
            problem = self._content(data[start:at])
            if problem:
                return problem
            self.delimiters += 1
            if self.delimiters > self.max_fields + 1:  # the closing delimiter ends the last part
                return f"A form may have at most {self.max_fields} fields."
            self.in_headers, self.is_file, self.size = True, False, 0
            self.header_block.clear()
            start = at + len(self.delimiter)
        cut = max(start, len(data) - (len(self.delimiter) - 1))
        self.pending = data[cut:]
        return self._content(data[start:cut])

    def _content(self, segment: bytes) -> str | None:
        if self.in_headers:
            self.header_block += segment
            end = self.header_block.find(b"\r\n\r\n")
            if end < 0:
                if len(self.header_block) > MAX_PART_HEADER_BYTES:
                    return "A form part's headers are too large."
                return None
            self.is_file = b"filename" in bytes(self.header_block[:end]).lower()
            segment = bytes(self.header_block[end + 4 :])
            self.in_headers = False
            self.header_block.clear()
        self.size += len(segment)
        if not self.is_file and self.size > self.max_field_bytes:
            return (
                f"A form field may be at most {self.max_field_bytes} bytes (files may be larger)."
            )
        return None


def _parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for item in rest.split(";"):
        key, sep, val = item.partition("=")
        if sep:
            params[key.strip().lower()] = val.strip().strip('"')
    return main.strip().lower(), params


def _too_big(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes."


async def _reply(
    scope: Message, receive: Receive, send: Send, status: int, code: str, message: str
) -> None:
    response = JSONResponse(error_body(code, message, "body"), status_code=status)
    await response(scope, receive, send)


def request_limits(settings: Settings) -> dict[str, int]:
    """The middleware's keyword arguments from the settings."""
    return {
        "max_body_bytes": settings.max_body_bytes,
        "max_upload_bytes": settings.max_upload_bytes,
    }
