"""PostgreSQL: `item.import_id` no longer checked by a foreign key.

An import inserts its items with one INSERT … SELECT per 20,000 rows, and PostgreSQL checks a
foreign key row by row: on a 1,000,000-item import the check on `import_id` alone took a fifth
of the server's time (move pass 16.9 s with it, 13.5 s without, `bench/import_rate.py`). The
column records where an item came from; `import_job` rows are never deleted, and the import
writes the id of the job it is running, so the check guarded nothing. The project foreign key
stays. SQLite keeps both checks (they cost little there, and dropping one would rebuild the
item table).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("item_import_id_fkey", "item", type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key("item_import_id_fkey", "item", "import_job", ["import_id"], ["id"])
