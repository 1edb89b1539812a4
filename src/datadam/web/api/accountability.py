"""Accountability: organisation scorecards, the program dashboard, the audit trail and the
talent pool. Oversight (program office, quality agency) reads; nobody writes here except
workers (their own pool fields, answers to offers) and hiring organisations (offers, hires)."""

from __future__ import annotations

import weakref
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from datadam.accountability import dashboard, scorecard, talent, trail
from datadam.errors import NotAllowed
from datadam.storage.types import utcnow
from datadam.web.api.wire import Input, PathId
from datadam.web.deps import CurrentActor, Db
from datadam.web.pagination import check_limit, decode_cursor, encode_cursor
from datadam.web.quota import job_quota

router = APIRouter(tags=["accountability"])
Period = Annotated[
    str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM; default now.")
]
Text100 = Annotated[str | None, Query(max_length=100)]
OptionalId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


def _secret(request: Request) -> str:
    return request.app.state.secret_key


def current_period() -> str:
    now = utcnow()
    return f"{now.year:04d}-{now.month:02d}"


# ---------------------------------------------------------------- scorecards


@router.get("/scorecards")
def list_scorecards(actor: CurrentActor, db: Db, period: Period = None) -> dict[str, Any]:
    """Organisation scorecards for a pay period with the awards ranking (oversight: all
    organisations; admins and managers: their own)."""
    if not scorecard.may_read_scorecards(actor):
        raise NotAllowed("only oversight and organisation admins and managers read scorecards")
    label = period or current_period()
    with db.read() as session:
        cards = scorecard.scorecards_for(session, actor, label)
    return {
        "period": label,
        "weights": scorecard.WEIGHTS,
        "cards": [{**c.as_row(), "components": c.components} for c in cards],
    }


@router.get(
    "/scorecards/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_scorecards(actor: CurrentActor, db: Db, period: Period = None) -> Response:
    """The same cards as CSV."""
    if not scorecard.may_read_scorecards(actor):
        raise NotAllowed("only oversight and organisation admins and managers read scorecards")
    label = period or current_period()
    with db.read() as session:
        body = scorecard.scorecards_csv(scorecard.scorecards_for(session, actor, label))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="scorecards-{label}.csv"'},
    )


# ---------------------------------------------------------------- program dashboard


@router.get("/program/dashboard")
def program_dashboard(actor: CurrentActor, db: Db) -> dict[str, Any]:
    """Progress, quality and pay across all organisations and projects (oversight)."""
    with db.read() as session:
        return dashboard.program_dashboard(session, actor)


@router.get("/program/projects/{project_id}")
def program_project(project_id: PathId, actor: CurrentActor, db: Db) -> dict[str, Any]:
    """One project's progress, quality and pay (oversight)."""
    with db.read() as session:
        return dashboard.project_drilldown(session, actor, project_id)


# ---------------------------------------------------------------- audit trail


def trail_filter(
    actor: Text100 = None,
    action: Text100 = None,
    object_type: Text100 = None,
    object_id: Text100 = None,
    project_id: OptionalId = None,
    organization_id: OptionalId = None,
    since: date | None = None,
    until: date | None = None,
) -> trail.TrailFilter:
    return trail.TrailFilter(
        actor=actor or None,
        action=action or None,
        object_type=object_type or None,
        object_id=object_id or None,
        project_id=project_id,
        organization_id=organization_id,
        since=since,
        until=until,
    )


class EventPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for older events.")


@router.get("/audit/events", response_model=EventPage)
def list_events(
    request: Request,
    actor: CurrentActor,
    db: Db,
    flt: Annotated[trail.TrailFilter, Depends(trail_filter)],
    cursor: str | None = None,
    limit: int = 50,
) -> EventPage:
    """The audit trail, newest first, filtered (oversight)."""
    trail.require_trail_reader(actor)
    check_limit(limit)
    scope = "audit:" + flt.key()
    before = decode_cursor(_secret(request), cursor, scope=scope, user_id=actor.user_id)
    with db.read() as session:
        events, last = trail.list_events(session, actor, flt, before_id=before, limit=limit)
    next_cursor = (
        encode_cursor(_secret(request), scope=scope, user_id=actor.user_id, last_id=last)
        if last is not None
        else None
    )
    return EventPage(items=events, next_cursor=next_cursor)


