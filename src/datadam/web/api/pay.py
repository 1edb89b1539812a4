"""Pay: heartbeats, project pay terms, rates per kind of work and bonuses, minimum wages, the
platform key, the manager's pay summary, the worker's statements, payout requests, private
profile and work-history certificate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from datadam.pay import (
    certificate,
    payouts,
    profiles,
    rates,
    statements,
    summary,
    task_rates,
    worktime,
)
from datadam.pay.keys import ALGORITHM, platform_key_for, public_key_pem
from datadam.pay.schemas import (
    BalancePublic,
    BonusCreate,
    CertificateRequest,
    EntryPublic,
    MinimumWagePublic,
    MinimumWageSet,
    PayoutDecision,
    PayoutRequestCreate,
    PayoutRequestPublic,
    PaySummary,
    PlatformKeyPublic,
    ProfilePublic,
    ProfileUpdate,
    ProjectPayPublic,
    ProjectPayUpdate,
    TaskRatePublic,
    TaskRateSet,
)
from datadam.projects.service import get_project_for
from datadam.storage.tables import MinimumWage
from datadam.web.deps import AppSettings, CurrentActor, Db

router = APIRouter(tags=["pay"])
Period = Annotated[
    str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM; default now.")
]


@router.post("/assignments/{assignment_id}/heartbeat", status_code=204)
def heartbeat(assignment_id: int, actor: CurrentActor, db: Db) -> Response:
    """The task page is open and in use. Send about every 15 s; faster ones are ignored."""
    with db.write() as session:
        worktime.record_heartbeat(session, actor, assignment_id)
    return Response(status_code=204)


def _terms_public(project_id: int, terms: rates.PayTerms) -> ProjectPayPublic:
    return ProjectPayPublic(project_id=project_id, **terms.public())  # type: ignore[arg-type]


@router.get("/projects/{project_id}/pay", response_model=ProjectPayPublic)
def get_project_pay(project_id: int, actor: CurrentActor, db: Db) -> ProjectPayPublic:
    """The pay terms in force: anyone who can see the project may know what it pays."""
    with db.read() as session:
        get_project_for(session, actor, project_id)
        return _terms_public(project_id, rates.current_terms(session, project_id))


@router.put("/projects/{project_id}/pay", response_model=ProjectPayPublic)
def set_project_pay(
    project_id: int, body: ProjectPayUpdate, actor: CurrentActor, db: Db
) -> ProjectPayPublic:
    """New terms from now on (project managers); work already submitted keeps its terms."""
    with db.write() as session:
        terms = rates.set_project_pay(session, actor, project_id, **body.model_dump())
        return _terms_public(project_id, terms)


@router.post(
    "/projects/{project_id}/bonuses",
    response_model=EntryPublic,
    status_code=201,
    responses={200: {"description": "This bonus was already posted (a retry)."}},
)
def award_bonus(
    project_id: int, body: BonusCreate, actor: CurrentActor, db: Db, response: Response
) -> EntryPublic:
    """A bonus for a worker of the project, posted to the ledger (idempotent by client_ref)."""
    with db.write() as session:
        entry, created = rates.award_bonus(session, actor, project_id, **body.model_dump())
        if not created:
            response.status_code = 200
        return EntryPublic(
            seq=entry.seq,
            kind=entry.kind,
            amount_minor=entry.amount,
            currency=entry.currency,
            work_ref=entry.work_ref,
            at=entry.at,
        )


@router.get("/projects/{project_id}/pay-summary", response_model=PaySummary)
def pay_summary(
    project_id: int, actor: CurrentActor, db: Db, period: Period = None
) -> dict[str, Any]:
    """Median effective hourly pay of the project's workers against the minimum wage, and the
    piece rate that would meet it."""
    with db.read() as session:
        return summary.pay_summary(session, actor, project_id, period=period)


def _wage_public(row: MinimumWage) -> MinimumWagePublic:
    return MinimumWagePublic(
        country=row.country,
        effective_from=row.effective_from,
        hourly_minor=row.hourly_minor,
        currency=row.currency,
    )


@router.get("/minimum-wages", response_model=list[MinimumWagePublic])
def list_minimum_wages(actor: CurrentActor, db: Db) -> list[MinimumWagePublic]:
    """The legal minimum hourly wages by country and effective date."""
    with db.read() as session:
        return [_wage_public(row) for row in rates.list_minimum_wages(session)]


@router.put("/minimum-wages", response_model=MinimumWagePublic)
def set_minimum_wage(body: MinimumWageSet, actor: CurrentActor, db: Db) -> MinimumWagePublic:
    """Add or correct a minimum wage (program office admins)."""
    with db.write() as session:
        return _wage_public(rates.set_minimum_wage(session, actor, **body.model_dump()))


@router.get("/platform-key", response_model=PlatformKeyPublic)
def platform_key(settings: AppSettings) -> PlatformKeyPublic:
    """The public key that verifies certificates and ledger checkpoints (no login needed)."""
    key = platform_key_for(settings.data_dir)
    return PlatformKeyPublic(
        algorithm=ALGORITHM, key_id=key.key_id, public_key_pem=public_key_pem(key.public)
    )


@router.post("/me/certificate")
def issue_certificate(
    body: CertificateRequest, actor: CurrentActor, db: Db, settings: AppSettings
) -> dict[str, Any]:
    """Your signed work-history certificate; verify it with `datadam certificate verify`."""
    key = platform_key_for(settings.data_dir)
    with db.write() as session:
        return certificate.issue_certificate(
            session, actor, key, include_display_name=body.include_display_name
        )


# ---------------------------------------------------------------- rates per kind of work


@router.get("/projects/{project_id}/task-rates", response_model=list[TaskRatePublic])
def list_task_rates(project_id: int, actor: CurrentActor, db: Db) -> list[dict[str, Any]]:
    """The rate in force for each kind of work (labeling, training, qualification, rework,
    other); kinds without their own rate show the project's terms."""
    with db.read() as session:
        get_project_for(session, actor, project_id)
        terms = rates.current_terms(session, project_id)
        return [r.public() for r in task_rates.current_task_rates(session, project_id, terms)]


