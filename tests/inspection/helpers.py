"""Shared builders for inspection tests: a labelled project and actors to judge it."""

from __future__ import annotations

from typing import Any

from datadam.assignment.service import next_task, submit_task
from datadam.domain.enums import Role
from datadam.projects.service import ProjectView, get_project_for
from tests.factories import labeling_team


def label(world, person, project_id: int, answer: str = "positive") -> int:  # type: ignore[no-untyped-def]
    actor = world.actor(person)
    task = next_task(world.db, actor, project_id)
    assert task is not None
    done = submit_task(
        world.db,
        actor,
        task.assignment_id,
        result={"sentiment": answer},
        client_submission_id=f"s-{task.assignment_id}",
    )
    return int(done.annotation_id)


def view_for(session, world, person, project_id: int) -> ProjectView:  # type: ignore[no-untyped-def]
    return get_project_for(session, world.actor(person), project_id)


def labelled_team(world, *, items: int = 6, workers: int = 3) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Overlap 1: each worker labels in turn until every item is labelled once."""
    inst, vendor, manager, crew, project_id = labeling_team(world, items=items, workers=workers)
    ids = [label(world, crew[i % workers], project_id) for i in range(items)]
    inspector = world.person((inst, Role.INSPECTOR))
    return {
        "inst": inst,
        "vendor": vendor,
        "manager": manager,
        "crew": crew,
        "project": project_id,
        "ids": ids,
        "inspector": inspector,
    }
