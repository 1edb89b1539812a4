"""Oversight pages: the program office dashboard with a drill-down per project, organisation
scorecards, and the audit trail viewer.

All of them are read-only GET pages: there is no form here to change anything, and the
auditor (quality agency) reads exactly what the program office reads. Scorecards are also
open to organisation admins and managers, for their own organisation.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request, Response

from datadam import errors
from datadam.access.actor import Actor
from datadam.access.policies import sees_all_projects
from datadam.accountability import dashboard, scorecard, trail
from datadam.i18n import N_
from datadam.pay.period import period_bounds
from datadam.storage.types import utcnow
from datadam.web.deps import Db
from datadam.web.pages.common import PageActor, page_router, render
from datadam.web.pagination import decode_cursor, encode_cursor

router = page_router()
TRAIL_PAGE = 50
COMPONENT_NAMES = {
    "fair_pay": N_("Fair pay"),
    "quality": N_("Quality"),
    "training": N_("Paid training"),
    "fair_review": N_("Fair review"),
    "timeliness": N_("Pay on time"),
    "employment": N_("Employment"),
}
TRAIL_FIELDS = ("actor", "action", "object_type", "object_id")


def _secret(request: Request) -> str:
    return request.app.state.secret_key


def _oversight(actor: Actor) -> None:
    if not sees_all_projects(actor):
        raise errors.NotFound("no such page")


def _tabs(actor: Actor, tab: str, **values: Any) -> dict[str, Any]:
    return {"tab": tab, "actor_sees_all": sees_all_projects(actor), **values}


def _period(value: str) -> str:
    if value:
        period_bounds(value)  # InputError for anything but YYYY-MM
        return value
    now = utcnow()
    return f"{now.year:04d}-{now.month:02d}"


def _recent_periods(count: int = 6) -> list[str]:
    now = utcnow()
    return dashboard._months_back(now, count)[::-1]


@router.get("/program")
def dashboard_page(request: Request, actor: PageActor, db: Db) -> Response:
    _oversight(actor)
    with db.read() as session:
        data = dashboard.program_dashboard(session, actor)
    chart = {
        "days": data["labels_per_day"]["days"],
        "labels": data["labels_per_day"]["labels"],
        "periods": data["pay"]["periods"],
        "earnings": data["pay"]["earnings"],
        "top_ups": data["pay"]["top_ups"],
        "projects": [p["name"] for p in data["projects"]],
        "progress": [round(100 * (p["progress"] or 0), 1) for p in data["projects"]],
        "pass_rate": [
            None if p["pass_rate"] is None else round(100 * p["pass_rate"], 1)
            for p in data["projects"]
        ],
        "gold": [
            None if p["gold_accuracy"] is None else round(100 * p["gold_accuracy"], 1)
            for p in data["projects"]
        ],
    }
    return render(request, "program/dashboard.html", {"data": data, "chart": chart}, actor=actor)


@router.get("/program/projects/{project_id}")
def project_page(request: Request, project_id: int, actor: PageActor, db: Db) -> Response:
    _oversight(actor)
    with db.read() as session:
        data = dashboard.project_drilldown(session, actor, project_id)
    chart = {
        "days": data["labels_per_day"]["days"],
        "labels": data["labels_per_day"]["labels"],
        "periods": data["pay"]["periods"],
        "earnings": data["pay"]["earnings"],
        "top_ups": data["pay"]["top_ups"],
    }
    return render(request, "program/project.html", {"data": data, "chart": chart}, actor=actor)


@router.get("/program/scorecards")
def scorecards_page(request: Request, actor: PageActor, db: Db, period: str = "") -> Response:
    if not scorecard.may_read_scorecards(actor):
        raise errors.NotFound("no such page")
    label = _period(period[:7])
    with db.read() as session:
        cards = scorecard.scorecards_for(session, actor, label)
    ranked = sorted(
        (c for c in cards if c.rank is not None), key=lambda c: (c.rank, c.organization)
    )
    chart = {
        "organizations": [c.organization for c in ranked],
        "scores": [c.award_score for c in ranked],
        "at_minimum": [
            None if c.share_hours_at_minimum is None else round(100 * c.share_hours_at_minimum, 1)
            for c in ranked
        ],
    }
    return render(
        request,
        "program/scorecards.html",
        _tabs(actor, "scorecards")
        | {
            "period": label,
            "periods": _recent_periods(),
            "cards": cards,
            "ranked": ranked,
            "weights": scorecard.WEIGHTS,
            "component_names": COMPONENT_NAMES,
            "chart": chart,
        },
        actor=actor,
    )


def _trail_filter(request: Request) -> tuple[trail.TrailFilter, dict[str, str]]:
    """The filter from the query string; the raw values go back into the form."""
    q = request.query_params
    raw = {
        name: q.get(name, "")[:100]
        for name in (*TRAIL_FIELDS, "project_id", "organization_id", "since", "until")
    }

    def as_int(name: str) -> int | None:
        value = raw[name].strip()
        if not value:
            return None
        if not value.isdigit() or len(value) > 18:
            raise errors.InputError(f"{name} must be a number", field=name)
        return int(value)

    def as_date(name: str) -> date | None:
        value = raw[name].strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise errors.InputError(f"{name} must be a date", field=name) from None

    flt = trail.TrailFilter(
        **{name: (raw[name].strip() or None) for name in TRAIL_FIELDS},
        project_id=as_int("project_id"),
        organization_id=as_int("organization_id"),
        since=as_date("since"),
        until=as_date("until"),
    )
    return flt, raw


@router.get("/program/audit")
def audit_page(request: Request, actor: PageActor, db: Db, cursor: str = "") -> Response:
    _oversight(actor)
    problem = None
    try:
        flt, raw = _trail_filter(request)
        flt.check()
    except errors.InputError as exc:
        problem = exc.message
        flt, raw = trail.TrailFilter(), {}
    scope = "audit-page:" + flt.key()
    before = decode_cursor(_secret(request), cursor or None, scope=scope, user_id=actor.user_id)
    with db.read() as session:
        events, last = trail.list_events(session, actor, flt, before_id=before, limit=TRAIL_PAGE)
    next_cursor = (
        encode_cursor(_secret(request), scope=scope, user_id=actor.user_id, last_id=last)
        if last is not None
        else None
    )
    query = {k: v for k, v in raw.items() if v}
    return render(
        request,
        "program/audit.html",
        _tabs(actor, "audit")
        | {
            "events": events,
            "raw": raw,
            "query": query,
            "next_cursor": next_cursor,
            "problem": problem,
            "first_page": before is None,
        },
        actor=actor,
        status_code=422 if problem else 200,
    )


@router.get("/program/audit/verify")
def audit_verify_page(request: Request, actor: PageActor, db: Db) -> Response:
    _oversight(actor)
    with db.read() as session:
        report = trail.verify_trail(session, actor)
    return render(request, "program/verify.html", _tabs(actor, "audit", report=report), actor=actor)
