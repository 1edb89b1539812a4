"""Pay-period close: earnings for the period's work, then the minimum-wage top-ups.

For each worker and paying organisation (`rates.Payers`):
- every annotation submitted in the period earns the piece rate plus the hourly rate times its
  measured time (rounded half up to the minor unit), at the terms in force when it was
  submitted; every `worked_time` row recorded in the period earns the hourly rate times its
  duration (rates per kind of work: `task_rates`). Each is one `earning` entry whose
  `work_ref` names the work;
- an annotation rejected in bad faith whose appeal was not upheld (`rejections`) earns
  nothing and its time does not count; a `pay_withheld` row records the verdict and reason;
- effective hourly pay = earnings ÷ measured hours. The minimum is owed for every measured
  microsecond at the wage in force on its day; where earnings fall short, one `top_up` entry
  (`period:{P}:worker:{w}:org:{o}`) brings them exactly to the minimum, rounded up to the
  minor unit, charged to the organisation.

A period is closed only after it ended (UTC months), so no work can arrive later. The whole
close is one transaction under the ledger lock; `UNIQUE(kind, work_ref)` makes a second run
post nothing, and a signed checkpoint of the new head is written (once per head).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.audit import record_event
from datadam.errors import Conflict, InputError
from datadam.pay.checkpoints import latest_checkpoint, write_checkpoint
from datadam.pay.keys import PlatformKey
from datadam.pay.ledger import (
    Posting,
    append_postings,
    existing_refs,
    lock_ledger,
    org_account,
    worker_account,
)
from datadam.pay.rates import MinimumWages, Payers, TermsHistory
from datadam.pay.rejections import Withholding, withheld_annotations
from datadam.pay.task_rates import TaskRateHistory, work_amount
from datadam.pay.worktime import US_PER_HOUR, SubmittedWork, measure
from datadam.storage.tables import Annotation, PayWithheld, Project, User, WorkedTime
from datadam.storage.types import utcnow

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """[start, end) of a `YYYY-MM` period, in UTC."""
    match = _PERIOD.match(period)
    if match is None:
        raise InputError("a period is written YYYY-MM, e.g. 2026-11", field="period")
    year, month = int(match[1]), int(match[2])
    if not 1970 <= year <= 2999 or not 1 <= month <= 12:
        raise InputError(f"no pay period {period}: years 1970-2999, months 01-12", field="period")
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def hourly_amount(rate_minor: int, duration_us: int) -> int:
    """`rate_minor` per hour for `duration_us`, rounded half up to the minor unit."""
    return (2 * rate_minor * duration_us + US_PER_HOUR) // (2 * US_PER_HOUR)


def ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


@dataclass(frozen=True)
class PricedWork:
    """One piece of work with its measured time, its pay and the minimum owed for it."""

    work_ref: str
    worker_id: int
    project_id: int
    payer_id: int
    currency: str
    duration_us: int
    items: int
    amount: int
    wage_minor: int | None  # the minimum hourly wage in force for it (None: no table entry)
    task_type: str = "labeling"
    at: datetime | None = None  # when the work was submitted or recorded
    withheld: Withholding | None = None  # not paid under the rejected-work policy


def submitted_between(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    project_id: int | None = None,
    worker_id: int | None = None,
) -> list[SubmittedWork]:
    query = (
        select(
            Annotation.id,
            Annotation.assignment_id,
            Annotation.project_id,
            Annotation.worker_id,
            Annotation.started_at,
            Annotation.submitted_at,
            Annotation.active_seconds,
            Project.lease_seconds,
        )
        .join(Project, Project.id == Annotation.project_id)
        .where(Annotation.submitted_at >= start, Annotation.submitted_at < end)
        .order_by(Annotation.id)
    )
    if project_id is not None:
        query = query.where(Annotation.project_id == project_id)
    if worker_id is not None:
        query = query.where(Annotation.worker_id == worker_id)
    return [SubmittedWork(*row) for row in session.execute(query)]


def worked_time_between(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    project_id: int | None = None,
    worker_id: int | None = None,
) -> list[WorkedTime]:
    query = (
        select(WorkedTime)
        .where(WorkedTime.recorded_at >= start, WorkedTime.recorded_at < end)
        .order_by(WorkedTime.id)
    )
    if project_id is not None:
        query = query.where(WorkedTime.project_id == project_id)
    if worker_id is not None:
        query = query.where(WorkedTime.worker_id == worker_id)
    return list(session.execute(query).scalars())


def price_work(
    session: Session, works: list[SubmittedWork], extras: list[WorkedTime]
) -> Iterator[PricedWork]:
    """Measure and price every piece of work (pure arithmetic after the reads)."""
    measured = measure(session, works)
    project_ids = sorted({w.project_id for w in works} | {x.project_id for x in extras})
    worker_ids = sorted({w.worker_id for w in works} | {x.worker_id for x in extras})
    terms = TermsHistory(session, project_ids)
    task_rates = TaskRateHistory(session, project_ids)
    wages = MinimumWages(session)
    payers = Payers(session, worker_ids, project_ids)
    withheld = withheld_annotations(session, [w.annotation_id for w in works])
    pieces: list[tuple[str, int, int, datetime, int, int, str, Withholding | None]] = [
        (
            f"annotation:{w.annotation_id}",
            w.worker_id,
            w.project_id,
            w.submitted_at,
            measured[w.annotation_id],
            1,
            "labeling",
            withheld.get(w.annotation_id),
        )
        for w in works
    ]
    pieces += [
        (
            f"worked_time:{x.id}",
            x.worker_id,
            x.project_id,
            x.recorded_at,
            int(x.duration_us),
            0,
            x.source,
            None,
        )
        for x in extras
    ]
    for ref, worker_id, project_id, at, duration_us, items, task_type, held in pieces:
        term = terms.at(project_id, at)
        wage = wages.at(term.country, at.date())
        if wage is not None and wage.currency != term.currency:
            raise Conflict(
                f"project {project_id} pays in {term.currency} but the minimum wage of "
                f"{term.country} is in {wage.currency}",
                code="currency_mismatch",
            )
        rate = task_rates.at(project_id, task_type, at, term)
        amount = work_amount(rate, duration_us, hourly_amount(rate.hourly_rate_minor, duration_us))
        if held is not None:
            amount = 0
        yield PricedWork(
            ref,
            worker_id,
            project_id,
            payers.of(worker_id, project_id),
            term.currency,
            duration_us,
            items,
            amount,
            None if wage is None else int(wage.hourly_minor),
            task_type,
            at,
            held,
        )


@dataclass
class Tally:
    """Sums for one worker (and paying organisation) over some work."""

    worker_id: int
    organization_id: int
    currency: str
    duration_us: int = 0
    items: int = 0
    earnings: int = 0
    owed_numerator: int = 0  # Σ wage × microseconds; ÷ US_PER_HOUR is the minimum owed
    wages: set[int] = field(default_factory=set)
    top_up: int = 0

    def add(self, work: PricedWork, amount: int) -> None:
        if work.currency != self.currency:
            raise Conflict(
                f"worker {self.worker_id} is paid in {self.currency} and {work.currency} "
                f"by organisation {self.organization_id} in one period",
                code="currency_mismatch",
            )
        self.duration_us += work.duration_us
        self.items += work.items
        self.earnings += amount
        if work.wage_minor is not None:
            self.owed_numerator += work.wage_minor * work.duration_us
            self.wages.add(work.wage_minor)

    @property
    def minimum_owed(self) -> int:
        return ceil_div(self.owed_numerator, US_PER_HOUR)

    @property
    def shortfall(self) -> int:
        return max(0, self.minimum_owed - self.earnings)

    def hourly(self, amount: int) -> int | None:
        """`amount` per measured hour, rounded down to the minor unit."""
        if self.duration_us <= 0:
            return None
        return amount * US_PER_HOUR // self.duration_us


def close_period(
    session: Session,
    key: PlatformKey,
    period: str,
    *,
    now: datetime | None = None,
    actor_id: int | None = None,
) -> dict[str, Any]:
    """Post the period's earnings and top-ups and sign the new head; returns a summary."""
    now = now or utcnow()
    start, end = period_bounds(period)
    if now < end:
        raise Conflict(
            f"period {period} ends {end.date().isoformat()}; close it after that",
            code="period_open",
        )
    lock_ledger(session)
    priced = list(
        price_work(
            session,
            submitted_between(session, start, end),
            worked_time_between(session, start, end),
        )
    )
    posted = existing_refs(session, "earning", [w.work_ref for w in priced])
    tallies: dict[tuple[int, int], Tally] = {}
    postings: list[Posting] = []
    withheld: list[PricedWork] = []
    for work in priced:
        old = posted.get(work.work_ref)
        if work.withheld is not None and old is None:
            withheld.append(work)
            continue
        tally = tallies.setdefault(
            (work.worker_id, work.payer_id), Tally(work.worker_id, work.payer_id, work.currency)
        )
        amount = int(old.amount) if old is not None else work.amount
        tally.add(work, amount)
        if old is None and amount > 0:
            postings.append(_posting("earning", "earnings", work, amount, work.work_ref, period))
    top_up_refs = {key: _top_up_ref(period, *key) for key in tallies}
    done = existing_refs(session, "top_up", list(top_up_refs.values()))
    for key_, tally in tallies.items():
        ref = top_up_refs[key_]
        if ref in done:
            tally.top_up = int(done[ref].amount)
        elif tally.shortfall > 0:
            tally.top_up = tally.shortfall
            postings.append(
                Posting(
                    kind="top_up",
                    debit_account=org_account(tally.organization_id, "top_ups"),
                    credit_account=worker_account(tally.worker_id, tally.organization_id),
                    amount=tally.top_up,
                    currency=tally.currency,
                    work_ref=ref,
                    worker_id=tally.worker_id,
                    organization_id=tally.organization_id,
                    period=period,
                    memo="minimum wage top-up",
                )
            )
    added = append_postings(session, postings, now=now)
    _record_withheld(session, period, withheld, [w for w in priced if w.withheld is None], now)
    checkpoint = latest_checkpoint(session, period=period)
    if added or checkpoint is None:
        checkpoint = write_checkpoint(session, key, period=period, actor_id=actor_id, now=now)
    summary = _summary(session, period, tallies, len(added), checkpoint)
    summary["withheld"] = len(withheld)
    if added:
        record_event(
            session,
            actor_id=actor_id,
            action="pay.close_period",
            object_type="pay_period",
            object_id=period,
            after={k: v for k, v in summary.items() if k != "workers"},
        )
    return summary


