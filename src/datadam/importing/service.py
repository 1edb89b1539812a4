"""Importing items from a file into a project.

Policy (documented in the README): **validate everything, then insert resumably.**
1. A first streaming pass checks every row (well-formed, an object, the fields the schema's
   controls read). Any problem rejects the whole file: the import is recorded as `failed`
   with its error list and **no item is stored**.
2. A second pass inserts in batches. Each batch and the import's progress counters commit in
   one transaction, so after a crash the stored items are exactly the counted prefix. A
   `running` import whose heartbeat is older than `STALE_AFTER` (60 s; env
   `DATADAM_IMPORT_STALE_SECONDS`) is shown as `interrupted`; `datadam import --resume ID` (or
   the same file again) finishes it without duplicates, since items are unique per project by
   content hash.
3. Each batch advances `rows_done` only from the value this process last saw (a conditional
   UPDATE): should two processes resume one import at once, the slower one's batch rolls back
   and it stops with a Conflict instead of counting rows twice.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, text

from datadam.audit import record_event
from datadam.domain.enums import ImportStatus
from datadam.errors import Conflict, InputError, NotFound
from datadam.faults import crash_point
from datadam.importing.readers import Row, detect_format, read_rows
from datadam.stages.transitions import entry_stage
from datadam.storage.db import Database
from datadam.storage.tables import ImportJob, Project
from datadam.storage.types import utcnow

BATCH = 5000
MAX_ERRORS = 50
STALE_AFTER = timedelta(seconds=float(os.environ.get("DATADAM_IMPORT_STALE_SECONDS", "60")))
Progress = Callable[[int, int], None]


class ImportRejected(InputError):
    """The file has problems; nothing was stored. `errors` lists up to 50 of them."""

    code = "import_rejected"

    def __init__(self, import_id: int, errors: list[dict[str, Any]]) -> None:
        first = errors[0]
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        super().__init__(first["message"] + more, field=first.get("field"), code=first.get("code"))
        self.import_id = import_id
        self.errors = errors


@dataclass
class ImportSummary:
    import_id: int
    status: str
    rows: int
    imported: int
    duplicates: int
    seconds: float
    errors: list[dict[str, Any]] = field(default_factory=list)


def content_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def required_keys(schema: dict[str, Any]) -> dict[str, str]:
    """Payload keys the schema's controls read: {key: control name}."""
    out: dict[str, str] = {}
    for control in schema.get("controls", []):
        source = control.get("source")
        if source:
            out.setdefault(source, control.get("name", "?"))
    return out


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check_row(row: Row, needs: dict[str, str], first_csv_row: bool = False) -> None:
    """A missing field names its line; on a CSV file's first row, it names the header."""
    if first_csv_row:
        missing = [key for key in needs if key not in row.payload]
        if missing:
            raise InputError(
                f"the CSV header lacks column(s) {', '.join(map(repr, missing))} "
                f"(read by control {needs[missing[0]]!r})",
                field="header",
                code="invalid_header",
            )
    for key, control in needs.items():
        if key not in row.payload:
            raise InputError(
                f"line {row.line}: missing field {key!r} (read by control {control!r})",
                field=key,
                code="missing_field",
            )


def validate_file(
    path: Path, file_format: str, needs: dict[str, str]
) -> tuple[int, list[dict[str, Any]]]:
    """First pass: count rows and collect problems (stops at the first malformed syntax)."""
    errors: list[dict[str, Any]] = []
    count = 0
    with path.open("rb") as handle:
        try:
            for row in read_rows(handle, file_format):
                count += 1
                try:
                    _check_row(row, needs, first_csv_row=count == 1 and file_format == "csv")
                except InputError as exc:
                    errors.append(_as_dict(exc))
                    if len(errors) >= MAX_ERRORS or exc.code == "invalid_header":
                        break
        except InputError as exc:
            errors.append(_as_dict(exc))
    if count == 0 and not errors:
        errors.append({"code": "empty_file", "message": "the file holds no items", "field": "file"})
    return count, errors


def _as_dict(exc: InputError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message, "field": exc.field}


