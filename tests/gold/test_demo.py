"""The demo's gold seeding: known items for each purpose, settings, and nothing new twice."""

from __future__ import annotations

from sqlalchemy import func, select

from datadam.domain.enums import OrgKind
from datadam.gold.demo import KNOWN, PROJECT, seed_gold_demo
from datadam.schema import example_schema
from datadam.storage.tables import GoldAnswer, Item, QualitySettings


def test_seed_gold_demo_is_idempotent(world) -> None:  # type: ignore[no-untyped-def]
    inst = world.org(OrgKind.INSTITUTION)
    project = world.project(inst, schema=example_schema("sentiment_ko"), name=PROJECT)
    seed_gold_demo(world.db)
    seed_gold_demo(world.db)
    with world.db.read() as session:
        purposes = dict(
            session.execute(
                select(GoldAnswer.purpose, func.count()).group_by(GoldAnswer.purpose)
            ).all()
        )
        items = session.execute(
            select(func.count()).select_from(Item).where(Item.project_id == project)
        ).scalar_one()
        settings = session.get(QualitySettings, project)
        stages = set(session.execute(select(Item.stage)).scalars())
    assert purposes == {"gold": 6, "training": 2, "qualification": 3}
    assert items == len(KNOWN) and stages == {"gold"}
    assert settings is not None and settings.gold_rate == 0.1
    assert not settings.qualification_required