@router.put("/projects/{project_id}/task-rates", response_model=TaskRatePublic)
def set_task_rate(
    project_id: int, body: TaskRateSet, actor: CurrentActor, db: Db
) -> dict[str, Any]:
    """A rate for one kind of work from now on (project managers)."""
    with db.write() as session:
        return task_rates.set_task_rate(session, actor, project_id, **body.model_dump()).public()


# ---------------------------------------------------------------- the worker's own pay


@router.get("/me/pay/statements/{period}")
def my_statement(period: str, actor: CurrentActor, db: Db) -> dict[str, Any]:
    """Your pay for a period (YYYY-MM): every piece of work, by day and project, hours,
    effective hourly wage against the minimum, top-ups, bonuses and payouts."""
    with db.read() as session:
        return statements.build_statement(session, actor, period).public()


@router.get("/me/pay/statements/{period}/csv")
def my_statement_csv(period: str, actor: CurrentActor, db: Db) -> Response:
    """Your statement as CSV (amounts in minor units)."""
    with db.read() as session:
        statement = statements.build_statement(session, actor, period)
    return _download(statements.statement_csv(statement).encode(), "text/csv", period, "csv")


@router.get("/me/pay/statements/{period}/pdf")
def my_statement_pdf(period: str, actor: CurrentActor, db: Db) -> Response:
    """Your statement as a printable PDF."""
    with db.read() as session:
        statement = statements.build_statement(session, actor, period)
    return _download(statements.statement_pdf(statement), "application/pdf", period, "pdf")


def _download(body: bytes, media_type: str, period: str, ext: str) -> Response:
    statements.period_bounds(period)  # the name below is built from a checked period only
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="pay-statement-{period}.{ext}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/me/pay/balances", response_model=list[BalancePublic])
def my_balances(actor: CurrentActor, db: Db) -> list[dict[str, Any]]:
    """What each organisation owes you, and how much of it you may still request."""
    with db.read() as session:
        return [
            vars(b) | {"available_minor": b.available_minor}
            for b in payouts.balances_of(session, actor.user_id)
        ]


@router.get("/me/payout-requests", response_model=list[PayoutRequestPublic])
def my_payout_requests(actor: CurrentActor, db: Db) -> list[dict[str, Any]]:
    with db.read() as session:
        return [payouts.request_public(r) for r in payouts.list_my_requests(session, actor)]


@router.post("/me/payout-requests", response_model=PayoutRequestPublic, status_code=201)
def request_payout(body: PayoutRequestCreate, actor: CurrentActor, db: Db) -> dict[str, Any]:
    """Ask an organisation that owes you money to pay out (never more than is available)."""
    with db.write() as session:
        return payouts.request_public(payouts.request_payout(session, actor, **body.model_dump()))


@router.get("/organizations/{org_id}/payout-requests")
def organization_payout_requests(org_id: int, actor: CurrentActor, db: Db) -> list[dict[str, Any]]:
    """The organisation's payout requests with the payout details of its workers (its admins)."""
    with db.read() as session:
        return payouts.list_org_requests(session, actor, org_id)


@router.post("/payout-requests/{request_id}/approve", response_model=PayoutRequestPublic)
def approve_payout(request_id: int, actor: CurrentActor, db: Db) -> dict[str, Any]:
    """Pay the request out: one ledger payout entry (admins of the organisation that owes)."""
    with db.write() as session:
        return payouts.request_public(payouts.approve_payout(session, actor, request_id))


@router.post("/payout-requests/{request_id}/decline", response_model=PayoutRequestPublic)
def decline_payout(
    request_id: int, body: PayoutDecision, actor: CurrentActor, db: Db
) -> dict[str, Any]:
    with db.write() as session:
        row = payouts.decline_payout(session, actor, request_id, note=body.note)
        return payouts.request_public(row)


# ---------------------------------------------------------------- personal data


@router.get("/me/profile", response_model=ProfilePublic)
def my_profile(actor: CurrentActor, db: Db) -> dict[str, Any]:
    """Your personal data: only you and the admins of organisations you work for see it."""
    with db.read() as session:
        return profiles.get_profile(session, actor, actor.user_id).public()


@router.put("/me/profile", response_model=ProfilePublic)
def update_my_profile(body: ProfileUpdate, actor: CurrentActor, db: Db) -> dict[str, Any]:
    values = {k: v for k, v in body.model_dump().items() if v is not None}
    with db.write() as session:
        return profiles.update_own_profile(session, actor, **values).public()


@router.get("/workers/{worker_id}/profile", response_model=ProfilePublic)
def worker_profile(worker_id: int, actor: CurrentActor, db: Db) -> dict[str, Any]:
    """A worker's personal data, for the worker and their employer's admins; 404 otherwise."""
    with db.read() as session:
        return profiles.get_profile(session, actor, worker_id).public()
