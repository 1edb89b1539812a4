"""The one table of allowed stage moves. Nothing else writes `item.stage`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.orm import Session

from datadam.domain.enums import Stage
from datadam.errors import InputError
from datadam.storage.tables import Item

ALLOWED: dict[Stage, frozenset[Stage]] = {
    Stage.COLLECTED: frozenset({Stage.REFINED, Stage.LABELING, Stage.GOLD}),
    Stage.REFINED: frozenset({Stage.LABELING, Stage.GOLD}),
    Stage.LABELING: frozenset({Stage.INSPECTION, Stage.GOLD}),
    Stage.INSPECTION: frozenset({Stage.ACCEPTED, Stage.LABELING}),
    Stage.ACCEPTED: frozenset({Stage.RELEASED, Stage.INSPECTION}),
    Stage.RELEASED: frozenset(),
    Stage.GOLD: frozenset({Stage.LABELING}),
}


def check_move(source: Stage, target: Stage) -> None:
    if target not in ALLOWED[source]:
        raise InputError(
            f"an item cannot move from {source} to {target}",
            field="stage",
            code="invalid_transition",
        )


def move_item_if(session: Session, item_id: int, *, source: Stage, target: Stage) -> bool:
    """Move one item when it is still at `source`; returns whether it moved (race-safe)."""
    check_move(source, target)
    result = session.execute(
        update(Item)
        .where(Item.id == item_id, Item.stage == source.value)
        .values(stage=target.value)
    )
    return result.rowcount == 1


def move_items(session: Session, item_ids: Sequence[int], *, source: Stage, target: Stage) -> int:
    check_move(source, target)
    result = session.execute(
        update(Item)
        .where(Item.id.in_(item_ids), Item.stage == source.value)
        .values(stage=target.value)
    )
    return result.rowcount


def entry_stage(*, refine_first: bool) -> Stage:
    """Where imported items start: at `collected` when the project refines data first."""
    return Stage.COLLECTED if refine_first else Stage.LABELING


# The submit hot path counts a label and, when the item has all the labels its project's overlap
# asks for, ends its labeling stage (LABELING -> INSPECTION) in the same statement. Right-hand
# sides of an UPDATE see the old row, so `n_done + 1` is the new count.
# Binds :i (item id), :overlap, :labeling and :inspection.
COUNT_SUBMISSION_SQL = (
    "UPDATE item SET n_done = n_done + 1, stage = CASE WHEN stage = :labeling AND "
    "n_done + 1 >= :overlap THEN :inspection ELSE stage END WHERE id = :i"
)
# A late submission (its lease had expired and was reaped) must also win back a slot.
COUNT_LATE_SUBMISSION_SQL = (
    "UPDATE item SET n_taken = n_taken + 1, n_done = n_done + 1, stage = CASE WHEN "
    "stage = :labeling AND n_done + 1 >= :overlap THEN :inspection ELSE stage END "
    "WHERE id = :i AND n_taken < :overlap AND stage = :labeling"
)
