"""Pay pages: the worker's earnings, statements, payout requests, private profile and
work-history certificate; the payout desk of an organisation's admins.

Every worker page shows only the signed-in worker's own data (nothing here takes a worker
id). The payout desk shows workers' names and bank details to admins of the organisation
that pays them, the one group besides the worker allowed to see them (issue 7 item 10).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request, Response

from datadam.access.policies import ProjectAction
from datadam.domain.enums import Role
from datadam.errors import DatadamError, InputError, NotFound
from datadam.i18n import N_
from datadam.pay import payouts, profiles, statements, task_rates
from datadam.pay.certificate import issue_certificate
from datadam.pay.keys import platform_key_for
from datadam.projects.service import get_project_for
from datadam.storage.tables import Organization
from datadam.web.deps import AppSettings, Db
from datadam.web.errors import status_for
from datadam.web.pages.common import PageActor, page_router, redirect, render
from datadam.web.pages.work import _money

router = page_router()

TASK_TYPE_NAMES = {
    "labeling": N_("Labeling"),
    "training": N_("Training"),
    "qualification": N_("Qualification tests"),
    "rework": N_("Rework"),
    "other": N_("Other paid time"),
}
STATUS_NAMES = {
    "posted": N_("Posted"),
    "pending": N_("Pending close"),
    "withheld": N_("Not paid"),
}
NOTICES = {
    "requested": N_("Payout requested. An admin of the organisation will decide."),
    "saved": N_("Your details were saved."),
    "approved": N_("Payout approved and recorded in the ledger."),
    "declined": N_("Payout request declined."),
}


def _hours(seconds: int) -> str:
    return statements.hours_text(seconds)


def _pay_context(session: Any, actor: Any, period: str | None) -> dict[str, Any]:
    """The pay page's data; without a chosen period, this month when it has work, else the
    latest period with pay."""
    periods = statements.periods_with_pay(session, actor.user_id)
    now_period = statements.current_period()
    statement = statements.build_statement(session, actor, period or now_period)
    if period is None and not statement.lines and periods and periods[0] != now_period:
        statement = statements.build_statement(session, actor, periods[0])
    cur = statement.currency

    def money(value: int | None) -> str:
        return "—" if value is None else _money(value, cur)

    return {
        "periods": sorted({*periods, now_period, statement.period}, reverse=True),
        "statement": statement,
        "money": money,
        "hours": _hours,
        "task_names": TASK_TYPE_NAMES,
        "status_names": STATUS_NAMES,
        "balances": payouts.balances_of(session, actor.user_id),
        "requests": payouts.list_my_requests(session, actor, limit=20),
        "withheld": [line for line in statement.lines if line.status == "withheld"],
        "money_in": lambda value, currency: _money(value, currency),
    }


@router.get("/work/pay")
def pay_page(
    request: Request, actor: PageActor, db: Db, period: str | None = None, done: str = ""
) -> Response:
    """Earnings by day and project, hours, effective hourly wage, statements and payouts."""
    with db.read() as session:
        context = _pay_context(session, actor, period)
    context["notice"] = NOTICES.get(done)
    return render(request, "work/pay.html", context, actor=actor)


@router.get("/work/pay/{period}/statement.csv")
def statement_csv(period: str, actor: PageActor, db: Db) -> Response:
    with db.read() as session:
        statement = statements.build_statement(session, actor, period)
    return _download(statements.statement_csv(statement).encode(), "text/csv", period, "csv")


@router.get("/work/pay/{period}/statement.pdf")
def statement_pdf(period: str, actor: PageActor, db: Db) -> Response:
    with db.read() as session:
        statement = statements.build_statement(session, actor, period)
    return _download(statements.statement_pdf(statement), "application/pdf", period, "pdf")


def _download(body: bytes, media_type: str, period: str, ext: str) -> Response:
    statements.period_bounds(period)  # the file name uses a checked period only
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="pay-statement-{period}.{ext}"',
            "Cache-Control": "no-store",
        },
    )


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/work/pay/payout-requests")
async def payout_request_submit(request: Request, actor: PageActor, db: Db) -> Response:
    fields = await _fields(request)
    try:
        org_text, currency = fields.get("account", ":").split(":", 1)
        amount = int(fields.get("amount_minor", "").strip() or "0")
        org_id = int(org_text)
        with db.write() as session:
            payouts.request_payout(
                session, actor, organization_id=org_id, amount_minor=amount, currency=currency
            )
    except (ValueError, DatadamError) as exc:
        with db.read() as session:
            context = _pay_context(session, actor, None)
        context["problem"] = (
            str(exc) if isinstance(exc, DatadamError) else N_("Enter a whole amount.")
        )
        status = status_for(exc) if isinstance(exc, DatadamError) else 422
        return render(request, "work/pay.html", context, actor=actor, status_code=status)
    return redirect("/work/pay?done=requested")


@router.get("/work/profile")
def profile_page(request: Request, actor: PageActor, db: Db, done: str = "") -> Response:
    """Your personal data for payouts; who can see it is said on the page."""
    with db.read() as session:
        profile = profiles.get_profile(session, actor, actor.user_id)
    return render(
        request,
        "work/profile.html",
        {"profile": profile, "notice": NOTICES.get(done)},
        actor=actor,
    )


@router.post("/work/profile")
async def profile_submit(request: Request, actor: PageActor, db: Db) -> Response:
    fields = await _fields(request)
    values = {name: fields[name] for name in profiles.FIELDS if name in fields}
    try:
        with db.write() as session:
            profiles.update_own_profile(session, actor, **values)
    except DatadamError as exc:
        with db.read() as session:
            profile = profiles.get_profile(session, actor, actor.user_id)
        return render(
            request,
            "work/profile.html",
            {"profile": profile, "problem": str(exc)},
            actor=actor,
            status_code=status_for(exc),
        )
    return redirect("/work/profile?done=saved")


@router.get("/work/certificate")
def certificate_page(request: Request, actor: PageActor) -> Response:
    """Ask for a signed work-history certificate (printable page or JSON file)."""
    return render(request, "work/certificate.html", {"certificate": None}, actor=actor)


def _issue(request_fields: dict[str, str], actor: Any, db: Any, settings: Any) -> dict[str, Any]:
    key = platform_key_for(settings.data_dir)
    with db.write() as session:
        return issue_certificate(
            session,
            actor,
            key,
            include_display_name=request_fields.get("include_display_name") == "1",
        )


@router.post("/work/certificate")
async def certificate_print(
    request: Request, actor: PageActor, db: Db, settings: AppSettings
) -> Response:
    """The signed certificate as a printable page; its JSON is shown for copying."""
    document = _issue(await _fields(request), actor, db, settings)
    return render(
        request,
        "work/certificate.html",
        {
            "certificate": document["certificate"],
            "signature": document["signature"],
            "document_json": json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True),
        },
        actor=actor,
    )


@router.post("/work/certificate.json")
async def certificate_json(
    request: Request, actor: PageActor, db: Db, settings: AppSettings
) -> Response:
    """The signed certificate as a JSON file to keep and show (`datadam certificate verify`)."""
    document = _issue(await _fields(request), actor, db, settings)
    body = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode()
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="work-history-certificate.json"',
            "Cache-Control": "no-store",
        },
    )


# ---------------------------------------------------------------- the payout desk


@router.get("/payouts")
def payout_desk(request: Request, actor: PageActor, db: Db, done: str = "") -> Response:
    """Payout requests of the organisations the actor administers, with payout details."""
    with db.read() as session:
        desks = []
        for org_id in sorted(actor.orgs_with_role(Role.ADMIN)):
            org = session.get(Organization, org_id)
            desks.append(
                {
                    "organization": org,
                    "requests": payouts.list_org_requests(session, actor, org_id),
                }
            )
    return render(
        request,
        "payouts/home.html",
        {"desks": desks, "notice": NOTICES.get(done), "money_in": _money},
        actor=actor,
    )


@router.post("/payouts/{request_id}/approve")
def payout_approve(request_id: int, actor: PageActor, db: Db) -> Response:
    with db.write() as session:
        payouts.approve_payout(session, actor, request_id)
    return redirect("/payouts?done=approved")


@router.post("/payouts/{request_id}/decline")
async def payout_decline(request: Request, request_id: int, actor: PageActor, db: Db) -> Response:
    fields = await _fields(request)
    with db.write() as session:
        payouts.decline_payout(session, actor, request_id, note=fields.get("note", ""))
    return redirect("/payouts?done=declined")


# ---------------------------------------------------------------- the manager's rates per kind


@router.post("/manage/projects/{project_id}/task-rates")
async def task_rate_submit(request: Request, project_id: int, actor: PageActor, db: Db) -> Response:
    """Set the rate of one kind of work from the manager's project page."""
    fields = await _fields(request)
    with db.write() as session:
        view = get_project_for(session, actor, project_id)
        if ProjectAction.MANAGE not in view.actions:
            raise NotFound(f"no project {project_id}", field="project_id")
        amounts = {}
        for name in ("piece_rate_minor", "hourly_rate_minor"):
            text = fields.get(name, "0").strip() or "0"
            if not text.isdigit() or len(text) > 13:
                raise InputError("a rate is a whole amount in minor units", field=name)
            amounts[name] = int(text)
        task_rates.set_task_rate(
            session, actor, project_id, task_type=fields.get("task_type", ""), **amounts
        )
    return redirect(f"/manage/projects/{project_id}?done=task_rate#pay")
