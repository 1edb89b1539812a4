"""Builders for quality tests: answers written straight into the tables, as the worker loop
would leave them, so thousands of simulated submissions take a second, not minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, text
from tests.factories import CHOICE_SCHEMA

from datadam.domain.enums import OrgKind, Role
from datadam.quality import gold_scoring
from datadam.storage.db import Database
from datadam.storage.tables import (
    Annotation,
    Assignment,
    GoldAnswer,
    GoldResult,
    Item,
    Project,
)

Answer = tuple[int, int, dict[str, Any], datetime]  # item_id, worker_id, result, submitted_at
LABELS = CHOICE_SCHEMA["controls"][0]["labels"]
START = datetime(2026, 11, 20, 9, tzinfo=UTC)


def item_ids(db: Database, project_id: int) -> list[int]:
    with db.read() as session:
        query = select(Item.id).where(Item.project_id == project_id).order_by(Item.id)
        return list(session.execute(query).scalars())


def insert_answers(db: Database, project_id: int, answers: list[Answer]) -> list[int]:
    """Store each answer as a submitted assignment plus its annotation; returns annotation ids.

    Answers to gold items are scored into `gold_result` as the worker loop does. Ids are
    given explicitly so that the rows go in as a few multi-row statements."""
    with db.write() as session:
        project = session.get(Project, project_id)
        assert project is not None
        schema = project.schema
        gold = dict(
            session.execute(
                select(GoldAnswer.item_id, GoldAnswer.answer).where(
                    GoldAnswer.project_id == project_id, GoldAnswer.purpose == "gold"
                )
            ).all()
        )
        first_assignment = (session.execute(select(func.max(Assignment.id))).scalar() or 0) + 1
        first_annotation = (session.execute(select(func.max(Annotation.id))).scalar() or 0) + 1
        assignments, annotations, scored = [], [], []
        for n, (item_id, worker_id, result, at) in enumerate(answers):
            assignments.append(
                {
                    "id": first_assignment + n,
                    "project_id": project_id,
                    "item_id": item_id,
                    "worker_id": worker_id,
                    "status": "submitted",
                    "leased_at": at - timedelta(seconds=30),
                    "expires_at": at + timedelta(minutes=30),
                    "finished_at": at,
                }
            )
            annotations.append(
                {
                    "id": first_annotation + n,
                    "project_id": project_id,
                    "item_id": item_id,
                    "assignment_id": first_assignment + n,
                    "worker_id": worker_id,
                    "result": result,
                    "schema_version": 1,
                    "client_submission_id": f"sim-{first_annotation + n}",
                    "started_at": at - timedelta(seconds=30),
                    "submitted_at": at,
                    "active_seconds": 30.0,
                }
            )
            if item_id in gold:
                scored.append(
                    {
                        "annotation_id": first_annotation + n,
                        "project_id": project_id,
                        "worker_id": worker_id,
                        "item_id": item_id,
                        "score": gold_scoring.score(schema, result, gold[item_id]),
                        "correct": gold_scoring.is_correct(schema, result, gold[item_id]),
                        "at": at,
                    }
                )
        session.execute(insert(Assignment), assignments)
        session.execute(insert(Annotation), annotations)
        if scored:
            session.execute(insert(GoldResult), scored)
        if session.get_bind().dialect.name == "postgresql":
            for table in ("assignment", "annotation"):
                session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT MAX(id) FROM {table}))"
                    )
                )
        return [a["id"] for a in annotations]


def mark_gold(db: Database, project_id: int, answers: dict[int, dict[str, Any]]) -> None:
    """Make items gold questions with these known answers (stage 'gold', out of the queue)."""
    with db.write() as session:
        for item_id, answer in answers.items():
            item = session.get(Item, item_id)
            assert item is not None
            item.stage = "gold"
            session.add(
                GoldAnswer(item_id=item_id, project_id=project_id, answer=answer, purpose="gold")
            )


def _wrong(rng: np.random.Generator, truth: int) -> int:
    return int((truth + rng.integers(1, len(LABELS))) % len(LABELS))


def simulate(world, *, n_items=2000, n_gold=100, n_workers=30, overlap=3, seed=7):  # type: ignore[no-untyped-def]
    """30 workers of known accuracy label a project; every worker answers every gold item."""
    rng = np.random.default_rng(seed)
    inst = world.org(OrgKind.INSTITUTION)
    vendor = world.org(OrgKind.VENDOR)
    workers = [world.person((vendor, Role.WORKER)).user_id for _ in range(n_workers)]
    accuracy = dict(zip(workers, rng.permutation(np.linspace(0.5, 0.95, n_workers)), strict=True))
    project = world.project(inst, overlap=overlap, vendors=(vendor,))
    world.texts(project, n_items + n_gold)
    ids = item_ids(world.db, project)
    truth = {i: int(rng.integers(len(LABELS))) for i in ids}
    gold_ids = ids[-n_gold:]
    mark_gold(world.db, project, {i: {"sentiment": LABELS[truth[i]]} for i in gold_ids})

    def answer(item: int, worker: int) -> int:
        right = rng.random() < accuracy[worker]
        return truth[item] if right else _wrong(rng, truth[item])

    rows, regular_right, regular_total = [], 0, 0
    for n, item in enumerate(ids[:n_items]):
        for worker in rng.choice(workers, size=overlap, replace=False):
            label = answer(item, int(worker))
            regular_right += label == truth[item]
            regular_total += 1
            at = START + timedelta(days=n % 3, seconds=n)
            rows.append((item, int(worker), {"sentiment": LABELS[label]}, at))
    for item in gold_ids:
        for worker in workers:
            at = START + timedelta(days=int(rng.integers(3)), seconds=int(rng.integers(3600)))
            rows.append((item, worker, {"sentiment": LABELS[answer(item, worker)]}, at))
    insert_answers(world.db, project, rows)
    return project, vendor, accuracy, regular_right / regular_total
