"""Media behind items: upload (managers), download and signal pages (anyone who may view the
item's project).

Served files are never active content: the Content-Type comes from the validated type, with
`nosniff`, a `sandbox` CSP, and `attachment` for anything that is not an image or audio."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse

from datadam.errors import PayloadTooLarge
from datadam.media import service
from datadam.media.signals import encode_page
from datadam.media.store import MediaStore, content_type_of, open_store
from datadam.web.deps import AppSettings, CurrentActor, Db

router = APIRouter(tags=["media"])
Source = Annotated[
    str | None,
    Query(
        max_length=128, description="Payload key holding the media (default: image, audio, signal)."
    ),
]
_SERVED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private, max-age=86400, immutable",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def media_store(request: Request) -> MediaStore:
    """The app's media store, opened once from its settings."""
    store = getattr(request.app.state, "media_store", None)
    if store is None:
        store = request.app.state.media_store = open_store(request.app.state.settings)
    return store


@router.post("/projects/{project_id}/media", status_code=201)
async def upload_media(
    project_id: int,
    request: Request,
    actor: CurrentActor,
    db: Db,
    settings: AppSettings,
    file: Annotated[list[UploadFile], File(description="One or more images, WAV or EDF files.")],
) -> dict[str, list[dict[str, object]]]:
    """Store validated media; reference a returned `key` from items' payload
    (`payload.image`, `payload.audio` or `payload.signal.media`)."""
    files = []
    for upload in file:
        data = await upload.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise PayloadTooLarge(
                f"file is larger than {settings.max_upload_bytes:,} bytes", field="file"
            )
        files.append((upload.filename, data))
    store = media_store(request)
    with db.write() as session:
        stored = service.upload_media(session, actor, store, project_id=project_id, files=files)
    return {"media": stored}


@router.get("/items/{item_id}/media", response_class=Response)
def get_item_media(
    item_id: int, request: Request, actor: CurrentActor, db: Db, source: Source = None
) -> Response:
    """The item's image, audio or signal file, with its validated Content-Type."""
    with db.read() as session:
        media = service.find_item_media(session, actor, item_id, source=source)
    store = media_store(request)
    content_type = content_type_of(media.key)
    size = store.size(media.key)
    headers = dict(_SERVED_HEADERS) | {"Accept-Ranges": "bytes"}
    if not content_type.startswith(("image/", "audio/")):
        headers["Content-Disposition"] = f'attachment; filename="{media.key}"'
    wanted = _byte_range(request.headers.get("range"), size)
    if wanted is None:
        headers["Content-Length"] = str(size)
        return StreamingResponse(
            store.iter_bytes(media.key), media_type=content_type, headers=headers
        )
    start, end = wanted
    if start >= size:
        headers["Content-Range"] = f"bytes */{size}"
        return Response(status_code=416, headers=headers)
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)
    body = store.iter_range(media.key, start, end - start + 1)
    return StreamingResponse(body, status_code=206, media_type=content_type, headers=headers)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `bytes=a-b` / `a-` / `-n` range; None to send it all.
    Audio players need ranges to seek; multi-range requests are answered with the whole file."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if not first:
            count = int(last)
            return (max(0, size - count), size - 1) if count > 0 else None
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if start >= size:
        return start, start  # unsatisfiable: the caller answers 416
    if start < 0 or end < start:
        return None
    return start, end


@router.get("/items/{item_id}/signal", response_class=Response)
def get_signal_page(
    item_id: int,
    request: Request,
    actor: CurrentActor,
    db: Db,
    page: Annotated[int, Query(ge=0, le=10_000_000, description="0-based epoch.")] = 0,
    source: Source = None,
    format: Annotated[str, Query(pattern="^(binary|json)$")] = "binary",
) -> Response:
    """One epoch-long page of every channel, in µV.

    `binary` (default): `DDSG`, u32 LE header length, JSON header, float32 LE samples channel
    after channel. `json`: the same header with `data` lists, for scripts and debugging."""
    with db.read() as session:
        media = service.find_item_media(session, actor, item_id, source=source or "signal")
    signal = service.signal_page(media_store(request), media, page)
    headers = {"Cache-Control": "private, max-age=3600"}
    if format == "json":
        body = signal.header()
        for entry, channel in zip(body["channels"], signal.channels, strict=True):
            entry["data"] = [round(float(v), 2) for v in channel.samples]
        return JSONResponse(body, headers=headers)
    return Response(encode_page(signal), media_type="application/octet-stream", headers=headers)
