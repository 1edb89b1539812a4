"""One live lease per worker and project, as a database constraint.

The worker loop's fast path on PostgreSQL claims a task in one autocommit statement, without
the per-worker advisory lock the transactional path takes; this partial unique index is what
stops two simultaneous asks of one worker from leasing two items. Any duplicate live leases
left by an older version are ended first (the newest is kept) and their slots given back.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_LIVE = "status = 'active'"
_DUPLICATES = (
    "SELECT a.id, a.item_id FROM assignment a WHERE a.status = 'active' AND EXISTS ("
    "SELECT 1 FROM assignment b WHERE b.status = 'active' AND b.project_id = a.project_id "
    "AND b.worker_id = a.worker_id AND b.id > a.id)"
)


def upgrade() -> None:
    conn = op.get_bind()
    for assignment_id, item_id in conn.execute(sa.text(_DUPLICATES)).fetchall():
        conn.execute(
            sa.text("UPDATE assignment SET status = 'expired' WHERE id = :a"), {"a": assignment_id}
        )
        conn.execute(
            sa.text("UPDATE item SET n_taken = n_taken - 1 WHERE id = :i AND n_taken > 0"),
            {"i": item_id},
        )
    op.create_index(
        "uq_assignment_live_worker",
        "assignment",
        ["project_id", "worker_id"],
        unique=True,
        sqlite_where=sa.text(_LIVE),
        postgresql_where=sa.text(_LIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_assignment_live_worker", table_name="assignment")
