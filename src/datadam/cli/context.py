"""What every platform command needs: settings, a migrated database, and error handling."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from datadam.errors import DatadamError, InputError
from datadam.settings import Settings, get_settings
from datadam.storage.db import Database, open_database
from datadam.storage.migrate import upgrade


def open_migrated(settings: Settings | None = None) -> Database:
    settings = settings or get_settings()
    if settings.resolved_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(settings.resolved_database_url)
    upgrade(db.engine)
    return db


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error and return the Exit to raise (never a traceback)."""
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn domain errors into one line on stderr; exit 2 for bad input, 1 otherwise."""
    try:
        yield
    except InputError as exc:
        where = f" ({exc.field})" if exc.field and exc.field not in exc.message else ""
        raise fail(f"{exc.message}{where}", 2) from None
    except DatadamError as exc:
        raise fail(exc.message, 1) from None
    except FileNotFoundError as exc:
        raise fail(f"no such file: {exc.filename}", 2) from None
