"""Quality: gold questions, worker pauses and appeals, training and qualification tests.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import datadam.storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time() -> datadam.storage.types.UTCDateTime:
    return datadam.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gold_answer",
        sa.Column("item_id", _id(), sa.ForeignKey("item.id"), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("answer", _JSON, nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("created_by", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("item_id"),
        sa.CheckConstraint(
            "purpose IN ('gold', 'training', 'qualification')", name="ck_gold_answer_purpose"
        ),
    )
    op.create_index("ix_gold_answer_project_purpose", "gold_answer", ["project_id", "purpose"])

    op.create_table(
        "quality_settings",
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("gold_rate", sa.Float(), nullable=False),
        sa.Column("pause_threshold", sa.Float(), nullable=False),
        sa.Column("min_gold_answers", sa.Integer(), nullable=False),
        sa.Column("qualification_required", sa.Boolean(), nullable=False),
        sa.Column("pass_mark", sa.Float(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("updated_by", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("project_id"),
        sa.CheckConstraint("gold_rate >= 0 AND gold_rate <= 0.5", name="ck_quality_gold_rate"),
        sa.CheckConstraint(
            "pause_threshold >= 0 AND pause_threshold <= 1", name="ck_quality_pause_threshold"
        ),
        sa.CheckConstraint("min_gold_answers >= 1", name="ck_quality_min_gold"),
        sa.CheckConstraint("pass_mark >= 0 AND pass_mark <= 1", name="ck_quality_pass_mark"),
        sa.CheckConstraint("max_attempts >= 1", name="ck_quality_attempts"),
    )

    op.create_table(
        "gold_result",
        sa.Column("annotation_id", _id(), sa.ForeignKey("annotation.id"), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("worker_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("item_id", _id(), sa.ForeignKey("item.id"), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("annotation_id"),
    )
    op.create_index(
        "ix_gold_result_project_worker", "gold_result", ["project_id", "worker_id", "at"]
    )

    op.create_table(
        "worker_pause",
        sa.Column("id", _id(), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("worker_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=True),
        sa.Column("gold_answers", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("appeal_text", sa.Text(), nullable=True),
        sa.Column("appealed_at", _time(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("resolved_at", _time(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint(
            "status IN ('paused', 'appealed', 'reinstated', 'upheld')",
            name="ck_worker_pause_status",
        ),
    )
    op.create_index(
        "ix_worker_pause_project_worker", "worker_pause", ["project_id", "worker_id", "status"]
    )

    op.create_table(
        "qualification_attempt",
        sa.Column("id", _id(), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("worker_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("n_items", sa.Integer(), nullable=False),
        sa.Column("n_correct", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("started_at", _time(), nullable=False),
        sa.Column("finished_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "project_id", "worker_id", "attempt_no", name="uq_qualification_attempt"
        ),
        sa.CheckConstraint(
            "status IN ('open', 'passed', 'failed')", name="ck_qualification_attempt_status"
        ),
    )

    op.create_table(
        "practice_answer",
        sa.Column("id", _id(), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("worker_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("item_id", _id(), sa.ForeignKey("item.id"), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("attempt_id", _id(), sa.ForeignKey("qualification_attempt.id"), nullable=True),
        sa.Column("result", _JSON, nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("served_at", _time(), nullable=False),
        sa.Column("answered_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("attempt_id", "item_id", name="uq_practice_answer_attempt_item"),
        sa.CheckConstraint(
            "purpose IN ('training', 'qualification')", name="ck_practice_answer_purpose"
        ),
    )
    op.create_index(
        "ix_practice_answer_worker", "practice_answer", ["project_id", "worker_id", "purpose"]
    )


def downgrade() -> None:
    for table in (
        "practice_answer",
        "qualification_attempt",
        "worker_pause",
        "gold_result",
        "quality_settings",
        "gold_answer",
    ):
        op.drop_table(table)
