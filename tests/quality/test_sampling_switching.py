"""ISO 2859-1 clause 9 switching between normal, tightened and reduced inspection."""

from __future__ import annotations

import pytest

from datadam.errors import InputError
from datadam.quality.sampling import plan
from datadam.quality.switching import (
    LotResult,
    SwitchingState,
    initial_state,
    record_lot,
    replay,
    resume_after_corrective_action,
)

NORMAL = plan(1000, "II", "1.0")  # n=80, Ac 2, Re 3; one step tighter (0.65) is Ac 1
NORMAL_AC0 = plan(1000, "II", "0.15")  # n=80, Ac 0, Re 1
TIGHTENED = plan(1000, "II", "1.0", "tightened")  # n=80, Ac 1, Re 2
REDUCED = plan(1000, "II", "2.5", "reduced")  # n=32, Ac 2, Re 5


def ok(p=NORMAL, d: int = 0, **kw: bool) -> LotResult:  # type: ignore[no-untyped-def]
    return LotResult(plan=p, nonconforming=d, **kw)


def bad(p=NORMAL) -> LotResult:  # type: ignore[no-untyped-def]
    return LotResult(plan=p, nonconforming=p.reject)


def severities(steps) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.state.severity for s in steps]


def test_starts_normal() -> None:
    assert initial_state() == SwitchingState(severity="normal", switching_score=0)


def test_two_of_five_not_accepted_tightens() -> None:
    steps = replay([ok(), bad(), ok(), ok(), bad()])
    assert severities(steps) == ["normal"] * 4 + ["tightened"]
    assert steps[-1].switched and "2 of the last 5" in steps[-1].reason


def test_two_consecutive_not_accepted_tighten_at_once() -> None:
    assert severities(replay([bad(), bad()])) == ["normal", "tightened"]


def test_rejections_six_lots_apart_do_not_tighten() -> None:
    steps = replay([bad(), ok(), ok(), ok(), ok(), bad()])
    assert severities(steps) == ["normal"] * 6


def test_five_consecutive_accepted_on_tightened_restore_normal() -> None:
    start = replay([bad(), bad()])[-1].state
    steps = replay([ok(TIGHTENED)] * 4 + [ok(TIGHTENED)], start)
    assert severities(steps) == ["tightened"] * 4 + ["normal"]
    assert steps[-1].state.switching_score == 0


def test_a_rejection_on_tightened_restarts_the_run() -> None:
    start = replay([bad(), bad()])[-1].state
    lots = [ok(TIGHTENED)] * 4 + [bad(TIGHTENED)] + [ok(TIGHTENED)] * 4
    assert severities(replay(lots, start))[-1] == "tightened"


def test_five_not_accepted_on_tightened_discontinue_and_resume_tightened() -> None:
    start = replay([bad(), bad()])[-1].state
    lots = [bad(TIGHTENED), ok(TIGHTENED), bad(TIGHTENED), bad(TIGHTENED), ok(TIGHTENED)]
    lots += [bad(TIGHTENED), bad(TIGHTENED)]
    steps = replay(lots, start)
    assert severities(steps)[-2:] == ["tightened", "discontinued"]
    with pytest.raises(InputError, match="discontinued"):
        record_lot(steps[-1].state, ok(TIGHTENED))
    assert resume_after_corrective_action(steps[-1].state).severity == "tightened"
    with pytest.raises(InputError):
        resume_after_corrective_action(initial_state())


def test_switching_score_for_ac_two_or_more() -> None:
    # Ac 2: +3 only if accepted at the AQL one step tighter (Ac 1), else reset to 0.
    steps = replay([ok(d=0), ok(d=1), ok(d=2), ok(d=1)])
    assert [s.state.switching_score for s in steps] == [3, 6, 0, 3]


def test_switching_score_for_ac_zero_or_one() -> None:
    steps = replay([ok(NORMAL_AC0), ok(NORMAL_AC0), bad(NORMAL_AC0), ok(NORMAL_AC0)])
    assert [s.state.switching_score for s in steps] == [2, 4, 0, 2]


def test_reduced_needs_score_30_steady_production_and_approval() -> None:
    steps = replay([ok()] * 10)
    assert steps[-1].state.severity == "normal" and steps[-1].state.switching_score == 30
    approved = record_lot(steps[-1].state, ok(reduced_approved=True, production_steady=False))
    assert approved.state.severity == "normal"
    steps = replay([ok()] * 9 + [ok(reduced_approved=True)])
    assert severities(steps)[-1] == "reduced" and "switching score 30" in steps[-1].reason


def reduced_state() -> SwitchingState:
    return replay([ok()] * 9 + [ok(reduced_approved=True)])[-1].state


def test_reduced_stays_while_lots_pass() -> None:
    assert severities(replay([ok(REDUCED, d=2)] * 3, reduced_state())) == ["reduced"] * 3


def test_reduced_to_normal_on_rejection() -> None:
    step = record_lot(reduced_state(), bad(REDUCED))
    assert (step.verdict, step.state.severity) == ("reject", "normal")


@pytest.mark.parametrize("d", [3, 4])
def test_reduced_between_ac_and_re_accepts_but_reinstates_normal(d: int) -> None:
    step = record_lot(reduced_state(), ok(REDUCED, d=d))
    assert (step.verdict, step.state.severity) == ("accept", "normal")
    assert "between Ac and Re" in step.reason


def test_reduced_to_normal_when_production_irregular() -> None:
    step = record_lot(reduced_state(), ok(REDUCED, production_steady=False))
    assert (step.verdict, step.state.severity) == ("accept", "normal")


def test_plan_must_match_the_severity_in_effect() -> None:
    with pytest.raises(InputError, match="tightened plan"):
        record_lot(initial_state(), ok(TIGHTENED))


def test_pure_replay_is_deterministic() -> None:
    lots = [ok(), bad(), ok(d=1), bad()] + [ok(TIGHTENED)] * 5 + [ok()] * 3
    assert replay(lots) == replay(lots)
    assert severities(replay(lots))[3] == "tightened"
    assert severities(replay(lots))[8] == "normal"