@router.get(
    "/audit/events/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
def export_events(
    request: Request,
    actor: CurrentActor,
    db: Db,
    flt: Annotated[trail.TrailFilter, Depends(trail_filter)],
    format: Literal["csv", "jsonl"] = "csv",
) -> StreamingResponse:
    """Every matching event, oldest first, as CSV or JSONL (oversight)."""
    trail.require_trail_reader(actor)
    flt.check()
    slot = job_quota(request).acquire(actor.user_id)

    def chunks() -> Any:
        try:
            with db.read() as session:
                yield from trail.export_lines(trail.iter_events(session, flt), format)
        finally:
            slot.release()

    body = chunks()
    weakref.finalize(body, slot.release)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit-trail.{format}"'},
    )


@router.get("/audit/verify")
def verify_trail(actor: CurrentActor, db: Db) -> dict[str, Any]:
    """Walk the event hash chain; `ok` false names the first event that breaks it."""
    with db.read() as session:
        report = trail.verify_trail(session, actor)
    return dict(report.__dict__)


# ---------------------------------------------------------------- talent pool


class TalentFields(Input):
    fields: list[Annotated[str, Field(max_length=64)]] = Field(max_length=talent.MAX_FIELDS)


class OfferCreate(Input):
    organization_id: int = Field(ge=1, le=2**63 - 1)
    candidate: str = Field(min_length=1, max_length=40)
    field: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    message: str = Field("", max_length=5000)


@router.get("/talent/me")
def my_talent(request: Request, actor: CurrentActor, db: Db) -> dict[str, Any]:
    """Your pool fields, the fields there are, and offers made to you."""
    with db.read() as session:
        return {
            "fields": talent.my_fields(session, actor),
            "known_fields": talent.known_fields(session),
            "offers": talent.offers_for(session, actor, secret=_secret(request))["received"],
        }


@router.put("/talent/me")
def set_my_talent(body: TalentFields, actor: CurrentActor, db: Db) -> dict[str, Any]:
    """Opt in to exactly these fields (workers); [] leaves the pool."""
    with db.write() as session:
        return {"fields": talent.set_fields(session, actor, body.fields)}


@router.get("/talent/pool")
def talent_pool(
    request: Request,
    actor: CurrentActor,
    db: Db,
    field: Annotated[str, Query(min_length=1, max_length=64)],
) -> dict[str, Any]:
    """Opted-in workers of a field with their verified, pseudonymous history (hiring
    organisations' admins and managers)."""
    with db.read() as session:
        found = talent.pool(session, actor, secret=_secret(request), field=field)
    return {"field": field, "candidates": [c.public() for c in found]}


@router.get("/talent/offers")
def list_offers(request: Request, actor: CurrentActor, db: Db) -> dict[str, Any]:
    """Offers made to you and offers your organisations made."""
    with db.read() as session:
        return talent.offers_for(session, actor, secret=_secret(request))


def _offer_out(request: Request, offer: Any) -> dict[str, Any]:
    return {
        "id": int(offer.id),
        "organization_id": int(offer.organization_id),
        "candidate": talent.pool_pseudonym(_secret(request), offer.worker_id),
        "field": offer.field,
        "title": offer.title,
        "status": offer.status,
    }


@router.post("/talent/offers", status_code=201)
def send_offer(request: Request, body: OfferCreate, actor: CurrentActor, db: Db) -> dict[str, Any]:
    """Offer a job to a pool candidate (their name reaches you only if they accept)."""
    with db.write() as session:
        offer = talent.send_offer(session, actor, secret=_secret(request), **body.model_dump())
        return _offer_out(request, offer)


@router.post("/talent/offers/{offer_id}/accept")
def accept_offer(request: Request, offer_id: PathId, actor: CurrentActor, db: Db) -> dict[str, Any]:
    """Accept an offer made to you; the organisation then sees your name and e-mail."""
    with db.write() as session:
        return _offer_out(request, talent.respond(session, actor, offer_id, accept=True))


@router.post("/talent/offers/{offer_id}/decline")
def decline_offer(
    request: Request, offer_id: PathId, actor: CurrentActor, db: Db
) -> dict[str, Any]:
    """Decline an offer made to you."""
    with db.write() as session:
        return _offer_out(request, talent.respond(session, actor, offer_id, accept=False))


@router.post("/talent/offers/{offer_id}/hire")
def record_hire(request: Request, offer_id: PathId, actor: CurrentActor, db: Db) -> dict[str, Any]:
    """Record that an accepted offer became a job (the offering organisation)."""
    with db.write() as session:
        return _offer_out(request, talent.record_hire(session, actor, offer_id))
