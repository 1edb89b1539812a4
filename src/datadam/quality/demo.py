"""Demo quality data: the Korean sentiment project gets labels from two demo workers (through
the normal worker loop; a few items each, so that every demo worker still has items to
label), a plan, and a first metrics snapshot, so its quality page and report show real
numbers. Idempotent: a project that already has labels gets none added.
"""

from __future__ import annotations

from sqlalchemy import func, select

from datadam.access.authn import actor_for
from datadam.assignment.service import next_task, submit_task
from datadam.quality import metrics, plan
from datadam.storage.db import Database
from datadam.storage.tables import Annotation, Project, User

PROJECT = "감정 분류 (Korean sentiment)"
# worker1 is left out so that the demo still has sentiment items for them to label
WORKERS = ("worker2", "worker3")
POSITIVE = ("좋", "친절", "감사", "훌륭", "감동", "fast", "friendly", "Great", "perfect")
NEGATIVE = ("식어", "불편", "늦게", "찢어", "crashes", "nobody", "별로")
#: Each labels only a few items, so every demo worker still finds work on the project.
MAX_TASKS = 6


def _label(text: str, worker: int, item_id: int) -> str:
    """A plausible answer: keyword sentiment, with each worker wrong on a different few."""
    truth = (
        "긍정"
        if any(w in text for w in POSITIVE)
        else ("부정" if any(w in text for w in NEGATIVE) else "중립")
    )
    if (item_id * 7 + worker * 3) % 11 == 0:  # about one answer in eleven is a slip
        return {"긍정": "중립", "부정": "중립", "중립": "긍정"}[truth]
    return truth


def seed_quality_demo(db: Database, *, domain: str) -> None:
    with db.read() as session:
        project = session.execute(select(Project).where(Project.name == PROJECT)).scalar()
        if project is None:
            return
        project_id = project.id
        labelled = session.execute(
            select(func.count()).select_from(Annotation).where(Annotation.project_id == project_id)
        ).scalar()
        actors = []
        for n, handle in enumerate(WORKERS):
            user = session.execute(select(User).where(User.email == f"{handle}@{domain}")).scalar()
            if user is not None:
                actors.append((n, actor_for(session, user, via="token")))
        manager_user = session.execute(
            select(User).where(User.email == f"manager@{domain}")
        ).scalar()
        manager = actor_for(session, manager_user, via="token") if manager_user else None
    if not labelled:
        for n, actor in actors:
            for _ in range(MAX_TASKS):
                task = next_task(db, actor, project_id)
                if task is None:
                    break
                text = str(task.payload.get("text", ""))
                submit_task(
                    db,
                    actor,
                    task.assignment_id,
                    result={"sentiment": _label(text, n, task.item_id)},
                    client_submission_id=f"demo-quality-{task.assignment_id}",
                )
    with db.write() as session:
        project = session.get(Project, project_id)
        assert project is not None
        if plan.get_plan(session, project_id).target_items is None and manager is not None:
            plan.set_plan(
                session,
                manager,
                project,
                target_items=18,
                class_targets={"sentiment": {"긍정": 0.4, "부정": 0.35, "중립": 0.25}},
                targets={"semantic_accuracy": 0.9},
            )
    metrics.refresh_if_due(db, project_id, batch=1)
