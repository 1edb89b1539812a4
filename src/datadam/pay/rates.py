"""Pay terms of projects, legal minimum wages, who pays whom, and bonuses.

A project's terms (piece rate per submitted item and/or hourly rate, in minor units of a
currency, plus the country whose minimum wage applies) are kept as history in `project_pay`:
work is paid at the terms in force when it was submitted, so a rate change never reprices
work already done. Every change is an audit event with before and after.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction
from datadam.audit import record_event
from datadam.domain.enums import OrgKind, Role
from datadam.errors import InputError, NotAllowed, NotFound
from datadam.pay.ledger import (
    Posting,
    append_postings,
    existing_refs,
    org_account,
    worker_account,
)
from datadam.projects.service import get_project_for, vendor_ids_of
from datadam.storage.tables import LedgerEntry, Membership, MinimumWage, Project, ProjectPay, User
from datadam.storage.types import utcnow

DEFAULT_CURRENCY = "KRW"
DEFAULT_COUNTRY = "KR"
MAX_RATE_MINOR = 10**12
# Korea's legal minimum hourly wage (won) from January 1 of each year; migration 0002 seeds
# the same values.
KOREA_MINIMUM_WAGES = {
    2020: 8590,
    2021: 8720,
    2022: 9160,
    2023: 9620,
    2024: 9860,
    2025: 10030,
    2026: 10320,
}
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class PayTerms:
    currency: str = DEFAULT_CURRENCY
    country: str = DEFAULT_COUNTRY
    piece_rate_minor: int = 0
    hourly_rate_minor: int = 0
    effective_from: datetime | None = None

    def public(self) -> dict[str, object]:
        return {
            "currency": self.currency,
            "country": self.country,
            "piece_rate_minor": self.piece_rate_minor,
            "hourly_rate_minor": self.hourly_rate_minor,
            "effective_from": self.effective_from,
        }


def _terms(row: ProjectPay) -> PayTerms:
    return PayTerms(
        row.currency,
        row.country,
        int(row.piece_rate_minor),
        int(row.hourly_rate_minor),
        row.effective_from,
    )


class TermsHistory:
    """Pay terms of some projects over time: `at(project, moment)` is the terms in force."""

    def __init__(self, session: Session, project_ids: list[int]) -> None:
        self._rows: dict[int, list[ProjectPay]] = defaultdict(list)
        for start in range(0, len(project_ids), 500):
            rows = session.execute(
                select(ProjectPay)
                .where(ProjectPay.project_id.in_(project_ids[start : start + 500]))
                .order_by(ProjectPay.effective_from, ProjectPay.id)
            ).scalars()
            for row in rows:
                self._rows[row.project_id].append(row)
        self._starts = {p: [r.effective_from for r in rows] for p, rows in self._rows.items()}

    def at(self, project_id: int, moment: datetime) -> PayTerms:
        rows = self._rows.get(project_id)
        if not rows:
            return PayTerms()
        index = bisect.bisect_right(self._starts[project_id], moment) - 1
        if index < 0:  # before the first terms: nothing agreed, in the currency later chosen
            return PayTerms(currency=rows[0].currency, country=rows[0].country)
        return _terms(rows[index])


def current_terms(session: Session, project_id: int, *, now: datetime | None = None) -> PayTerms:
    return TermsHistory(session, [project_id]).at(project_id, now or utcnow())


def set_project_pay(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    piece_rate_minor: int,
    hourly_rate_minor: int,
    currency: str = DEFAULT_CURRENCY,
    country: str = DEFAULT_COUNTRY,
    now: datetime | None = None,
) -> PayTerms:
    """New terms from now on (project managers and admins of the owner institution)."""
    view = get_project_for(session, actor, project_id)
    view.require(ProjectAction.MANAGE)
    for name, value in (
        ("piece_rate_minor", piece_rate_minor),
        ("hourly_rate_minor", hourly_rate_minor),
    ):
        if not 0 <= value <= MAX_RATE_MINOR:
            raise InputError(f"{name} must be between 0 and {MAX_RATE_MINOR}", field=name)
    if not _CURRENCY.match(currency):
        raise InputError("currency must be an ISO 4217 code such as KRW", field="currency")
    if not _COUNTRY.match(country):
        raise InputError("country must be an ISO 3166 code such as KR", field="country")
    now = now or utcnow()
    before = current_terms(session, project_id, now=now)
    row = ProjectPay(
        project_id=project_id,
        currency=currency,
        country=country,
        piece_rate_minor=piece_rate_minor,
        hourly_rate_minor=hourly_rate_minor,
        effective_from=now,
        set_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    after = _terms(row)
    record_event(
        session,
        actor_id=actor.user_id,
        action="project.pay.update",
        object_type="project",
        object_id=project_id,
        organization_id=view.project.owner_org_id,
        project_id=project_id,
        before=before.public() if before.effective_from else None,
        after=after.public(),
    )
    return after


class MinimumWages:
    """The minimum wage table, looked up by country and day."""

    def __init__(self, session: Session) -> None:
        self._by_country: dict[str, list[MinimumWage]] = defaultdict(list)
        for row in session.execute(
            select(MinimumWage).order_by(MinimumWage.country, MinimumWage.effective_from)
        ).scalars():
            self._by_country[row.country].append(row)

    def at(self, country: str, day: date) -> MinimumWage | None:
        rows = self._by_country.get(country, [])
        index = bisect.bisect_right([r.effective_from for r in rows], day) - 1
        return rows[index] if index >= 0 else None


def seed_korean_minimum_wages(session: Session) -> int:
    """Add the shipped Korean rows that are missing (for databases emptied after migration)."""
    have = {
        row.effective_from
        for row in session.execute(select(MinimumWage).where(MinimumWage.country == "KR")).scalars()
    }
    added = 0
    for year, won in KOREA_MINIMUM_WAGES.items():
        if date(year, 1, 1) not in have:
            session.add(
                MinimumWage(
                    country="KR", effective_from=date(year, 1, 1), hourly_minor=won, currency="KRW"
                )
            )
            added += 1
    session.flush()
    return added


def list_minimum_wages(session: Session) -> list[MinimumWage]:
    return list(
        session.execute(
            select(MinimumWage).order_by(MinimumWage.country, MinimumWage.effective_from)
        ).scalars()
    )


def set_minimum_wage(
    session: Session,
    actor: Actor,
    *,
    country: str,
    effective_from: date,
    hourly_minor: int,
    currency: str,
) -> MinimumWage:
    """Add or correct one row of the table (program office admins only; audited)."""
    if not actor.is_in_kind(OrgKind.PROGRAM_OFFICE, Role.ADMIN):
        raise NotAllowed("only program office admins can change minimum wages")
    if not _COUNTRY.match(country):
        raise InputError("country must be an ISO 3166 code such as KR", field="country")
    if not _CURRENCY.match(currency):
        raise InputError("currency must be an ISO 4217 code such as KRW", field="currency")
    if not 0 < hourly_minor <= MAX_RATE_MINOR:
        raise InputError("hourly_minor must be a positive amount", field="hourly_minor")
    row = session.execute(
        select(MinimumWage).where(
            MinimumWage.country == country, MinimumWage.effective_from == effective_from
        )
    ).scalar_one_or_none()
    before = None if row is None else _wage_public(row)
    if row is None:
        row = MinimumWage(country=country, effective_from=effective_from)
        session.add(row)
    row.hourly_minor = hourly_minor
    row.currency = currency
    row.updated_at = utcnow()
    row.updated_by = actor.user_id
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="minimum_wage.set",
        object_type="minimum_wage",
        object_id=f"{country}:{effective_from.isoformat()}",
        before=before,
        after=_wage_public(row),
    )
    return row


def _wage_public(row: MinimumWage) -> dict[str, object]:
    return {
        "country": row.country,
        "effective_from": row.effective_from.isoformat(),
        "hourly_minor": int(row.hourly_minor),
        "currency": row.currency,
    }


class Payers:
    """Which organisation pays a worker for a project: the vendor through which the worker
    holds access (the lowest id when several), else the owning institution."""

    def __init__(self, session: Session, worker_ids: list[int], project_ids: list[int]) -> None:
        self._worker_orgs: dict[int, set[int]] = defaultdict(set)
        for start in range(0, len(worker_ids), 500):
            rows = session.execute(
                select(Membership.user_id, Membership.organization_id).where(
                    Membership.user_id.in_(worker_ids[start : start + 500]),
                    Membership.role == Role.WORKER.value,
                )
            )
            for user_id, org_id in rows:
                self._worker_orgs[user_id].add(org_id)
        self._owner: dict[int, int] = {}
        self._vendors: dict[int, tuple[int, ...]] = {}
        for project_id in project_ids:
            project = session.get(Project, project_id)
            if project is not None:
                self._owner[project_id] = project.owner_org_id
                self._vendors[project_id] = vendor_ids_of(session, project_id)

    def works_on(self, worker_id: int, project_id: int) -> bool:
        """Whether the worker holds a worker role in the project's owner or a granted vendor."""
        orgs = self._worker_orgs.get(worker_id, set())
        return bool(orgs & {self._owner[project_id], *self._vendors[project_id]})

    def of(self, worker_id: int, project_id: int) -> int:
        orgs = self._worker_orgs.get(worker_id, set())
        through = [v for v in self._vendors.get(project_id, ()) if v in orgs]
        return min(through) if through else self._owner[project_id]


