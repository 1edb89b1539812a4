"""Organisation scorecards: pay, training, review, timeliness, quality, hiring and ranking."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine

from datadam.accountability import scorecard, talent
from datadam.errors import NotAllowed
from tests.accountability.helpers import AFTER_PERIOD, PERIOD, add_verdict, build_program

SECRET = "s" * 40


def _cards(world, program):  # type: ignore[no-untyped-def]
    with world.db.read() as session:
        cards = scorecard.organisation_scorecards(session, PERIOD)
    return {c.organization_id: c for c in cards}


def test_pay_training_and_timeliness_after_close(world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world)
    cards = _cards(world, program)
    a, b = cards[program.vendor_a], cards[program.vendor_b]
    assert a.closed and b.closed
    assert (a.active_workers, a.items, b.active_workers, b.items) == (2, 8, 1, 2)
    # fast: 4 x 30 s = 2 min at or above the minimum; slow: 4 x 60 s + 30 min training below
    fast_s, slow_s = 4 * 30, 4 * 60 + 30 * 60
    assert a.share_hours_at_minimum == pytest.approx(round(fast_s / (fast_s + slow_s), 4))
    assert b.share_hours_at_minimum == 1.0
    assert a.top_ups_paid_minor > 0
    assert a.top_ups_paid_minor == a.top_ups_projected_minor
    assert b.top_ups_paid_minor == 0
    assert a.training_hours == pytest.approx(0.5)
    assert a.training_hours_paid == pytest.approx(0.5)
    assert a.earnings_minor == 8 * 100
    # posted on 2026-11-02; work from 2026-10-05 on
    assert a.median_days_to_pay is not None and 26 < a.median_days_to_pay < 29
    inst = cards[program.inst]
    assert inst.active_workers == 0 and inst.award_score is None and inst.rank is None


def test_open_period_projects_top_ups_and_leaves_training_unpaid(world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world, close=False)
    a = _cards(world, program)[program.vendor_a]
    assert not a.closed
    assert a.top_ups_paid_minor == 0 and a.top_ups_projected_minor > 0
    assert a.training_hours == pytest.approx(0.5) and a.training_hours_paid == 0
    assert a.median_days_to_pay is None


def test_rejections_appeals_and_pass_rate(world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world)
    at = datetime(2026, 10, 20, tzinfo=UTC)
    fast, slow = program.annotations["fast"], program.annotations["slow"]
    add_verdict(world.db, fast[0], program.inspector.user_id, outcome="accept", at=at)
    add_verdict(world.db, fast[1], program.inspector.user_id, outcome="accept", at=at)
    add_verdict(world.db, slow[0], program.inspector.user_id, outcome="correct", at=at)
    add_verdict(
        world.db,
        slow[1],
        program.inspector.user_id,
        outcome="reject",
        at=at,
        appeal_status="upheld",
    )
    add_verdict(
        world.db,
        slow[2],
        program.inspector.user_id,
        outcome="reject",
        at=at,
        appeal_status="denied",
    )
    # a verdict in the next period is not this period's
    add_verdict(world.db, slow[3], program.inspector.user_id, outcome="reject", at=AFTER_PERIOD)
    a = _cards(world, program)[program.vendor_a]
    assert (a.verdicts, a.rejections, a.appeals, a.appeals_upheld) == (5, 2, 2, 1)
    assert a.rejection_rate == pytest.approx(0.4)
    assert a.inspection_pass_rate == pytest.approx(0.4)
    assert a.components["fair_review"] == pytest.approx(0.5)
    assert a.components["quality"] == pytest.approx(0.4)


def test_offers_acceptances_and_hires_are_counted(world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world, close=False)
    with time_machine.travel(datetime(2026, 10, 25, tzinfo=UTC), tick=False):
        with world.db.write() as session:
            talent.set_fields(session, world.actor(program.fast), ["general"])
            talent.set_fields(session, world.actor(program.slow), ["general"])
        with world.db.write() as session:
            manager = world.actor(program.manager)
            pool = talent.pool(session, manager, secret=SECRET, field="general")
            assert len(pool) == 2
            offers = [
                talent.send_offer(
                    session,
                    manager,
                    secret=SECRET,
                    organization_id=program.inst,
                    candidate=c.pseudonym,
                    field="general",
                    title="Annotator",
                )
                for c in pool
            ]
        with world.db.write() as session:
            by_worker = {o.worker_id: o.id for o in offers}
            talent.respond(
                session, world.actor(program.fast), by_worker[program.fast.user_id], accept=True
            )
            talent.respond(
                session, world.actor(program.slow), by_worker[program.slow.user_id], accept=False
            )
            talent.record_hire(session, manager, by_worker[program.fast.user_id])
    inst = _cards(world, program)[program.inst]
    assert (inst.offers, inst.acceptances, inst.hires) == (2, 1, 1)


def test_ranking_follows_the_documented_formula(world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world)
    cards = _cards(world, program)
    ranked = sorted((c for c in cards.values() if c.rank), key=lambda c: c.rank)
    assert [c.organization_id for c in ranked] == [program.vendor_b, program.vendor_a]
    for card in ranked:
        parts = card.components
        total = sum(scorecard.WEIGHTS[k] for k in parts)
        expected = 100 * sum(scorecard.WEIGHTS[k] * v for k, v in parts.items()) / total
        assert card.award_score == pytest.approx(round(expected, 2))
        assert set(parts) <= set(scorecard.WEIGHTS)
    assert cards[program.vendor_b].components["fair_pay"] == 1.0
    assert cards[program.vendor_a].components["training"] == 1.0


def test_ties_share_a_rank() -> None:
    cards = [
        scorecard.Scorecard(i, f"o{i}", "vendor", PERIOD, True, award_score=s)
        for i, s in ((1, 80.0), (2, 90.0), (3, 80.0))
    ]
    scorecard._rank(cards)
    assert [c.rank for c in cards] == [2, 1, 2]


def test_who_reads_which_cards_and_csv(world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world, close=False)
    with world.db.read() as session:
        everyone = scorecard.scorecards_for(session, world.actor(program.auditor), PERIOD)
        own = scorecard.scorecards_for(session, world.actor(program.manager), PERIOD)
        assert not scorecard.may_read_scorecards(world.actor(program.fast))
    assert {c.organization_id for c in own} == {program.inst}
    assert {program.inst, program.vendor_a, program.vendor_b} <= {
        c.organization_id for c in everyone
    }
    rows = list(csv.DictReader(io.StringIO(scorecard.scorecards_csv(everyone))))
    assert rows[0].keys() == set(scorecard.CSV_COLUMNS)
    by_org = {int(r["organization_id"]): r for r in rows}
    assert by_org[program.vendor_a]["items"] == "8"
    assert by_org[program.inst]["award_score"] == ""


def test_csv_cells_cannot_become_formulas() -> None:
    card = scorecard.Scorecard(1, '=HYPERLINK("x")', "vendor", PERIOD, False)
    text = scorecard.scorecards_csv([card])
    assert "'=HYPERLINK" in text


def test_a_worker_may_not_browse_the_pool(world) -> None:  # type: ignore[no-untyped-def]
    program = build_program(world, close=False)
    with world.db.read() as session, pytest.raises(NotAllowed):
        talent.pool(session, world.actor(program.fast), secret=SECRET, field="general")


def test_gold_accuracy_comes_from_gold_answers(world) -> None:  # type: ignore[no-untyped-def]
    from datadam.storage.tables import Annotation, GoldAnswer

    program = build_program(world, close=False)
    with world.db.write() as session:
        for annotation_id, answer in (
            (program.annotations["fast"][0], "neutral"),  # what the worker answered
            (program.annotations["fast"][1], "positive"),
        ):
            row = session.get(Annotation, annotation_id)
            assert row is not None
            session.add(
                GoldAnswer(
                    item_id=row.item_id,
                    project_id=row.project_id,
                    answer={"sentiment": answer},
                    purpose="gold",
                )
            )
    a = _cards(world, program)[program.vendor_a]
    # fast's and slow's gold items were also answered by the other worker (overlap 3)
    assert a.gold_answers == 4
    assert a.gold_accuracy == pytest.approx(0.5)
