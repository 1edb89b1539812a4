"""Export a project as JSONL: one line per item with every annotation.

Streaming by keyset in chunks, so memory stays flat in the number of annotations. Workers appear
under a pseudonym that is stable within the project and different across projects (an HMAC of
the worker id keyed by the platform secret), so exports cannot be joined to identify people.
Files are written to `NAME.partial`, flushed to disk and renamed: a crash never leaves a
half-written file under the final name.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from sqlalchemy import Connection, text

from datadam.storage.db import Database

CHUNK = 2000


def worker_pseudonym(secret: str, project_id: int, worker_id: int) -> str:
    mac = hmac.new(secret.encode(), f"{project_id}:{worker_id}".encode(), hashlib.sha256)
    return "w_" + mac.hexdigest()[:16]


def _time(value: Any) -> str | None:
    """ISO 8601 UTC with microseconds and a Z, e.g. 2026-01-02T03:04:05.000006Z.

    The hot part of an export (two per annotation), so it avoids strftime: SQLite's stored text
    (naive UTC "YYYY-MM-DD HH:MM:SS.ffffff") is reshaped, datetimes use isoformat.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":
            return value[:10] + "T" + value[11:] + "Z"
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def _json(value: Any) -> Any:
    return orjson.Fragment(value) if isinstance(value, str) else value


def iter_export_lines(
    conn: Connection, *, project_id: int, secret: str
) -> Iterator[tuple[bytes, int]]:
    """Yield (JSONL line, number of annotations on it) for every item of the project."""
    names: dict[int, str] = {}
    after = 0
    while True:
        items = conn.execute(
            text(
                "SELECT id, external_id, stage, payload FROM item "
                "WHERE project_id = :p AND id > :a AND stage <> 'gold' ORDER BY id LIMIT :n"
            ),
            {"p": project_id, "a": after, "n": CHUNK},
        ).all()
        if not items:
            return
        first, last = items[0].id, items[-1].id
        by_item: dict[int, list[dict[str, Any]]] = {}
        for a_id, item_id, worker_id, result, started, submitted, active in conn.execute(
            text(
                "SELECT id, item_id, worker_id, result, started_at, submitted_at, active_seconds "
                "FROM annotation WHERE project_id = :p AND item_id BETWEEN :f AND :l "
                "ORDER BY item_id, id"
            ),
            {"p": project_id, "f": first, "l": last},
        ):
            worker = names.get(worker_id)
            if worker is None:
                worker = names[worker_id] = worker_pseudonym(secret, project_id, worker_id)
            by_item.setdefault(item_id, []).append(
                {
                    "annotation_id": a_id,
                    "worker": worker,
                    "result": _json(result),
                    "started_at": _time(started),
                    "submitted_at": _time(submitted),
                    "active_seconds": round(float(active), 3),
                }
            )
        for item in items:
            annotations = by_item.get(item.id, [])
            yield (
                orjson.dumps(
                    {
                        "item_id": item.id,
                        "external_id": item.external_id,
                        "stage": item.stage,
                        "payload": _json(item.payload),
                        "annotations": annotations,
                    }
                )
                + b"\n",
                len(annotations),
            )
        after = last


def write_export(
    db: Database,
    *,
    project_id: int,
    secret: str,
    out: Path,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write the export atomically; returns counts of items and annotations written."""
    partial = out.with_name(out.name + ".partial")
    counts = {"items": 0, "annotations": 0}
    with db.engine.connect() as conn, partial.open("wb") as handle:
        _stream_to(
            handle, iter_export_lines(conn, project_id=project_id, secret=secret), counts, progress
        )
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, out)
    return counts


def _stream_to(
    handle: BinaryIO,
    lines: Iterator[tuple[bytes, int]],
    counts: dict[str, int],
    progress: Callable[[int], None] | None,
) -> None:
    for line, n_annotations in lines:
        handle.write(line)
        counts["items"] += 1
        counts["annotations"] += n_annotations
        if progress and counts["items"] % CHUNK == 0:
            progress(counts["items"])
