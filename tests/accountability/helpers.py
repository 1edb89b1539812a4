"""Builders for accountability tests: a small program with paid, trained and inspected work
in one past period, and inspection verdicts written per the inspection table's contract."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from datadam.access.actor import Actor
from datadam.domain.enums import OrgKind, Role
from datadam.pay import rates
from datadam.pay.keys import load_or_create_platform_key
from datadam.pay.period import close_period
from datadam.pay.worktime import record_worked_time
from datadam.storage.db import Database
from datadam.storage.tables import Annotation
from tests.factories import Person, World
from tests.pay.helpers import AFTER_PERIOD, PERIOD, WORK_START, do_item

__all__ = ["AFTER_PERIOD", "PERIOD", "Program", "add_verdict", "build_program"]

# The columns the inspection workstream promised (contract 2); created here only when the
# installed schema has no such table yet, so these tests do not depend on that migration.
_META = sa.MetaData()
VERDICTS = sa.Table(
    "inspection_verdict",
    _META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.BigInteger, nullable=False),
    sa.Column("annotation_id", sa.BigInteger, nullable=False),
    sa.Column("item_id", sa.BigInteger, nullable=False),
    sa.Column("worker_id", sa.BigInteger, nullable=False),
    sa.Column("inspector_id", sa.BigInteger, nullable=False),
    sa.Column("stage", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("reason_code", sa.String(64), nullable=True),
    sa.Column("bad_faith", sa.Boolean, nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("appeal_status", sa.String(16), nullable=False),
    sa.Column("appeal_text", sa.Text, nullable=True),
    sa.Column("appeal_resolved_by", sa.BigInteger, nullable=True),
    sa.Column("appeal_resolved_at", sa.DateTime(timezone=True), nullable=True),
)


def add_verdict(
    db: Database,
    annotation_id: int,
    inspector_id: int,
    *,
    outcome: str,
    at: datetime,
    appeal_status: str = "none",
    bad_faith: bool = False,
) -> None:
    with db.engine.begin() as conn:
        if not sa.inspect(conn).has_table("inspection_verdict"):
            _META.create_all(conn, tables=[VERDICTS])
        row = conn.execute(
            sa.select(Annotation.project_id, Annotation.item_id, Annotation.worker_id).where(
                Annotation.id == annotation_id
            )
        ).one()
        stamp = at if db.is_postgres else at.astimezone(UTC).replace(tzinfo=None)
        values = {
            "version": 1,
            "project_id": row[0],
            "annotation_id": annotation_id,
            "item_id": row[1],
            "worker_id": row[2],
            "inspector_id": inspector_id,
            "stage": 1,
            "outcome": outcome,
            "reason_code": "wrong_label" if outcome == "reject" else None,
            "bad_faith": bad_faith,
            "comment": "",
            "at": stamp,
            "appeal_status": appeal_status,
            "appeal_text": "it was right" if appeal_status != "none" else None,
            "appeal_resolved_by": None,
            "appeal_resolved_at": None,
        }
        present = {c["name"] for c in sa.inspect(conn).get_columns("inspection_verdict")}
        values = {k: v for k, v in values.items() if k in present}
        conn.execute(
            sa.insert(sa.table("inspection_verdict", *[sa.column(k) for k in values])), values
        )


@dataclass
class Program:
    inst: int
    vendor_a: int
    vendor_b: int
    officer: Person
    auditor: Person
    manager: Person
    inspector: Person
    fast: Person  # vendor A, paid above the minimum
    slow: Person  # vendor A, below the minimum before top-ups; has training time
    other: Person  # vendor B
    project: int
    annotations: dict[str, list[int]]


def build_program(world: World, *, close: bool = True) -> Program:
    """Work in October 2026 at a piece rate of 100 KRW: 30 s items earn 12,000 KRW/h (above
    the 10,320 minimum), 60 s items 6,000 KRW/h (below it)."""
    office = world.org(OrgKind.PROGRAM_OFFICE)
    agency = world.org(OrgKind.QUALITY_AGENCY)
    inst = world.org(OrgKind.INSTITUTION)
    vendor_a = world.org(OrgKind.VENDOR)
    vendor_b = world.org(OrgKind.VENDOR)
    officer = world.person((office, Role.ADMIN))
    auditor = world.person((agency, Role.AUDITOR))
    manager = world.person((inst, Role.ADMIN), (inst, Role.MANAGER))
    inspector = world.person((inst, Role.INSPECTOR))
    fast = world.person((vendor_a, Role.WORKER))
    slow = world.person((vendor_a, Role.WORKER))
    other = world.person((vendor_b, Role.WORKER))
    project = world.project(inst, vendors=(vendor_a, vendor_b), overlap=3)
    world.texts(project, 6)
    with world.db.write() as session:
        rates.set_project_pay(
            session,
            world.actor(manager),
            project,
            piece_rate_minor=100,
            hourly_rate_minor=0,
            now=datetime(2026, 9, 1, tzinfo=UTC),
        )
    done: dict[str, list[int]] = {"fast": [], "slow": [], "other": []}
    for i in range(4):
        at = WORK_START + timedelta(hours=i)
        done["fast"].append(do_item(world.db, world.actor(fast), project, start=at, seconds=30))
        done["slow"].append(do_item(world.db, world.actor(slow), project, start=at, seconds=60))
    for i in range(2):
        at = WORK_START + timedelta(days=1, hours=i)
        done["other"].append(do_item(world.db, world.actor(other), project, start=at, seconds=20))
    with world.db.write() as session:
        record_worked_time(
            session,
            worker_id=slow.user_id,
            project_id=project,
            source="training",
            duration=timedelta(minutes=30),
            work_ref="training:test:1",
            now=WORK_START + timedelta(days=2),
        )
    if close:
        key = load_or_create_platform_key(world.settings.data_dir)
        with world.db.write() as session:
            close_period(session, key, PERIOD, now=AFTER_PERIOD)
    return Program(
        inst,
        vendor_a,
        vendor_b,
        officer,
        auditor,
        manager,
        inspector,
        fast,
        slow,
        other,
        project,
        done,
    )


def actor(world: World, person: Person) -> Actor:
    return world.actor(person)
