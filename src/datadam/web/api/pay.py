"""Pay: heartbeats, project pay terms and bonuses, minimum wages, the platform key,
the manager's pay summary and the worker's work-history certificate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from datadam.pay import certificate, rates, summary, worktime
from datadam.pay.keys import ALGORITHM, platform_key_for, public_key_pem
from datadam.pay.schemas import (
    BonusCreate,
    CertificateRequest,
    EntryPublic,
    MinimumWagePublic,
    MinimumWageSet,
    PaySummary,
    PlatformKeyPublic,
    ProjectPayPublic,
    ProjectPayUpdate,
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