def import_file(
    db: Database,
    *,
    project_id: int,
    path: Path,
    filename: str | None = None,
    actor_id: int | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    started = time.perf_counter()
    with db.read() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound(f"no project {project_id}", field="project_id")
        needs = required_keys(project.schema)
    with path.open("rb") as handle:
        head = handle.read(4096)
    file_format = detect_format(Path(filename or path.name), head)
    total, errors = validate_file(path, file_format, needs)
    with db.write() as session:
        job = ImportJob(
            project_id=project_id,
            filename=(filename or path.name)[:255],
            source_path=str(path.resolve()),
            file_format=file_format,
            file_sha256=file_sha256(path),
            status=(ImportStatus.FAILED if errors else ImportStatus.RUNNING).value,
            rows_total=total,
            errors=errors,
            created_by=actor_id,
            heartbeat_at=utcnow(),
            finished_at=utcnow() if errors else None,
        )
        session.add(job)
        session.flush()
        record_event(
            session,
            actor_id=actor_id,
            action="import.start",
            object_type="import",
            object_id=job.id,
            project_id=project_id,
            after={"filename": job.filename, "rows": total, "errors": len(errors)},
        )
        job_id = job.id
    if errors:
        raise ImportRejected(job_id, errors)
    return _insert_all(db, job_id, progress=progress, started=started)


def resume_import(
    db: Database, import_id: int, *, progress: Progress | None = None
) -> ImportSummary:
    started = time.perf_counter()
    with db.read() as session:
        job = session.get(ImportJob, import_id)
        if job is None:
            raise NotFound(f"no import {import_id}", field="import_id")
        if job.status == ImportStatus.DONE.value:
            raise Conflict(f"import {import_id} is already complete", code="already_done")
        if job.status == ImportStatus.FAILED.value:
            raise Conflict(f"import {import_id} was rejected; fix the file and import it again")
        path = Path(job.source_path)
        if not path.exists() or file_sha256(path) != job.file_sha256:
            raise InputError(
                f"the file of import {import_id} ({job.filename}) is gone or has changed",
                field="file",
            )
    return _insert_all(db, import_id, progress=progress, started=started)


def import_status(job: ImportJob) -> str:
    """`running` with no heartbeat for `STALE_AFTER` means the importing process died."""
    stale = job.heartbeat_at is not None and utcnow() - job.heartbeat_at > STALE_AFTER
    if job.status == ImportStatus.RUNNING.value and stale:
        return ImportStatus.INTERRUPTED.value
    return job.status


def _batches(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert_all(
    db: Database, job_id: int, *, progress: Progress | None, started: float
) -> ImportSummary:
    with db.read() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        path, file_format, skip = Path(job.source_path), job.file_format, job.rows_done
        project_id, total = job.project_id, job.rows_total
        refine_first = False
    stage = entry_stage(refine_first=refine_first).value
    done = skip
    with path.open("rb") as handle:
        rows = read_rows(handle, file_format)
        for _ in range(skip):
            next(rows, None)
        for batch in _batches(rows, BATCH):
            _insert_batch(db, job_id, project_id, stage, batch, done_before=done)
            done += len(batch)
            crash_point("import.after_batch_commit")
            if progress:
                progress(done, total)
    crash_point("import.before_status")
    with db.write() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        job.status = ImportStatus.DONE.value
        job.finished_at = utcnow()
        record_event(
            session,
            actor_id=job.created_by,
            action="import.done",
            object_type="import",
            object_id=job.id,
            project_id=project_id,
            after={"imported": job.imported, "duplicates": job.duplicates},
        )
        return ImportSummary(
            job.id,
            job.status,
            job.rows_total,
            job.imported,
            job.duplicates,
            round(time.perf_counter() - started, 3),
        )


def _external_id(payload: dict[str, Any]) -> str | None:
    value = payload.get("external_id", payload.get("id"))
    return None if value is None else str(value)[:255]


def _insert_batch(
    db: Database, job_id: int, project_id: int, stage: str, batch: list[Row], *, done_before: int
) -> None:
    now = utcnow()
    records = []
    for row in batch:
        blob = orjson.dumps(row.payload, option=orjson.OPT_SORT_KEYS)
        records.append(
            (
                project_id,
                _external_id(row.payload),
                blob.decode(),
                hashlib.sha256(blob).hexdigest(),
                job_id,
                stage,
            )
        )
    with db.write_engine.begin() as conn:
        inserted = (
            _copy_batch(conn, records, now) if db.is_postgres else _sqlite_batch(conn, records, now)
        )
        moved = conn.execute(
            text(
                "UPDATE import_job SET rows_done = rows_done + :n, imported = imported + :ins, "
                "duplicates = duplicates + :dup, heartbeat_at = :now "
                "WHERE id = :j AND rows_done = :before"
            ),
            {
                "n": len(batch),
                "ins": inserted,
                "dup": len(batch) - inserted,
                "j": job_id,
                "before": done_before,
                "now": now if db.is_postgres else now.replace(tzinfo=None),
            },
        ).rowcount
        if moved != 1:
            raise Conflict(
                f"import {job_id} is being completed by another process", code="import_busy"
            )


def _sqlite_batch(conn: Connection, records: list[tuple[Any, ...]], now: Any) -> int:
    stamp = now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    before = conn.connection.driver_connection.total_changes  # type: ignore[union-attr]
    cursor.executemany(
        "INSERT INTO item (project_id, external_id, payload, content_hash, import_id, stage, "
        "n_taken, n_done, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?) "
        "ON CONFLICT (project_id, content_hash) DO NOTHING",
        [(*r, stamp) for r in records],
    )
    inserted = conn.connection.driver_connection.total_changes - before  # type: ignore[union-attr]
    cursor.close()
    return inserted


def _copy_batch(conn: Connection, records: list[tuple[Any, ...]], now: Any) -> int:
    """PostgreSQL: COPY into a temporary table, then one INSERT … ON CONFLICT DO NOTHING."""
    raw = conn.connection.driver_connection  # a psycopg Connection
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS item_import_batch (project_id bigint, "
            "external_id text, payload text, content_hash text, import_id bigint, stage text, "
            "ord serial) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(
            "COPY item_import_batch (project_id, external_id, payload, content_hash, import_id,"
            " stage) FROM STDIN"
        ) as copy:
            for record in records:
                copy.write_row(record)
        cursor.execute(
            "INSERT INTO item (project_id, external_id, payload, content_hash, import_id, stage,"
            " n_taken, n_done, created_at) SELECT project_id, external_id, payload::jsonb,"
            " content_hash, import_id, stage, 0, 0, %s FROM item_import_batch ORDER BY ord"
            " ON CONFLICT (project_id, content_hash) DO NOTHING",
            (now,),
        )
        return cursor.rowcount