def _record_withheld(
    session: Session,
    period: str,
    withheld: list[PricedWork],
    paid: list[PricedWork],
    now: datetime,
) -> None:
    """Note each withheld item once with its reason; mark earlier notes whose work is now paid
    (an appeal upheld since)."""
    refs = [w.work_ref for w in withheld] + [w.work_ref for w in paid]
    known: dict[str, PayWithheld] = {}
    for start in range(0, len(refs), 500):
        rows = session.execute(
            select(PayWithheld).where(PayWithheld.work_ref.in_(refs[start : start + 500]))
        ).scalars()
        known.update({row.work_ref: row for row in rows})
    for work in withheld:
        held = work.withheld
        if work.work_ref in known or held is None:
            continue
        session.add(
            PayWithheld(
                work_ref=work.work_ref,
                period=period,
                worker_id=work.worker_id,
                project_id=work.project_id,
                verdict_id=held.verdict_id,
                reason_code=held.reason_code,
                duration_us=work.duration_us,
                withheld_at=now,
            )
        )
    for work in paid:
        row = known.get(work.work_ref)
        if row is not None and row.released_at is None:
            row.released_at = now
    session.flush()


def _top_up_ref(period: str, worker_id: int, organization_id: int) -> str:
    return f"period:{period}:worker:{worker_id}:org:{organization_id}"


