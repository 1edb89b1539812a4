"""Keyset pagination with opaque, signed cursors bound to who asked and for what.

A cursor minted for one user, list or filter is refused anywhere else (400 `invalid_cursor`),
so a hand-edited or borrowed cursor can never reveal rows outside the caller's scope.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from datadam.errors import DatadamError, InputError

MAX_LIMIT = 500


class InvalidCursor(DatadamError):
    code = "invalid_cursor"


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="datadam.cursor")


def encode_cursor(secret: str, *, scope: str, user_id: int, last_id: int) -> str:
    return _serializer(secret).dumps({"s": scope, "u": user_id, "i": last_id})


def decode_cursor(secret: str, cursor: str | None, *, scope: str, user_id: int) -> int | None:
    if not cursor:
        return None
    try:
        data = _serializer(secret).loads(cursor)
    except BadSignature:
        raise InvalidCursor("the cursor is not valid", field="cursor") from None
    if not isinstance(data, dict) or data.get("s") != scope or data.get("u") != user_id:
        raise InvalidCursor("the cursor belongs to another list", field="cursor")
    last = data.get("i")
    if not isinstance(last, int):
        raise InvalidCursor("the cursor is not valid", field="cursor")
    return last


def check_limit(limit: int) -> int:
    if limit < 1 or limit > MAX_LIMIT:
        raise InputError(
            f"limit must be between 1 and {MAX_LIMIT}",
            field="limit",
            code="limit_too_large" if limit > MAX_LIMIT else "invalid_input",
        )
    return limit
