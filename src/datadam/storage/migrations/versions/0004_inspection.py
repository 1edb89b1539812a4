"""Quality: inspection stages, verdicts, corrections as new versions, lots and acceptance sampling.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import datadam.storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time() -> datadam.storage.types.UTCDateTime:
    return datadam.storage.types.UTCDateTime(timezone=True)


def _json() -> sa.types.TypeEngine[object]:
    return datadam.storage.types.JsonColumn


def upgrade() -> None:
    op.create_table(
        "inspection_settings",
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("rework_to", sa.String(8), nullable=False),
        sa.Column("rejected_lot_action", sa.String(8), nullable=False),
        sa.Column("lot_size", sa.Integer(), nullable=True),
        sa.Column("switching", _json(), nullable=False),
        sa.Column("production_steady", sa.Boolean(), nullable=False),
        sa.Column("reduced_approved", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("updated_by", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.PrimaryKeyConstraint("project_id"),
        sa.CheckConstraint("rework_to IN ('same', 'other')", name="ck_inspection_settings_rework"),
        sa.CheckConstraint(
            "rejected_lot_action IN ('full', 'rework')", name="ck_inspection_settings_lot_action"
        ),
    )

    op.create_table(
        "inspection_stage",
        sa.Column("id", _id(), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("inspector_side", sa.String(8), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("level", sa.String(4), nullable=True),
        sa.Column("aql", sa.String(8), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "position", name="uq_inspection_stage_position"),
        sa.CheckConstraint("position >= 1", name="ck_inspection_stage_position"),
        sa.CheckConstraint(
            "inspector_side IN ('vendor', 'owner', 'any')", name="ck_inspection_stage_side"
        ),
        sa.CheckConstraint("mode IN ('all', 'sample')", name="ck_inspection_stage_mode"),
    )

    op.create_table(
        "rejection_reason",
        sa.Column("id", _id(), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("bad_faith", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "code", name="uq_rejection_reason_code"),
    )

    op.create_table(
        "inspection_verdict",
        sa.Column("id", _id(), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("annotation_id", _id(), sa.ForeignKey("annotation.id"), nullable=False),
        sa.Column("item_id", _id(), sa.ForeignKey("item.id"), nullable=False),
        sa.Column("worker_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("inspector_id", _id(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("reason_code", sa.String(40), nullable=True),
        sa.Column("bad_faith", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("lot_id", _id(), nullable=True),
        sa.Column("at", _time(), nullable=False),
        sa.Column("appeal_status", sa.String(8), nullable=False),
        sa.Column("appeal_text", sa.Text(), nullable=True),
        sa.Column("appeal_resolved_by", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("appeal_resolved_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint(
            "outcome IN ('accept', 'reject', 'correct')", name="ck_inspection_verdict_outcome"
        ),
        sa.CheckConstraint(
            "appeal_status IN ('none', 'open', 'upheld', 'denied')",
            name="ck_inspection_verdict_appeal",
        ),
        sa.CheckConstraint("stage >= 1", name="ck_inspection_verdict_stage"),
    )
    op.create_index("ix_inspection_verdict_project_at", "inspection_verdict", ["project_id", "at"])
    op.create_index("ix_inspection_verdict_annotation", "inspection_verdict", ["annotation_id"])
    op.create_index(
        "ix_inspection_verdict_worker", "inspection_verdict", ["worker_id", "project_id"]
    )
    op.create_index(
        "ix_inspection_verdict_inspector", "inspection_verdict", ["inspector_id", "project_id"]
    )

    op.create_table(
        "annotation_version",
        sa.Column("id", _id(), nullable=False),
        sa.Column("annotation_id", _id(), sa.ForeignKey("annotation.id"), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("result", _json(), nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("author_id", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("annotation_id", "version", name="uq_annotation_version"),
        sa.CheckConstraint(
            "source IN ('original', 'correction', 'rework')", name="ck_annotation_version_source"
        ),
    )
    op.create_index("ix_annotation_version_project_id", "annotation_version", ["project_id"])

    op.create_table(
        "inspection_state",
        sa.Column("annotation_id", _id(), sa.ForeignKey("annotation.id"), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lot_id", _id(), nullable=True),
        sa.Column("rework_worker_id", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("verdict_id", _id(), nullable=True),
        sa.Column("returned_at", _time(), nullable=True),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("annotation_id"),
        sa.CheckConstraint(
            "status IN ('queued', 'pooled', 'held', 'rework', 'done')",
            name="ck_inspection_state_status",
        ),
    )
    op.create_index(
        "ix_inspection_state_queue", "inspection_state", ["project_id", "status", "stage"]
    )
    op.create_index(
        "ix_inspection_state_rework", "inspection_state", ["rework_worker_id", "status"]
    )

    op.create_table(
        "inspection_lot",
        sa.Column("id", _id(), nullable=False),
        sa.Column("project_id", _id(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(4), nullable=False),
        sa.Column("aql", sa.String(8), nullable=False),
        sa.Column("severity", sa.String(12), nullable=False),
        sa.Column("code_letter", sa.String(2), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("accept_number", sa.Integer(), nullable=False),
        sa.Column("reject_number", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("nonconforming", sa.Integer(), nullable=False),
        sa.Column("judged", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(8), nullable=True),
        sa.Column("switching_before", _json(), nullable=False),
        sa.Column("switching_after", _json(), nullable=True),
        sa.Column("switch_reason", sa.String(200), nullable=True),
        sa.Column("created_by", _id(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("decided_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'rejected')", name="ck_inspection_lot_status"
        ),
    )
    op.create_index("ix_inspection_lot_project", "inspection_lot", ["project_id", "status"])

    op.create_table(
        "inspection_lot_item",
        sa.Column("lot_id", _id(), sa.ForeignKey("inspection_lot.id"), nullable=False),
        sa.Column("annotation_id", _id(), sa.ForeignKey("annotation.id"), nullable=False),
        sa.Column("item_id", _id(), sa.ForeignKey("item.id"), nullable=False),
        sa.Column("sampled", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=True),
        sa.PrimaryKeyConstraint("lot_id", "annotation_id"),
    )


def downgrade() -> None:
    op.drop_table("inspection_lot_item")
    op.drop_index("ix_inspection_lot_project", table_name="inspection_lot")
    op.drop_table("inspection_lot")
    op.drop_index("ix_inspection_state_rework", table_name="inspection_state")
    op.drop_index("ix_inspection_state_queue", table_name="inspection_state")
    op.drop_table("inspection_state")
    op.drop_index("ix_annotation_version_project_id", table_name="annotation_version")
    op.drop_table("annotation_version")
    for name in (
        "ix_inspection_verdict_inspector",
        "ix_inspection_verdict_worker",
        "ix_inspection_verdict_annotation",
        "ix_inspection_verdict_project_at",
    ):
        op.drop_index(name, table_name="inspection_verdict")
    op.drop_table("inspection_verdict")
    op.drop_table("rejection_reason")
    op.drop_table("inspection_stage")
    op.drop_table("inspection_settings")
