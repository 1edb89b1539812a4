"""Builders shared by the gold tests: a team whose project has gold, training and a test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from datadam.access.actor import Actor
from datadam.assignment.service import next_task, submit_task
from datadam.gold import service as gold
from datadam.projects.service import get_project_for
from datadam.storage.tables import Item
from tests.factories import Person, World, labeling_team

LABELS = ("positive", "negative", "neutral")


@dataclass
class GoldTeam:
    world: World
    project: int
    manager: Person
    crew: list[Person]

    def actor(self, person: Person) -> Actor:
        return self.world.actor(person)

    def view(self, person: Person):  # type: ignore[no-untyped-def]
        with self.world.db.read() as session:
            view = get_project_for(session, self.actor(person), self.project)
            session.expunge_all()
            return view


def add_known_items(
    world: World, project: int, manager: Person, n: int, *, purpose: str, answer: str = "positive"
) -> list[int]:
    """`n` new items with the known answer `answer`, marked for `purpose`."""
    rows = [{"text": f"{purpose} question {i} {project}"} for i in range(n)]
    with world.db.read() as session:
        before = session.execute(select(func.max(Item.id))).scalar() or 0
    world.items(project, rows)
    actor = world.actor(manager)
    with world.db.write() as session:
        view = get_project_for(session, actor, project)
        ids = list(
            session.execute(
                select(Item.id)
                .where(Item.project_id == project, Item.id > before)
                .order_by(Item.id)
            ).scalars()
        )
        for item_id in ids:
            gold.mark_gold(
                session,
                view,
                actor,
                item_id=item_id,
                answer={"sentiment": answer},
                explanation=f"the text is {answer}",
                purpose=purpose,
            )
    return ids


def gold_team(world: World, *, items: int = 20, gold_items: int = 0, **settings: Any) -> GoldTeam:
    _inst, _vendor, manager, crew, project = labeling_team(world, items=items, workers=2)
    if gold_items:
        add_known_items(world, project, manager, gold_items, purpose="gold")
    if settings:
        actor = world.actor(manager)
        with world.db.write() as session:
            gold.update_quality_settings(
                session, get_project_for(session, actor, project), actor, settings
            )
    return GoldTeam(world, project, manager, crew)


def work_through(team: GoldTeam, person: Person, answer: Any, limit: int = 200) -> list[int]:
    """Take and submit tasks until none is left; `answer(item_payload)` gives each label.
    Returns the item ids served."""
    actor = team.actor(person)
    served = []
    for n in range(limit):
        task = next_task(team.world.db, actor, team.project)
        if task is None:
            break
        served.append(task.item_id)
        submit_task(
            team.world.db,
            actor,
            task.assignment_id,
            result={"sentiment": answer(task.payload)},
            client_submission_id=f"s-{person.user_id}-{n}",
        )
    return served
