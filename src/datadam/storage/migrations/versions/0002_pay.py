"""Pay: heartbeats, work flags, worked time, project pay terms, minimum wages, the ledger.

The ledger and its checkpoints are append-only in the database itself (C-26): triggers refuse
UPDATE and DELETE on both SQLite and PostgreSQL. Korea's minimum wages 2020-2026 are seeded.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

import datadam.storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("ledger_entry", "ledger_checkpoint")
APPEND_ONLY_MESSAGE = "is append-only"
KOREA_MINIMUM_WAGES = {
    2020: 8590,
    2021: 8720,
    2022: 9160,
    2023: 9620,
    2024: 9860,
    2025: 10030,
    2026: 10320,
}


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time() -> datadam.storage.types.UTCDateTime:
    return datadam.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "work_heartbeat",
        sa.Column("id", _id(), nullable=False),
        sa.Column("assignment_id", _id(), sa.ForeignKey("assignment.id"), nullable=False),
        sa.Column("worker_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_work_heartbeat_assignment_at", "work_heartbeat", ["assignment_id", "at"])

    op.create_table(
        "work_flag",
        sa.Column("id", _id(), nullable=False),
        sa.Column("assignment_id", _id(), sa.ForeignKey("assignment.id"), nullable=False),
        sa.Column("worker_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", _time(), nullable=False),
        sa.Column("last_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assignment_id", "kind", name="uq_work_flag"),
    )
    op.create_index("ix_work_flag_worker_id", "work_flag", ["worker_id"])

    op.create_table(
        "worked_time",
        sa.Column("id", _id(), nullable=False),
        sa.Column("worker_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("duration_us", sa.BigInteger(), nullable=False),
        sa.Column("work_ref", sa.String(160), nullable=False),
        sa.Column("recorded_at", _time(), nullable=False),
        sa.Column("recorded_by", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_ref"),
        sa.CheckConstraint("duration_us > 0", name="ck_worked_time_positive"),
        sa.CheckConstraint(
            "source IN ('training', 'qualification', 'rework', 'other')",
            name="ck_worked_time_source",
        ),
    )
    op.create_index("ix_worked_time_worker_at", "worked_time", ["worker_id", "recorded_at"])

    op.create_table(
        "project_pay",
        sa.Column("id", _id(), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("piece_rate_minor", sa.BigInteger(), nullable=False),
        sa.Column("hourly_rate_minor", sa.BigInteger(), nullable=False),
        sa.Column("effective_from", _time(), nullable=False),
        sa.Column("set_by", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("piece_rate_minor >= 0", name="ck_project_pay_piece"),
        sa.CheckConstraint("hourly_rate_minor >= 0", name="ck_project_pay_hourly"),
    )
    op.create_index("ix_project_pay_project_from", "project_pay", ["project_id", "effective_from"])

    minimum_wage = op.create_table(
        "minimum_wage",
        sa.Column("id", _id(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("hourly_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("updated_by", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("country", "effective_from", name="uq_minimum_wage_country_from"),
        sa.CheckConstraint("hourly_minor > 0", name="ck_minimum_wage_positive"),
    )

    op.create_table(
        "ledger_entry",
        sa.Column("seq", _id(), autoincrement=False, nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("debit_account", sa.String(96), nullable=False),
        sa.Column("credit_account", sa.String(96), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("work_ref", sa.String(160), nullable=False),
        sa.Column("worker_id", _id(), nullable=True),
        sa.Column("organization_id", _id(), nullable=True),
        sa.Column("project_id", _id(), nullable=True),
        sa.Column("period", sa.String(7), nullable=True),
        sa.Column("reverses_seq", _id(), nullable=True),
        sa.Column("memo", sa.String(200), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("prev_hash"),
        sa.UniqueConstraint("hash"),
        sa.UniqueConstraint("kind", "work_ref", name="uq_ledger_entry_kind_ref"),
        sa.CheckConstraint("amount > 0", name="ck_ledger_entry_amount"),
        sa.CheckConstraint("seq >= 1", name="ck_ledger_entry_seq"),
        sa.CheckConstraint("debit_account <> credit_account", name="ck_ledger_entry_accounts"),
        sa.CheckConstraint(
            "kind IN ('earning', 'top_up', 'bonus', 'payout', 'reversal')",
            name="ck_ledger_entry_kind",
        ),
    )
    op.create_index("ix_ledger_entry_worker", "ledger_entry", ["worker_id", "organization_id"])
    op.create_index("ix_ledger_entry_period", "ledger_entry", ["period", "organization_id"])

    op.create_table(
        "ledger_balance",
        sa.Column("account", sa.String(96), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "currency"),
    )

    op.create_table(
        "ledger_checkpoint",
        sa.Column("id", _id(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("period", sa.String(7), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )

    for table in APPEND_ONLY_TABLES:
        _make_append_only(table)

    seeded = datadam.storage.types.utcnow()
    op.bulk_insert(
        minimum_wage,
        [
            {
                "country": "KR",
                "effective_from": date(year, 1, 1),
                "hourly_minor": won,
                "currency": "KRW",
                "updated_at": seeded,
                "updated_by": None,
            }
            for year, won in KOREA_MINIMUM_WAGES.items()
        ],
    )


def _make_append_only(table: str) -> None:
    """Refuse UPDATE and DELETE in the database itself (same triggers as revision 0001)."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} {APPEND_ONLY_MESSAGE}'); END"
            )
        return
    op.execute(
        f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{table} {APPEND_ONLY_MESSAGE}'; END $$ LANGUAGE plpgsql"
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
    )


def downgrade() -> None:
    for table in (
        "ledger_checkpoint",
        "ledger_balance",
        "ledger_entry",
        "minimum_wage",
        "project_pay",
        "worked_time",
        "work_flag",
        "work_heartbeat",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
