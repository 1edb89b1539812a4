"""Export a project as JSONL: one line per item with every annotation.

Streaming, memory flat in the number of annotations. Workers appear under a pseudonym that is
stable within the project and different across projects (an HMAC of the worker id keyed by the
platform secret), so exports cannot be joined to identify people. Files are written to
`NAME.partial`, flushed to disk and renamed: a crash never leaves a half-written file under the
final name. Gold, training and qualification items (stage 'gold') are not dataset items: left
out.

How it is fast (measured with `bench/export_rate.py`; the decisions, in order of their gain):

* Two streaming cursors in one read transaction, items by id and annotations by (item, id),
  merged in a single pass (a merge join in Python): no per-chunk queries, no per-item lookups.
  PostgreSQL uses server-side (named) cursors fetched in blocks, SQLite its native cursor.
* Stored JSON is never parsed: payloads and results arrive as the database's JSON text (SQLite's
  stored text, PostgreSQL's `jsonb::text`) and are spliced into the line as they are.
* Times arrive as text: SQLite stores naive UTC "YYYY-MM-DD HH:MM:SS.ffffff", reshaped by
  slicing; PostgreSQL formats them with `to_char` on the server.
* Rows come straight from the driver cursor, without SQLAlchemy's row objects; each worker's
  pseudonym (an HMAC) is computed once per export.
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

CHUNK = 2000  # rows per fetch from a PostgreSQL server-side cursor; progress granularity
WRITE_BUFFER = 1 << 20

_PG_TIME = "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
_ITEMS_SQL = (
    "SELECT id, external_id, stage, {payload} FROM item WHERE project_id = {p} "
    "AND stage <> 'gold' ORDER BY id"  # known-answer items are not dataset items
)
# SQLite would otherwise read the project's items through the queue index and sort them in a
# temporary b-tree; this walks the project's rowid range instead, already in id order.
_SQLITE_ITEMS_SQL = (
    "SELECT id, external_id, stage, payload FROM item WHERE +project_id = {p} AND id BETWEEN"
    " (SELECT min(id) FROM item WHERE project_id = {p})"
    " AND (SELECT max(id) FROM item WHERE project_id = {p}) AND stage <> 'gold' ORDER BY id"
)
_ANNOTATIONS_SQL = (
    "SELECT item_id, id, worker_id, {result}, {started}, {submitted}, active_seconds "
    "FROM annotation WHERE project_id = {p} ORDER BY item_id, id"
)


def worker_pseudonym(secret: str, project_id: int, worker_id: int) -> str:
    mac = hmac.new(secret.encode(), f"{project_id}:{worker_id}".encode(), hashlib.sha256)
    return "w_" + mac.hexdigest()[:16]


def _time(value: Any) -> str | None:
    """ISO 8601 UTC with microseconds and a Z, e.g. 2026-01-02T03:04:05.000006Z.

    SQLite's stored text (naive UTC "YYYY-MM-DD HH:MM:SS.ffffff") is reshaped by slicing (the
    export inlines that common case); anything else goes through datetime.
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


def _sqlite_time(value: Any) -> str:
    """SQLite's stored time as a JSON string (the common 26-character shape by slicing)."""
    if type(value) is str and len(value) == 26:
        return f'"{value[:10]}T{value[11:]}Z"'
    return orjson.dumps(_time(value)).decode()


def _json_text(value: Any) -> str:
    """A stored JSON value as JSON text (drivers may hand back parsed values)."""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _rows(raw: Any, sql: str, *, name: str | None) -> Iterator[tuple[Any, ...]]:
    """Stream a query's rows from the driver: a named (server-side) cursor when `name` is set."""
    cursor = raw.cursor(name=name) if name else raw.cursor()
    try:
        cursor.execute(sql)
        while block := cursor.fetchmany(CHUNK):
            yield from block
    finally:
        cursor.close()


def iter_export_lines(
    conn: Connection, *, project_id: int, secret: str
) -> Iterator[tuple[bytes, int]]:
    """Yield (JSONL line, number of annotations on it) for every item of the project."""
    pg = conn.dialect.name == "postgresql"
    if not conn.in_transaction():
        conn.execute(text("SELECT 1"))  # one read transaction: both cursors see one snapshot
    raw = conn.connection.driver_connection
    p = int(project_id)
    if pg:
        items_sql = _ITEMS_SQL.format(payload="payload::text", p=p)
        notes_sql = _ANNOTATIONS_SQL.format(
            result="result::text",
            started=_PG_TIME.format("started_at"),
            submitted=_PG_TIME.format("submitted_at"),
            p=p,
        )
    else:
        items_sql = _SQLITE_ITEMS_SQL.format(p=p)
        notes_sql = _ANNOTATIONS_SQL.format(
            result="result", started="started_at", submitted="submitted_at", p=p
        )
    items = _rows(raw, items_sql, name=f"export_items_{p}" if pg else None)
    notes = _rows(raw, notes_sql, name=f"export_annotations_{p}" if pg else None)
    names: dict[int, str] = {}
    stages: dict[str, str] = {}
    pending = next(notes, None)
    for item_id, external_id, stage, payload in items:
        while pending is not None and pending[0] < item_id:
            pending = next(notes, None)  # an annotation of a deleted item: not exported
        parts = []
        while pending is not None and pending[0] == item_id:
            _item, a_id, worker_id, result, started, submitted, active = pending
            worker = names.get(worker_id)
            if worker is None:
                worker = names[worker_id] = worker_pseudonym(secret, project_id, worker_id)
            if pg:  # already formatted by the server
                started = "null" if started is None else f'"{started}"'
                submitted = "null" if submitted is None else f'"{submitted}"'
            else:
                started, submitted = _sqlite_time(started), _sqlite_time(submitted)
            parts.append(
                f'{{"annotation_id":{a_id},"worker":"{worker}","result":{_json_text(result)},'
                f'"started_at":{started},"submitted_at":{submitted},'
                f'"active_seconds":{round(float(active), 3)!r}}}'
            )
            pending = next(notes, None)
        stage_json = stages.get(stage)
        if stage_json is None:
            stage_json = stages[stage] = orjson.dumps(stage).decode()
        ext = "null" if external_id is None else orjson.dumps(external_id).decode()
        line = (
            f'{{"item_id":{item_id},"external_id":{ext},"stage":{stage_json},'
            f'"payload":{_json_text(payload)},"annotations":[{",".join(parts)}]}}\n'
        )
        yield line.encode(), len(parts)


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
    with db.engine.connect() as conn, partial.open("wb", buffering=WRITE_BUFFER) as handle:
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
    items = annotations = 0
    for line, n_annotations in lines:
        handle.write(line)
        items += 1
        annotations += n_annotations
        if progress and items % CHUNK == 0:
            progress(items)
    counts["items"], counts["annotations"] = items, annotations
