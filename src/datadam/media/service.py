"""Use cases for media: upload into a project, find the media an item refers to, cut a signal
page. Access always goes through the item's project (`get_project_for`): a media file is only
reachable through an item the caller may view, never by its key alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.audit import record_event
from datadam.errors import InputError, NotFound
from datadam.media.signals import SignalPage, check_edf_readable, read_page
from datadam.media.store import MediaStore, check_key
from datadam.media.validate import MediaInfo, validate_media
from datadam.projects.service import get_project_for
from datadam.storage.tables import Item

DEFAULT_SOURCES = ("image", "audio", "signal")
DEFAULT_EPOCH_SECONDS = 30.0


@dataclass(frozen=True)
class ItemMedia:
    """The media key an item refers to under `source`, with what the page needs to read it."""

    key: str
    source: str
    holder: dict[str, Any]
    epoch_seconds: float


def _key_in(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("media")
    return value if isinstance(value, str) else None


def find_item_media(
    session: Session, actor: Actor, item_id: int, *, source: str | None = None
) -> ItemMedia:
    """The media of item `item_id` under payload key `source` (default: image, audio, signal).

    NotFound when the item is unknown or its project is not visible to `actor` (the same
    answer, so ids of other organisations' items reveal nothing).
    """
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"no item {item_id}", field="item_id")
    try:
        view = get_project_for(session, actor, item.project_id)
    except NotFound:
        raise NotFound(f"no item {item_id}", field="item_id") from None
    payload = item.payload if isinstance(item.payload, dict) else {}
    sources = (source,) if source else DEFAULT_SOURCES
    for name in sources:
        raw = _key_in(payload.get(name))
        if raw is None and name == "media" and item.media_key:
            raw = item.media_key
        if raw is not None:
            holder = payload.get(name)
            return ItemMedia(
                key=check_key(raw),
                source=name,
                holder=holder if isinstance(holder, dict) else {},
                epoch_seconds=_epoch_seconds(view.project.schema, name),
            )
    if source is None and item.media_key:
        return ItemMedia(check_key(item.media_key), "media", {}, DEFAULT_EPOCH_SECONDS)
    raise NotFound("this item has no media file", field="source", code="no_media")


def _epoch_seconds(schema: dict[str, Any], source: str) -> float:
    for control in schema.get("controls", []):
        if control.get("type") == "epochs" and control.get("source") == source:
            return float(control.get("epoch_seconds", DEFAULT_EPOCH_SECONDS))
    return DEFAULT_EPOCH_SECONDS


def validate_upload(data: bytes, filename: str | None) -> MediaInfo:
    """Full validation of an upload, including edfio's parse of EDF+ annotations."""
    info = validate_media(data, filename=filename)
    if info.kind == "signal":
        check_edf_readable(data)
    return info


def upload_media(
    session: Session,
    actor: Actor,
    store: MediaStore,
    *,
    project_id: int,
    files: list[tuple[str | None, bytes]],
) -> list[dict[str, Any]]:
    """Validate every file first, then store them; all or nothing. Returns one entry per file."""
    view = get_project_for(session, actor, project_id)
    view.require(ProjectAction.MANAGE)
    if not files:
        raise InputError("send at least one file", field="file")
    checked = []
    for index, (filename, data) in enumerate(files):
        try:
            checked.append((filename, data, validate_upload(data, filename)))
        except InputError as exc:
            if len(files) > 1:
                exc.message = f"file {index + 1}: {exc.message}"
            raise
    out = []
    for filename, data, info in checked:
        key = store.put(data, info.ext)
        entry = {"key": key, "kind": info.kind, "size": len(data), "filename": filename}
        out.append(entry | info.facts)
        record_event(
            session,
            actor_id=actor.user_id,
            action="media.upload",
            object_type="media",
            object_id=key.split(".", 1)[0],  # the content hash (64 characters)
            organization_id=view.project.owner_org_id,
            project_id=project_id,
            after={"key": key, "kind": info.kind, "size": len(data)},
        )
    return out


def signal_page(
    store: MediaStore, media: ItemMedia, page: int, channels: list[str] | None = None
) -> SignalPage:
    """One epoch-long page of the item's signal; `channels` defaults to the payload's list."""
    if not media.key.endswith((".edf", ".bdf")):
        raise InputError("this item's media is not a signal", field="source")
    wanted = channels or media.holder.get("channels")
    if wanted is not None and not (
        isinstance(wanted, list) and all(isinstance(c, str) for c in wanted)
    ):
        wanted = None
    with store.as_file(media.key) as path:
        return read_page(path, page, epoch_seconds=media.epoch_seconds, channels=wanted)