def award_bonus(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    worker_pseudonym: str,
    amount_minor: int,
    reason: str,
    client_ref: str,
) -> tuple[LedgerEntry, bool]:
    """A bonus for a worker of the project, charged to the organisation that pays them.

    Idempotent by `client_ref`: a retry returns the entry already posted and False. Bonuses are not
    counted towards the minimum wage: the guarantee is met by earnings and top-ups alone.
    """
    view = get_project_for(session, actor, project_id)
    view.require(ProjectAction.MANAGE)
    reason = reason.strip()
    if not reason:
        raise InputError("please say what the bonus is for", field="reason")
    client_ref = client_ref.strip()
    if not 0 < len(client_ref) <= 64:
        raise InputError("client_ref must be 1-64 characters", field="client_ref")
    worker = session.execute(
        select(User).where(User.pseudonym == worker_pseudonym)
    ).scalar_one_or_none()
    payers = Payers(session, [worker.id] if worker else [], [project_id])
    if worker is None or not payers.works_on(worker.id, project_id):
        raise NotFound("no worker with that pseudonym on this project", field="worker_pseudonym")
    payer = payers.of(worker.id, project_id)
    terms = current_terms(session, project_id)
    work_ref = f"bonus:project:{project_id}:{client_ref}"
    added = append_postings(
        session,
        [
            Posting(
                kind="bonus",
                debit_account=org_account(payer, "bonuses"),
                credit_account=worker_account(worker.id, payer),
                amount=amount_minor,
                currency=terms.currency,
                work_ref=work_ref,
                worker_id=worker.id,
                organization_id=payer,
                project_id=project_id,
                memo=reason[:200],
            )
        ],
    )
    if not added:
        return existing_refs(session, "bonus", [work_ref])[work_ref], False
    record_event(
        session,
        actor_id=actor.user_id,
        action="pay.bonus",
        object_type="ledger_entry",
        object_id=added[0].seq,
        organization_id=payer,
        project_id=project_id,
        after={"worker": worker.pseudonym, "amount_minor": amount_minor, "reason": reason},
    )
    return added[0], True
