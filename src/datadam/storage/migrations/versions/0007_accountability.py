"""Accountability: the talent pool (opt-ins per field) and job offers.

Scorecards, the program dashboard and the audit trail viewer read existing tables and need
none of their own.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import datadam.storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time() -> datadam.storage.types.UTCDateTime:
    return datadam.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "talent_opt_in",
        sa.Column("id", _id(), nullable=False),
        sa.Column("worker_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("worker_id", "field", name="uq_talent_opt_in"),
    )
    op.create_index("ix_talent_opt_in_field", "talent_opt_in", ["field"])

    op.create_table(
        "job_offer",
        sa.Column("id", _id(), nullable=False),
        sa.Column("organization_id", _id(), sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("worker_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("responded_at", _time(), nullable=True),
        sa.Column("hired_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint(
            "status IN ('sent', 'accepted', 'declined', 'withdrawn', 'hired')",
            name="ck_job_offer_status",
        ),
    )
    op.create_index("ix_job_offer_org_created", "job_offer", ["organization_id", "created_at"])
    op.create_index("ix_job_offer_worker_status", "job_offer", ["worker_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_job_offer_worker_status", table_name="job_offer")
    op.drop_index("ix_job_offer_org_created", table_name="job_offer")
    op.drop_table("job_offer")
    op.drop_index("ix_talent_opt_in_field", table_name="talent_opt_in")
    op.drop_table("talent_opt_in")
