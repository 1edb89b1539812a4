"""A worker's pay statement for one period: every piece of work with its pay, earnings by
day and by project, hours by kind of work, the effective hourly wage against the minimum in
force, top-ups, bonuses and payouts; as data, CSV and PDF.

Before the period is closed the amounts are what the close would post (marked `pending`);
after it they are the ledger's (`posted`). Work withheld under the rejected-work policy is
listed with its reason and earns nothing. Only the worker's own statement is ever built:
the caller passes the actor, never a worker id.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.pay.checkpoints import latest_checkpoint
from datadam.pay.ledger import existing_refs
from datadam.pay.period import (
    period_bounds,
    price_work,
    submitted_between,
    worked_time_between,
)
from datadam.pay.rates import MinimumWages
from datadam.storage.tables import LedgerEntry, PayWithheld, Project
from datadam.storage.types import utcnow

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_FONT_KOREAN = 1  # the collection's Korean face


@dataclass(frozen=True)
class Line:
    day: date
    project_id: int
    project_name: str
    task_type: str
    seconds: int
    amount_minor: int
    currency: str
    status: str  # posted | pending | withheld
    reason_code: str | None = None


@dataclass
class Bucket:
    key: str
    seconds: int = 0
    items: int = 0
    amount_minor: int = 0


@dataclass
class Statement:
    period: str
    start: datetime
    end: datetime
    closed: bool
    pseudonym: str
    currency: str
    lines: list[Line] = field(default_factory=list)
    by_day: list[Bucket] = field(default_factory=list)
    by_project: list[Bucket] = field(default_factory=list)
    hours_by_type: dict[str, int] = field(default_factory=dict)  # seconds per kind of work
    earnings_minor: int = 0
    paid_seconds: int = 0
    withheld_items: int = 0
    top_up_minor: int = 0
    bonus_minor: int = 0
    payout_minor: int = 0
    minimum_hourly_minor: int | None = None

    @property
    def effective_hourly_minor(self) -> int | None:
        """Earnings per counted hour, before top-ups, rounded down."""
        if self.paid_seconds <= 0:
            return None
        return self.earnings_minor * 3600 // self.paid_seconds

    @property
    def effective_after_top_up_minor(self) -> int | None:
        if self.paid_seconds <= 0:
            return None
        return (self.earnings_minor + self.top_up_minor) * 3600 // self.paid_seconds

    @property
    def below_minimum(self) -> bool:
        rate = self.effective_hourly_minor
        return (
            self.minimum_hourly_minor is not None
            and rate is not None
            and (rate < self.minimum_hourly_minor)
        )

    def public(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "from": self.start,
            "to": self.end,
            "closed": self.closed,
            "worker": self.pseudonym,
            "currency": self.currency,
            "earnings_minor": self.earnings_minor,
            "top_up_minor": self.top_up_minor,
            "bonus_minor": self.bonus_minor,
            "payout_minor": self.payout_minor,
            "worked_seconds": self.paid_seconds,
            "seconds_by_type": self.hours_by_type,
            "withheld_items": self.withheld_items,
            "minimum_hourly_minor": self.minimum_hourly_minor,
            "effective_hourly_minor": self.effective_hourly_minor,
            "effective_hourly_after_top_up_minor": self.effective_after_top_up_minor,
            "below_minimum": self.below_minimum,
            "by_day": [vars(b) for b in self.by_day],
            "by_project": [vars(b) for b in self.by_project],
            "lines": [
                {
                    "day": line.day.isoformat(),
                    "project_id": line.project_id,
                    "project": line.project_name,
                    "task_type": line.task_type,
                    "seconds": line.seconds,
                    "amount_minor": line.amount_minor,
                    "currency": line.currency,
                    "status": line.status,
                    "reason_code": line.reason_code,
                }
                for line in self.lines
            ],
        }


def current_period(now: datetime | None = None) -> str:
    now = now or utcnow()
    return f"{now.year:04d}-{now.month:02d}"


def periods_with_pay(session: Session, worker_id: int) -> list[str]:
    """Periods in which the ledger holds entries for the worker, newest first."""
    rows = session.execute(
        select(LedgerEntry.period)
        .where(LedgerEntry.worker_id == worker_id, LedgerEntry.period.is_not(None))
        .distinct()
    ).scalars()
    return sorted({p for p in rows if p}, reverse=True)


def build_statement(
    session: Session, actor: Actor, period: str, *, now: datetime | None = None
) -> Statement:
    """The actor's own statement for `period` (YYYY-MM)."""
    now = now or utcnow()
    start, end = period_bounds(period)
    closed = end <= now and latest_checkpoint(session, period=period) is not None
    priced = list(
        price_work(
            session,
            submitted_between(session, start, min(end, now), worker_id=actor.user_id),
            worked_time_between(session, start, min(end, now), worker_id=actor.user_id),
        )
    )
    posted = existing_refs(session, "earning", [w.work_ref for w in priced])
    reasons = {
        row.work_ref: row.reason_code
        for row in session.execute(
            select(PayWithheld).where(
                PayWithheld.worker_id == actor.user_id, PayWithheld.period == period
            )
        ).scalars()
    }
    names = dict(
        session.execute(
            select(Project.id, Project.name).where(
                Project.id.in_(sorted({w.project_id for w in priced}) or [0])
            )
        ).all()
    )
    currencies = [w.currency for w in priced]
    statement = Statement(
        period=period,
        start=start,
        end=end,
        closed=closed,
        pseudonym=actor.pseudonym,
        currency=max(set(currencies), key=currencies.count) if currencies else "KRW",
    )
    days: dict[str, Bucket] = {}
    projects: dict[str, Bucket] = {}
    by_type: dict[str, int] = defaultdict(int)
    wages: set[int] = set()
    for work in sorted(priced, key=lambda w: (w.at or start, w.work_ref)):
        old = posted.get(work.work_ref)
        if old is not None:
            status, amount, reason = "posted", int(old.amount), None
        elif work.withheld is not None:
            status, amount = "withheld", 0
            reason = reasons.get(work.work_ref, work.withheld.reason_code)
        elif closed and work.amount == 0:  # nothing to post (e.g. unpaid training time)
            status, amount, reason = "posted", 0, None
        else:
            status, amount, reason = "pending", work.amount, None
        seconds = work.duration_us // 1_000_000
        at = work.at or start
        name = names.get(work.project_id, str(work.project_id))
        statement.lines.append(
            Line(
                at.astimezone(UTC).date(),
                work.project_id,
                name,
                work.task_type,
                seconds,
                amount,
                work.currency,
                status,
                reason,
            )
        )
        if status == "withheld":
            statement.withheld_items += 1
            continue
        if work.currency != statement.currency:
            continue  # listed, but totals are in the statement's currency
        if work.wage_minor is not None:
            wages.add(work.wage_minor)
        statement.earnings_minor += amount
        statement.paid_seconds += seconds
        by_type[work.task_type] += seconds
        for buckets, key in ((days, at.astimezone(UTC).date().isoformat()), (projects, name)):
            bucket = buckets.setdefault(key, Bucket(key))
            bucket.seconds += seconds
            bucket.items += work.items
            bucket.amount_minor += amount
    # Seconds were truncated per line; the hourly figures use the exact sum instead.
    exact_us = sum(
        w.duration_us
        for w in priced
        if (w.withheld is None or w.work_ref in posted) and w.currency == statement.currency
    )
    statement.paid_seconds = exact_us // 1_000_000 if exact_us else 0
    statement.by_day = [days[k] for k in sorted(days)]
    statement.by_project = sorted(projects.values(), key=lambda b: -b.amount_minor)
    statement.hours_by_type = dict(by_type)
    if wages:
        statement.minimum_hourly_minor = max(wages)
    else:
        wage = MinimumWages(session).at("KR", min(end, now).date())
        statement.minimum_hourly_minor = None if wage is None else int(wage.hourly_minor)
    _ledger_totals(session, actor.user_id, statement)
    return statement


