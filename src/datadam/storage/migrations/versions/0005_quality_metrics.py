"""Quality: live metric snapshots, the coded-answer cache, the plan and the auditor's checklist.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import datadam.storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time() -> datadam.storage.types.UTCDateTime:
    return datadam.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "quality_codes",
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("chunk", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_annotation_id", sa.BigInteger(), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "chunk"),
    )
    op.create_table(
        "quality_snapshot",
        sa.Column("id", _id(), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("computed_at", _time(), nullable=False),
        sa.Column("n_answers", sa.BigInteger(), nullable=False),
        sa.Column("last_annotation_id", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("metrics", datadam.storage.types.JsonColumn, nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_quality_snapshot_project_at", "quality_snapshot", ["project_id", "computed_at"]
    )
    op.create_table(
        "quality_plan",
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("target_items", sa.BigInteger(), nullable=True),
        sa.Column("class_targets", datadam.storage.types.JsonColumn, nullable=False),
        sa.Column("targets", datadam.storage.types.JsonColumn, nullable=False),
        sa.Column("updated_by", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("project_id"),
    )
    op.create_table(
        "quality_checklist",
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("answer", sa.String(8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("answered_by", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("answered_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "key"),
        sa.CheckConstraint("answer IN ('yes', 'no', 'na')", name="ck_quality_checklist_answer"),
    )


def downgrade() -> None:
    op.drop_table("quality_checklist")
    op.drop_table("quality_plan")
    op.drop_index("ix_quality_snapshot_project_at", table_name="quality_snapshot")
    op.drop_table("quality_snapshot")
    op.drop_table("quality_codes")
