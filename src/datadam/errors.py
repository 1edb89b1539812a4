"""Typed errors raised by the domain services. The web and CLI layers map them once.

Each error carries a stable machine `code`, a message a person can act on, and the `field`
(or line) it concerns. No HTTP here: `web/errors.py` owns the status codes.
"""

from __future__ import annotations


class DatadamError(Exception):
    """Base of every error the platform reports to a user."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class InputError(DatadamError):
    """The request or file is malformed or breaks a rule (HTTP 422)."""

    code = "invalid_input"


class BadRequest(DatadamError):
    """The request is not acceptable in its form, e.g. a credential in the URL (HTTP 400)."""

    code = "bad_request"


class UnsupportedMediaType(DatadamError):
    """The body's content type is not one this endpoint takes (HTTP 415)."""

    code = "unsupported_media_type"


class NotFound(DatadamError):
    """The object does not exist, or the caller may not know it exists (HTTP 404)."""

    code = "not_found"


class NotAllowed(DatadamError):
    """The caller is known but may not do this (HTTP 403)."""

    code = "forbidden"


class NotAuthenticated(DatadamError):
    """No valid session or token (HTTP 401)."""

    code = "not_authenticated"


class Conflict(DatadamError):
    """The request clashes with the current state (HTTP 409)."""

    code = "conflict"


class TooMany(DatadamError):
    """Rate or quota exceeded (HTTP 429); `retry_after` in seconds."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int = 60, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PayloadTooLarge(DatadamError):
    """Body or file over the configured limit (HTTP 413)."""

    code = "payload_too_large"


class Unavailable(DatadamError):
    """The database is busy or down for now (HTTP 503 with Retry-After)."""

    code = "database_unavailable"