def _posting(
    kind: str, purpose: str, work: PricedWork, amount: int, ref: str, period: str
) -> Posting:
    return Posting(
        kind=kind,
        debit_account=org_account(work.payer_id, purpose),
        credit_account=worker_account(work.worker_id, work.payer_id),
        amount=amount,
        currency=work.currency,
        work_ref=ref,
        worker_id=work.worker_id,
        organization_id=work.payer_id,
        project_id=work.project_id,
        period=period,
    )


def _summary(
    session: Session,
    period: str,
    tallies: dict[tuple[int, int], Tally],
    posted: int,
    checkpoint: Any,
) -> dict[str, Any]:
    ids = sorted({w for w, _ in tallies})
    names: dict[int, str] = {}
    if ids:
        rows = session.execute(select(User.id, User.pseudonym).where(User.id.in_(ids)))
        names = {row[0]: row[1] for row in rows}
    totals: dict[str, dict[str, int]] = {}
    rows = []
    for (worker_id, org_id), t in sorted(tallies.items()):
        money = totals.setdefault(t.currency, {"earnings": 0, "top_ups": 0})
        money["earnings"] += t.earnings
        money["top_ups"] += t.top_up
        rows.append(
            {
                "worker": names.get(worker_id),
                "worker_id": worker_id,
                "organization_id": org_id,
                "currency": t.currency,
                "worked_seconds": t.duration_us // 1_000_000,
                "items": t.items,
                "earnings_minor": t.earnings,
                "top_up_minor": t.top_up,
                "minimum_hourly_minor": max(t.wages) if t.wages else None,
                "effective_hourly_minor": t.hourly(t.earnings),
                "effective_hourly_after_top_up_minor": t.hourly(t.earnings + t.top_up),
            }
        )
    return {
        "period": period,
        "entries_posted": posted,
        "workers": rows,
        "worker_count": len(ids),
        "totals": totals,
        "topped_up": sum(1 for t in tallies.values() if t.top_up > 0),
        "checkpoint": None if checkpoint is None else checkpoint.public(),
    }
