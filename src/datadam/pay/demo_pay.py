"""Demo pay data: a closed pay period for the demo workers, so the pay pages, statements and
the payout desk have something to show.

Last month (UTC) the demo workers did training and rework on the Korean sentiment project;
training is paid below the minimum wage on purpose, so the close posts top-ups. Worker 1
keeps payout details on file and has one open payout request for the vendor's admin.
Idempotent: once the demo rows exist nothing is added, whatever the month.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from datadam.access.authn import actor_for
from datadam.pay.keys import load_or_create_platform_key
from datadam.pay.payouts import request_payout
from datadam.pay.period import close_period
from datadam.pay.profiles import update_own_profile
from datadam.settings import Settings
from datadam.storage.db import Database
from datadam.storage.tables import (
    Membership,
    PayTaskRate,
    Project,
    ProjectPay,
    User,
    WorkedTime,
)
from datadam.storage.types import utcnow

DEMO_REF = "demo-pay"
PROJECT = "감정 분류 (Korean sentiment)"
WORKERS = ("worker1", "worker2", "worker3")
# (day of month, source, minutes) per worker; the slower worker 2 does more training.
SESSIONS = {
    "worker1": [(3, "training", 40), (4, "rework", 25), (6, "training", 30), (9, "rework", 35)],
    "worker2": [(3, "training", 90), (5, "training", 60), (8, "rework", 20)],
    "worker3": [(4, "training", 45), (10, "rework", 30)],
}


def previous_period(now: datetime) -> tuple[str, datetime]:
    first = datetime(now.year, now.month, 1, tzinfo=UTC)
    last_month = first - timedelta(days=1)
    return f"{last_month.year:04d}-{last_month.month:02d}", datetime(
        last_month.year, last_month.month, 1, tzinfo=UTC
    )


def seed_pay_demo(db: Database, settings: Settings, *, domain: str) -> str | None:
    """Post last month's demo pay; returns the period, or None when already seeded."""
    now = utcnow()
    period, start = previous_period(now)
    with db.write() as session:
        if session.execute(
            select(WorkedTime.id).where(WorkedTime.work_ref.like(f"{DEMO_REF}:%")).limit(1)
        ).first():
            return None
        project = session.execute(select(Project).where(Project.name == PROJECT)).scalar()
        if project is None:
            return None
        users = {
            handle: session.execute(
                select(User).where(User.email == f"{handle}@{domain}")
            ).scalar_one()
            for handle in WORKERS
        }
        before = start - timedelta(days=1)
        if (
            session.execute(
                select(ProjectPay.id).where(ProjectPay.project_id == project.id).limit(1)
            ).first()
            is None
        ):
            session.add(
                ProjectPay(
                    project_id=project.id,
                    piece_rate_minor=150,
                    hourly_rate_minor=0,
                    effective_from=before,
                )
            )
        session.add_all(
            [
                PayTaskRate(
                    project_id=project.id,
                    task_type="training",
                    piece_rate_minor=0,
                    hourly_rate_minor=9_000,
                    effective_from=before,
                ),
                PayTaskRate(
                    project_id=project.id,
                    task_type="rework",
                    piece_rate_minor=200,
                    hourly_rate_minor=8_000,
                    effective_from=before,
                ),
            ]
        )
        for handle, sessions in SESSIONS.items():
            for n, (day, source, minutes) in enumerate(sessions):
                session.add(
                    WorkedTime(
                        worker_id=users[handle].id,
                        project_id=project.id,
                        source=source,
                        duration_us=minutes * 60_000_000,
                        work_ref=f"{DEMO_REF}:{handle}:{n}",
                        recorded_at=start + timedelta(days=day - 1, hours=10),
                    )
                )
        session.flush()
        close_period(session, load_or_create_platform_key(settings.data_dir), period, now=now)
        worker = actor_for(session, users["worker1"])
        update_own_profile(
            session,
            worker,
            legal_name="강지우",
            phone="010-0000-0001",
            bank_name="데모은행 (Demo Bank)",
            bank_account="000-00-0000001",
            account_holder="강지우",
        )
        vendor_id = session.execute(
            select(Membership.organization_id).where(
                Membership.user_id == users["worker1"].id, Membership.role == "worker"
            )
        ).scalar_one()
        request_payout(session, worker, organization_id=vendor_id, amount_minor=10_000)
    return period
