"""Organisation scorecards per pay period, and the ranking for the program's awards.

One card per vendor and institution for a `YYYY-MM` period. Work is attributed to the
organisation that pays for it (`pay.rates.Payers`: the vendor through which the worker holds
access, else the owning institution), the same attribution the period close uses for
earnings and top-ups, so the card and the ledger agree.

- **Hours at or above the minimum before top-ups**: the share of measured worker-hours
  belonging to (worker, organisation) pairs whose earnings met the minimum owed for those
  hours without a top-up. Pairs without a minimum wage in the table are left out.
- **Top-ups**: those posted to the ledger for the period (after close), and those the close
  would post (`top_ups_projected_minor`, also before close).
- **Training hours**: `worked_time` of source training or qualification; *paid* once an
  earning entry for it is posted or the period is closed (a close guarantees the minimum for
  every measured hour, training included).
- **Rejection rate and appeals**: inspection verdicts given in the period on the
  organisation's workers' work; appeals upheld count rejections that were overturned.
- **Median days from work to pay**: from the submission (or recorded training time) to the
  ledger posting that credits the worker's account, over the period's earning entries.
- **Quality**: mean gold accuracy; inspection pass rate (share of verdicts `accept`).
- **Active workers**, items, and **offers / acceptances / hires** from the talent pool.

Ranking (`award_score`, 0-100, higher is better): a weighted mean of the components that
have data, the weights re-normalised over those present:

    fair pay      35  share of hours at or above the minimum before top-ups
    quality       20  mean of gold accuracy and inspection pass rate
    training      10  paid training hours ÷ training hours provided
    fair review   10  1 − appeals upheld ÷ rejections
    timeliness    15  1 when the median days to pay ≤ 7, falling linearly to 0 at 30
    employment    10  1 with at least one hire, 0.5 with offers but no hire, else 0

Only organisations with measured work in the period are ranked; ties share a rank.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import sees_all_projects
from datadam.accountability import sources
from datadam.domain.enums import OrgKind, Role
from datadam.pay.checkpoints import latest_checkpoint
from datadam.pay.period import (
    Tally,
    period_bounds,
    price_work,
    submitted_between,
    worked_time_between,
)
from datadam.pay.rates import Payers
from datadam.pay.worktime import US_PER_HOUR
from datadam.storage.tables import JobOffer, LedgerEntry, Organization

TRAINING_SOURCES = ("training", "qualification")
WEIGHTS = {
    "fair_pay": 35,
    "quality": 20,
    "training": 10,
    "fair_review": 10,
    "timeliness": 15,
    "employment": 10,
}
PROMPT_DAYS = 7.0
LATE_DAYS = 30.0


@dataclass
class Scorecard:
    organization_id: int
    organization: str
    kind: str
    period: str
    closed: bool
    currency: str | None = None
    active_workers: int = 0
    items: int = 0
    worker_hours: float = 0.0
    share_hours_at_minimum: float | None = None
    earnings_minor: int = 0
    top_ups_paid_minor: int = 0
    top_ups_projected_minor: int = 0
    training_hours: float = 0.0
    training_hours_paid: float = 0.0
    verdicts: int = 0
    rejections: int = 0
    rejection_rate: float | None = None
    appeals: int = 0
    appeals_upheld: int = 0
    median_days_to_pay: float | None = None
    gold_answers: int = 0
    gold_accuracy: float | None = None
    inspection_pass_rate: float | None = None
    offers: int = 0
    acceptances: int = 0
    hires: int = 0
    award_score: float | None = None
    rank: int | None = None
    components: dict[str, float] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row.pop("components")
        return row


CSV_COLUMNS = [name for name in Scorecard.__dataclass_fields__ if name != "components"]


@dataclass
class _Acc:
    """Running sums for one organisation while the card is built."""

    workers: set[int] = field(default_factory=set)
    items: int = 0
    duration_us: int = 0
    judged_us: int = 0
    at_minimum_us: int = 0
    earnings: int = 0
    projected: int = 0
    training_us: int = 0
    training_paid_us: int = 0
    currency: str | None = None
    days: list[float] = field(default_factory=list)
    verdicts: int = 0
    accepts: int = 0
    rejections: int = 0
    appeals: int = 0
    upheld: int = 0
    gold: list[float] = field(default_factory=list)


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator <= 0 else numerator / denominator


def organisation_scorecards(
    session: Session, period: str, *, now: datetime | None = None
) -> list[Scorecard]:
    """Every vendor's and institution's card for `period`, ranked (see the module doc)."""
    start, end = period_bounds(period)
    closed = latest_checkpoint(session, period=period) is not None
    works = submitted_between(session, start, end)
    extras = worked_time_between(session, start, end)
    priced = list(price_work(session, works, extras))
    acc: dict[int, _Acc] = defaultdict(_Acc)
    tallies: dict[tuple[int, int], Tally] = {}
    work_at = {f"annotation:{w.annotation_id}": w.submitted_at for w in works}
    work_at.update({f"worked_time:{x.id}": x.recorded_at for x in extras})
    training_refs = {f"worked_time:{x.id}" for x in extras if x.source in TRAINING_SOURCES}
    posted = {
        e.work_ref: e
        for e in session.execute(
            select(LedgerEntry).where(LedgerEntry.period == period, LedgerEntry.kind == "earning")
        ).scalars()
    }
    for work in priced:
        tally = tallies.setdefault(
            (work.worker_id, work.payer_id), Tally(work.worker_id, work.payer_id, work.currency)
        )
        tally.add(work, work.amount)
        org = acc[work.payer_id]
        org.currency = org.currency or work.currency
        if work.work_ref in training_refs:
            org.training_us += work.duration_us
            if closed or work.work_ref in posted:
                org.training_paid_us += work.duration_us
    for (worker_id, org_id), tally in tallies.items():
        org = acc[org_id]
        org.workers.add(worker_id)
        org.items += tally.items
        org.duration_us += tally.duration_us
        org.earnings += tally.earnings
        org.projected += tally.shortfall
        if tally.wages:
            org.judged_us += tally.duration_us
            if tally.shortfall == 0:
                org.at_minimum_us += tally.duration_us
    for ref, entry in posted.items():
        at = work_at.get(ref)
        if at is not None and entry.organization_id is not None:
            acc[int(entry.organization_id)].days.append((entry.at - at).total_seconds() / 86400)
    top_ups = session.execute(
        select(LedgerEntry.organization_id, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.period == period, LedgerEntry.kind == "top_up")
        .group_by(LedgerEntry.organization_id)
    ).all()
    _quality(session, start, end, acc)
    offers = _offers(session, start, end)
    cards = []
    orgs = session.execute(
        select(Organization)
        .where(Organization.kind.in_([OrgKind.VENDOR.value, OrgKind.INSTITUTION.value]))
        .order_by(Organization.id)
    ).scalars()
    paid_top_ups = {int(o): int(total) for o, total in top_ups if o is not None}
    for org_row in orgs:
        a = acc.get(org_row.id, _Acc())
        counts = offers.get(org_row.id, (0, 0, 0))
        card = Scorecard(
            organization_id=org_row.id,
            organization=org_row.name,
            kind=org_row.kind,
            period=period,
            closed=closed,
            currency=a.currency,
            active_workers=len(a.workers),
            items=a.items,
            worker_hours=round(a.duration_us / US_PER_HOUR, 3),
            share_hours_at_minimum=_round(_ratio(a.at_minimum_us, a.judged_us)),
            earnings_minor=a.earnings,
            top_ups_paid_minor=paid_top_ups.get(org_row.id, 0),
            top_ups_projected_minor=a.projected,
            training_hours=round(a.training_us / US_PER_HOUR, 3),
            training_hours_paid=round(a.training_paid_us / US_PER_HOUR, 3),
            verdicts=a.verdicts,
            rejections=a.rejections,
            rejection_rate=_round(_ratio(a.rejections, a.verdicts)),
            appeals=a.appeals,
            appeals_upheld=a.upheld,
            median_days_to_pay=round(statistics.median(a.days), 2) if a.days else None,
            gold_answers=len(a.gold),
            gold_accuracy=_round(statistics.fmean(a.gold)) if a.gold else None,
            inspection_pass_rate=_round(_ratio(a.accepts, a.verdicts)),
            offers=counts[0],
            acceptances=counts[1],
            hires=counts[2],
        )
        if a.duration_us > 0:
            card.components = award_components(card)
            card.award_score = award_score(card.components)
        cards.append(card)
    _rank(cards)
    return cards


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _quality(session: Session, start: datetime, end: datetime, acc: dict[int, _Acc]) -> None:
    verdicts = sources.verdicts_between(session, start, end)
    golds = sources.gold_scores_between(session, start, end)
    workers = sorted({v.worker_id for v in verdicts} | {g.worker_id for g in golds})
    projects = sorted({v.project_id for v in verdicts} | {g.project_id for g in golds})
    if not workers:
        return
    payers = Payers(session, workers, projects)
    for v in verdicts:
        org = acc[payers.of(v.worker_id, v.project_id)]
        org.verdicts += 1
        org.accepts += v.outcome == "accept"
        org.rejections += v.outcome == "reject"
        if v.appeal_status in ("open", "upheld", "denied"):
            org.appeals += 1
        org.upheld += v.appeal_status == "upheld"
    for g in golds:
        acc[payers.of(g.worker_id, g.project_id)].gold.append(g.score)


def _offers(session: Session, start: datetime, end: datetime) -> dict[int, tuple[int, int, int]]:
    """Per organisation: offers sent, accepted and hires made in [start, end)."""
    rows = session.execute(
        select(
            JobOffer.organization_id,
            JobOffer.created_at,
            JobOffer.responded_at,
            JobOffer.status,
            JobOffer.hired_at,
        )
    ).all()
    found: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for org_id, created, responded, status, hired in rows:
        counts = found[int(org_id)]
        counts[0] += start <= created < end
        accepted = status in ("accepted", "hired") and responded is not None
        counts[1] += accepted and start <= responded < end
        counts[2] += hired is not None and start <= hired < end
    return {k: (v[0], v[1], v[2]) for k, v in found.items()}


def award_components(card: Scorecard) -> dict[str, float]:
    """Each ranking component in [0, 1], only those with data (see the module doc)."""
    parts: dict[str, float] = {}
    if card.share_hours_at_minimum is not None:
        parts["fair_pay"] = card.share_hours_at_minimum
    quality = [q for q in (card.gold_accuracy, card.inspection_pass_rate) if q is not None]
    if quality:
        parts["quality"] = statistics.fmean(quality)
    if card.training_hours > 0:
        parts["training"] = min(1.0, card.training_hours_paid / card.training_hours)
    if card.rejections > 0:
        parts["fair_review"] = 1.0 - card.appeals_upheld / card.rejections
    if card.median_days_to_pay is not None:
        late = (card.median_days_to_pay - PROMPT_DAYS) / (LATE_DAYS - PROMPT_DAYS)
        parts["timeliness"] = min(1.0, max(0.0, 1.0 - late))
    parts["employment"] = 1.0 if card.hires else (0.5 if card.offers else 0.0)
    return parts


def award_score(parts: dict[str, float]) -> float | None:
    total = sum(WEIGHTS[name] for name in parts)
    if total == 0:
        return None
    return round(100 * sum(WEIGHTS[name] * value for name, value in parts.items()) / total, 2)


def _rank(cards: list[Scorecard]) -> None:
    ranked = sorted(
        (c for c in cards if c.award_score is not None),
        key=lambda c: (-(c.award_score or 0.0), c.organization_id),
    )
    previous: float | None = None
    rank = 0
    for position, card in enumerate(ranked, start=1):
        if card.award_score != previous:
            rank = position
            previous = card.award_score
        card.rank = rank


def scorecards_for(
    session: Session, actor: Actor, period: str, *, now: datetime | None = None
) -> list[Scorecard]:
    """The cards `actor` may read: oversight reads every card; an organisation's admins and
    managers read their own (ranks are computed over all organisations either way)."""
    cards = organisation_scorecards(session, period, now=now)
    if sees_all_projects(actor):
        return cards
    own = actor.orgs_with_role(Role.ADMIN, Role.MANAGER)
    return [c for c in cards if c.organization_id in own]


def may_read_scorecards(actor: Actor) -> bool:
    return sees_all_projects(actor) or bool(actor.orgs_with_role(Role.ADMIN, Role.MANAGER))


def scorecards_csv(cards: list[Scorecard]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for card in cards:
        row = card.as_row()
        writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    return out.getvalue()


def _csv_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is prefixed with a quote (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if value is None:
        return ""
    return value
