"""Projects, their items, imports, annotations and exports."""

from __future__ import annotations

import uuid
import weakref
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as FormFile

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.errors import InputError, NotFound, PayloadTooLarge
from datadam.exporting.jsonl import iter_export_lines, worker_pseudonym
from datadam.importing.service import import_file, import_status
from datadam.projects import service
from datadam.storage.tables import Annotation, ImportJob, Item, Project
from datadam.web.api.wire import (
    AnnotationPublic,
    ImportPublic,
    ItemPublic,
    Page,
    PathId,
    ProjectCreate,
    ProjectPublic,
    ProjectStats,
    ProjectUpdate,
    VendorGrant,
    file_upload_body,
)
from datadam.web.deps import AppSettings, CurrentActor, Db
from datadam.web.limits import MAX_FIELD_BYTES, MAX_FORM_FIELDS
from datadam.web.pagination import check_limit, decode_cursor, encode_cursor
from datadam.web.quota import job_quota

router = APIRouter(tags=["projects"])
Limit = Annotated[int, Query(description="Page size, 1-500.")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


def _public(view: service.ProjectView) -> ProjectPublic:
    p = view.project
    return ProjectPublic(
        id=p.id,
        owner_org_id=p.owner_org_id,
        name=p.name,
        field=p.field,
        modality=p.modality,
        labeling_schema=p.schema,
        schema_version=p.schema_version,
        overlap=p.overlap,
        lease_seconds=p.lease_seconds,
        instructions=p.instructions,
        status=p.status,
        vendor_ids=list(view.vendor_ids),
        actions=sorted(a.value for a in view.actions),
        created_at=p.created_at,
    )


def _secret(request: Request) -> str:
    return request.app.state.secret_key


@router.get("/projects", response_model=Page[ProjectPublic])
def list_projects(
    request: Request, actor: CurrentActor, db: Db, cursor: Cursor = None, limit: Limit = 50
) -> Page[ProjectPublic]:
    """Projects you can see, oldest first."""
    check_limit(limit)
    after = decode_cursor(_secret(request), cursor, scope="projects", user_id=actor.user_id)
    with db.read() as session:
        rows = service.list_projects(session, actor, after_id=after, limit=limit)
        views = [service.get_project_for(session, actor, p.id) for p in rows]
    next_cursor = (
        encode_cursor(
            _secret(request), scope="projects", user_id=actor.user_id, last_id=rows[-1].id
        )
        if len(rows) == limit
        else None
    )
    return Page[ProjectPublic](items=[_public(v) for v in views], next_cursor=next_cursor)


@router.post("/projects", response_model=ProjectPublic, status_code=201)
def create_project(body: ProjectCreate, actor: CurrentActor, db: Db) -> ProjectPublic:
    """Open a new project in an institution you manage."""
    with db.write() as session:
        project = service.create_project(
            session,
            actor,
            owner_org_id=body.owner_org_id,
            name=body.name,
            schema=body.labeling_schema,
            overlap=body.overlap,
            lease_seconds=body.lease_seconds,
            instructions=body.instructions,
            field=body.field,
            modality=body.modality,
        )
        return _public(service.get_project_for(session, actor, project.id))


@router.get("/projects/{project_id}", response_model=ProjectPublic)
def get_project(project_id: PathId, actor: CurrentActor, db: Db) -> ProjectPublic:
    with db.read() as session:
        return _public(service.get_project_for(session, actor, project_id))


@router.patch("/projects/{project_id}", response_model=ProjectPublic)
def update_project(
    project_id: PathId, body: ProjectUpdate, actor: CurrentActor, db: Db
) -> ProjectPublic:
    """Change settings; a schema change starts a new schema version."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if "labeling_schema" in changes:
        changes["schema"] = changes.pop("labeling_schema")
    with db.write() as session:
        view = service.get_project_for(session, actor, project_id)
        service.update_project(session, view, actor, changes)
        return _public(service.get_project_for(session, actor, project_id))


@router.get("/projects/{project_id}/stats", response_model=ProjectStats)
def project_stats(project_id: PathId, actor: CurrentActor, db: Db) -> ProjectStats:
    with db.read() as session:
        view = service.get_project_for(session, actor, project_id)
        counts = service.project_counts(session, view.project)
    return ProjectStats(
        items=counts.items,
        annotations=counts.annotations,
        complete=counts.complete,
        by_stage=counts.by_stage,
    )


@router.post("/projects/{project_id}/vendors", status_code=204)
def grant_vendor(project_id: PathId, body: VendorGrant, actor: CurrentActor, db: Db) -> Response:
    """Let a vendor organisation's workers work on this project."""
    with db.write() as session:
        view = service.get_project_for(session, actor, project_id)
        service.grant_vendor(session, view, actor, body.organization_id)
    return Response(status_code=204)


@router.delete("/projects/{project_id}/vendors/{organization_id}", status_code=204)
def revoke_vendor(
    project_id: PathId, organization_id: PathId, actor: CurrentActor, db: Db
) -> Response:
    with db.write() as session:
        view = service.get_project_for(session, actor, project_id)
        service.revoke_vendor(session, view, actor, organization_id)
    return Response(status_code=204)


def _readable_view(db: Db, actor: Actor, project_id: int, action: ProjectAction) -> Project:
    with db.read() as session:
        view = service.get_project_for(session, actor, project_id)
    view.require(action)
    return view.project


@router.get("/projects/{project_id}/items", response_model=Page[ItemPublic])
def list_items(
    request: Request,
    project_id: PathId,
    actor: CurrentActor,
    db: Db,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[ItemPublic]:
    """Items in import order (managers and inspectors)."""
    check_limit(limit)
    with db.read() as session:
        view = service.get_project_for(session, actor, project_id)
        if not view.actions & {ProjectAction.MANAGE, ProjectAction.INSPECT, ProjectAction.EXPORT}:
            view.require(ProjectAction.MANAGE)
        scope = f"items:{project_id}"
        after = decode_cursor(_secret(request), cursor, scope=scope, user_id=actor.user_id) or 0
        rows = (
            session.execute(
                select(Item)
                .where(Item.project_id == project_id, Item.id > after)
                .order_by(Item.id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
    items = [
        ItemPublic(
            id=r.id,
            external_id=r.external_id,
            stage=r.stage,
            payload=r.payload,
            labels_done=r.n_done,
        )
        for r in rows
    ]
    next_cursor = (
        encode_cursor(_secret(request), scope=scope, user_id=actor.user_id, last_id=rows[-1].id)
        if len(rows) == limit
        else None
    )
    return Page[ItemPublic](items=items, next_cursor=next_cursor)


def _import_public(job: ImportJob) -> ImportPublic:
    return ImportPublic(
        id=job.id,
        project_id=job.project_id,
        filename=job.filename,
        status=import_status(job),
        rows_total=job.rows_total,
        rows_done=job.rows_done,
        imported=job.imported,
        duplicates=job.duplicates,
        errors=job.errors,
        created_at=job.created_at,
    )


def _save_upload(upload: FormFile, folder: Path, limit: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".json", ".csv"):
        suffix = ".dat"
    target = folder / f"{uuid.uuid4().hex}{suffix}"
    written = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            written += len(chunk)
            if written > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise PayloadTooLarge(f"the file is larger than {limit} bytes", field="file")
            out.write(chunk)
    return target


_UPLOAD_BODY = file_upload_body("JSONL, JSON array or CSV; one item per row.")


@router.post(
    "/projects/{project_id}/imports",
    response_model=ImportPublic,
    status_code=201,
    openapi_extra=_UPLOAD_BODY,
)
async def create_import(
    request: Request, project_id: PathId, actor: CurrentActor, db: Db, settings: AppSettings
) -> ImportPublic:
    """Import items. A file with any bad row is refused whole (422 naming the line).

    Permission and the job quota are checked before a byte of the upload is read, so a
    refused caller costs no disk; that is why the form is parsed here, not by FastAPI.
    """
    await run_in_threadpool(_readable_view, db, actor, project_id, ProjectAction.MANAGE)
    with job_quota(request).acquire(actor.user_id):
        async with request.form(
            max_files=1, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES
        ) as form:
            file = form.get("file")
            if not isinstance(file, FormFile):
                raise InputError("file: Field required", field="file")
            folder = settings.data_dir / "imports"
            path = await run_in_threadpool(_save_upload, file, folder, settings.max_upload_bytes)
        try:
            summary = await run_in_threadpool(
                partial(
                    import_file,
                    db,
                    project_id=project_id,
                    path=path,
                    filename=Path(file.filename or "upload").name,
                    actor_id=actor.user_id,
                )
            )
        except Exception:
            path.unlink(missing_ok=True)
            raise
    return await run_in_threadpool(_import_by_id, db, summary.import_id)


def _import_by_id(db: Db, import_id: int) -> ImportPublic:
    with db.read() as session:
        job = session.get(ImportJob, import_id)
        assert job is not None
        return _import_public(job)


@router.get("/projects/{project_id}/imports/{import_id}", response_model=ImportPublic)
def get_import(project_id: PathId, import_id: PathId, actor: CurrentActor, db: Db) -> ImportPublic:
    _readable_view(db, actor, project_id, ProjectAction.MANAGE)
    with db.read() as session:
        job = session.get(ImportJob, import_id)
        if job is None or job.project_id != project_id:
            raise NotFound(f"no import {import_id}", field="import_id")
        return _import_public(job)


@router.get("/projects/{project_id}/annotations", response_model=Page[AnnotationPublic])
def list_annotations(
    request: Request,
    project_id: PathId,
    actor: CurrentActor,
    db: Db,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[AnnotationPublic]:
    """Submitted work, newest last, with pseudonymous workers (inspectors and managers)."""
    check_limit(limit)
    _readable_view(db, actor, project_id, ProjectAction.INSPECT)
    scope = f"annotations:{project_id}"
    after = decode_cursor(_secret(request), cursor, scope=scope, user_id=actor.user_id) or 0
    with db.read() as session:
        rows = (
            session.execute(
                select(Annotation)
                .where(Annotation.project_id == project_id, Annotation.id > after)
                .order_by(Annotation.id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
    secret = _secret(request)
    items = [
        AnnotationPublic(
            id=r.id,
            item_id=r.item_id,
            worker=worker_pseudonym(secret, project_id, r.worker_id),
            result=r.result,
            submitted_at=r.submitted_at,
            active_seconds=r.active_seconds,
        )
        for r in rows
    ]
    next_cursor = (
        encode_cursor(secret, scope=scope, user_id=actor.user_id, last_id=rows[-1].id)
        if len(rows) == limit
        else None
    )
    return Page[AnnotationPublic](items=items, next_cursor=next_cursor)


@router.get(
    "/projects/{project_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export_project(
    request: Request, project_id: PathId, actor: CurrentActor, db: Db
) -> StreamingResponse:
    """Stream every item with its annotations as JSONL (one job of your quota while it runs)."""
    project = _readable_view(db, actor, project_id, ProjectAction.EXPORT)
    secret = _secret(request)
    slot = job_quota(request).acquire(actor.user_id)

    def lines() -> Any:
        try:
            with db.engine.connect() as conn:
                for line, _n in iter_export_lines(conn, project_id=project.id, secret=secret):
                    yield line
        finally:
            slot.release()

    body = lines()
    weakref.finalize(body, slot.release)  # a client gone before the first line
    filename = f"project-{project.id}.jsonl"
    return StreamingResponse(
        body,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
