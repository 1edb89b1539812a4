"""Stored answers for the quality page tests (the worker loop's rows, written directly)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from datadam.storage.db import Database
from datadam.storage.tables import Annotation, Assignment, Item
from datadam.storage.types import utcnow


def answer_items(
    db: Database, project_id: int, worker_id: int, labels: list[str]
) -> list[tuple[int, int]]:
    """The worker answers the project's first items with these labels: (annotation, item)."""
    now = utcnow()
    out = []
    with db.write() as session:
        items = session.execute(
            select(Item.id).where(Item.project_id == project_id).order_by(Item.id)
        ).scalars()
        for item_id, label in zip(items, labels, strict=False):
            assignment = Assignment(
                project_id=project_id,
                item_id=item_id,
                worker_id=worker_id,
                status="submitted",
                expires_at=now + timedelta(minutes=30),
                finished_at=now,
            )
            session.add(assignment)
            session.flush()
            annotation = Annotation(
                project_id=project_id,
                item_id=item_id,
                assignment_id=assignment.id,
                worker_id=worker_id,
                result={"sentiment": label},
                client_submission_id=f"q-{assignment.id}",
                started_at=now,
            )
            session.add(annotation)
            session.flush()
            out.append((annotation.id, item_id))
    return out
