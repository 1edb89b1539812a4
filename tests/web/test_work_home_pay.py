"""The worker's home shows each project's pay rate once the project has pay terms."""

from __future__ import annotations

from datadam.pay.rates import set_project_pay
from datadam.web.pages.work import list_work_projects
from tests.factories import labeling_team


def test_pay_rate_is_shown_from_the_project_terms(world, db) -> None:  # type: ignore[no-untyped-def]
    _inst, _vendor, manager, crew, project = labeling_team(world, items=2)
    with db.read() as session:
        before = list_work_projects(session, world.actor(crew[0]))
    assert [(p.pay_piece, p.pay_hourly) for p in before] == [(None, None)]
    with db.write() as session:
        set_project_pay(
            session, world.actor(manager), project, piece_rate_minor=120, hourly_rate_minor=10320
        )
    with db.read() as session:
        after = list_work_projects(session, world.actor(crew[0]))
    assert [(p.pay_piece, p.pay_hourly) for p in after] == [("₩120", "₩10,320")]