def _ledger_totals(session: Session, worker_id: int, statement: Statement) -> None:
    rows = session.execute(
        select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.period, LedgerEntry.at).where(
            LedgerEntry.worker_id == worker_id,
            LedgerEntry.currency == statement.currency,
            LedgerEntry.kind.in_(("top_up", "bonus", "payout")),
        )
    )
    for kind, amount, period, at in rows:
        if kind == "top_up" and period == statement.period:
            statement.top_up_minor += int(amount)
        elif kind != "top_up" and statement.start <= at < statement.end:
            if kind == "bonus":
                statement.bonus_minor += int(amount)
            else:
                statement.payout_minor += int(amount)


def hours_text(seconds: int) -> str:
    """Hours with two decimals, rounded down."""
    hundredths = seconds * 100 // 3600
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def statement_csv(statement: Statement) -> str:
    """One row per piece of work, then the totals (amounts in minor units)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["date", "project", "task_type", "seconds", "amount_minor", "currency", "status", "reason"]
    )
    for line in statement.lines:
        writer.writerow(
            [
                line.day.isoformat(),
                _cell(line.project_name),
                line.task_type,
                line.seconds,
                line.amount_minor,
                line.currency,
                line.status,
                line.reason_code or "",
            ]
        )
    writer.writerow([])
    for label, value in (
        ("period", statement.period),
        ("worker", statement.pseudonym),
        ("hours", hours_text(statement.paid_seconds)),
        ("earnings_minor", statement.earnings_minor),
        ("top_up_minor", statement.top_up_minor),
        ("bonus_minor", statement.bonus_minor),
        ("payout_minor", statement.payout_minor),
        ("effective_hourly_minor", statement.effective_hourly_minor or ""),
        ("minimum_hourly_minor", statement.minimum_hourly_minor or ""),
        ("currency", statement.currency),
        ("closed", "yes" if statement.closed else "no"),
    ):
        writer.writerow([label, value])
    return out.getvalue()


def _cell(value: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; a quote makes them text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def statement_pdf(statement: Statement, *, font: Path | None = CJK_FONT) -> bytes:
    """A printable statement. With the Noto CJK font installed (Debian `fonts-noto-cjk`) a
    subset of it is embedded so Korean project names print; without it the PDF uses a core
    font and shows projects by number."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(f"Pay statement {statement.period}")
    pdf.set_creator("datadam")
    pdf.add_page()
    names = " ".join(line.project_name for line in statement.lines)
    # Embedding a font subset costs a second or two; plain Latin text does without it.
    korean = font is not None and font.exists() and not names.isascii()
    if korean:
        assert font is not None
        pdf.add_font("noto", "", str(font), collection_font_number=CJK_FONT_KOREAN)
        pdf.set_font("noto", size=11)
    else:
        pdf.set_font("helvetica", size=11)

    def text(value: str) -> str:
        return value if korean else value.encode("latin-1", "replace").decode("latin-1")

    def project(line: Line) -> str:
        return line.project_name if korean else f"project {line.project_id}"

    cur = statement.currency
    pdf.set_font_size(16)
    pdf.cell(
        text=text(
            f"Pay statement {statement.period} / 지급 명세서"
            if korean
            else f"Pay statement {statement.period}"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font_size(10)
    rows = [
        ("Worker", statement.pseudonym),
        ("Status", "closed" if statement.closed else "open (amounts pending)"),
        ("Hours worked", hours_text(statement.paid_seconds)),
        ("Earnings", f"{statement.earnings_minor:,} {cur}"),
        ("Minimum-wage top-up", f"{statement.top_up_minor:,} {cur}"),
        ("Bonuses", f"{statement.bonus_minor:,} {cur}"),
        ("Payouts", f"{statement.payout_minor:,} {cur}"),
        ("Effective hourly wage", _per_hour(statement.effective_hourly_minor, cur)),
        ("Minimum hourly wage", _per_hour(statement.minimum_hourly_minor, cur)),
        ("Withheld items", str(statement.withheld_items)),
    ]
    for label, value in rows:
        pdf.cell(60, 6, text=label)
        pdf.cell(0, 6, text=text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (24, 70, 26, 20, 28, 22)
    for width, head in zip(
        widths, ("Date", "Project", "Work", "Hours", "Amount", "Status"), strict=True
    ):
        pdf.cell(width, 6, text=head, border="B")
    pdf.ln()
    for line in statement.lines:
        cells = (
            line.day.isoformat(),
            project(line)[:34],
            line.task_type,
            hours_text(line.seconds),
            f"{line.amount_minor:,}",
            line.status if not line.reason_code else f"{line.status}: {line.reason_code}"[:14],
        )
        for width, value in zip(widths, cells, strict=True):
            pdf.cell(width, 5, text=text(value))
        pdf.ln()
    return bytes(pdf.output())


def _per_hour(value: int | None, currency: str) -> str:
    return "-" if value is None else f"{value:,} {currency}/h"
