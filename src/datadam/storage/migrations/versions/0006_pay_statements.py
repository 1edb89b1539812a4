"""Pay: rates per kind of work, work withheld from pay and why, payout requests, and the
worker's private profile with bank details.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import datadam.storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time() -> datadam.storage.types.UTCDateTime:
    return datadam.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pay_task_rate",
        sa.Column("id", _id(), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("task_type", sa.String(16), nullable=False),
        sa.Column("piece_rate_minor", sa.BigInteger(), nullable=False),
        sa.Column("hourly_rate_minor", sa.BigInteger(), nullable=False),
        sa.Column("effective_from", _time(), nullable=False),
        sa.Column("set_by", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("piece_rate_minor >= 0", name="ck_pay_task_rate_piece"),
        sa.CheckConstraint("hourly_rate_minor >= 0", name="ck_pay_task_rate_hourly"),
        sa.CheckConstraint(
            "task_type IN ('labeling', 'training', 'qualification', 'rework', 'other')",
            name="ck_pay_task_rate_type",
        ),
    )
    op.create_index(
        "ix_pay_task_rate_project",
        "pay_task_rate",
        ["project_id", "task_type", "effective_from"],
    )

    op.create_table(
        "pay_withheld",
        sa.Column("id", _id(), nullable=False),
        sa.Column("work_ref", sa.String(160), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("worker_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("verdict_id", sa.BigInteger(), nullable=True),
        sa.Column("reason_code", sa.String(64), nullable=True),
        sa.Column("duration_us", sa.BigInteger(), nullable=False),
        sa.Column("withheld_at", _time(), nullable=False),
        sa.Column("released_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_ref", name="uq_pay_withheld_work_ref"),
    )
    op.create_index("ix_pay_withheld_period", "pay_withheld", ["period"])
    op.create_index("ix_pay_withheld_worker_id", "pay_withheld", ["worker_id"])

    op.create_table(
        "payout_request",
        sa.Column("id", _id(), nullable=False),
        sa.Column("worker_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("organization_id", _id(), sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", _time(), nullable=False),
        sa.Column("decided_by", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("decided_at", _time(), nullable=True),
        sa.Column("ledger_seq", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("amount_minor > 0", name="ck_payout_request_amount"),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'declined')", name="ck_payout_request_status"
        ),
    )
    op.create_index("ix_payout_request_org_status", "payout_request", ["organization_id", "status"])
    op.create_index("ix_payout_request_worker", "payout_request", ["worker_id", "organization_id"])

    op.create_table(
        "worker_profile",
        sa.Column("user_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("legal_name", sa.String(120), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("contact_email", sa.String(254), nullable=False),
        sa.Column("bank_name", sa.String(80), nullable=False),
        sa.Column("bank_account", sa.String(64), nullable=False),
        sa.Column("account_holder", sa.String(120), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("worker_profile")
    op.drop_index("ix_payout_request_worker", table_name="payout_request")
    op.drop_index("ix_payout_request_org_status", table_name="payout_request")
    op.drop_table("payout_request")
    op.drop_index("ix_pay_withheld_worker_id", table_name="pay_withheld")
    op.drop_index("ix_pay_withheld_period", table_name="pay_withheld")
    op.drop_table("pay_withheld")
    op.drop_index("ix_pay_task_rate_project", table_name="pay_task_rate")
    op.drop_table("pay_task_rate")
