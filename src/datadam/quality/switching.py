"""ISO 2859-1 switching rules (clause 9) between normal, tightened and reduced inspection.

A pure state machine: `record_lot(state, lot)` takes the state before a lot and that lot's
result on original inspection (resubmitted lots are never recorded here) and returns the state
for the next lot with the reason for any switch. `replay(lots)` folds a whole history. No clock,
no storage: the caller keeps the state (or the history) per project.

The rules, as the standard states them:

- Inspection starts normal (9.1).
- Normal → tightened when 2 of 5 or fewer consecutive lots are not accepted (9.3.1).
- Tightened → normal after 5 consecutive lots are accepted (9.3.2).
- Normal → reduced when the switching score reaches 30, production is at a steady rate and the
  responsible authority approves reduced inspection (9.3.3, ISO 2859-1:1999). The score starts at
  0 when normal inspection starts and, after each normal lot with a single sampling plan: when
  Ac ≥ 2, add 3 if the lot would have been accepted with the AQL one step tighter, else reset to
  0; when Ac is 0 or 1, add 2 if the lot is accepted, else reset to 0.
- Reduced → normal when a lot is not accepted, when production becomes irregular or delayed, or
  (with the reduced plans' gap between Ac and Re, see `sampling.py`) when the number
  nonconforming is above Ac but below Re: that lot is accepted, but normal inspection resumes.
- Discontinue when the cumulative number of lots not accepted in one spell of tightened
  inspection reaches 5 (9.4); inspection resumes, tightened, only after corrective action
  (`resume_after_corrective_action`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from datadam.errors import InputError
from datadam.quality.sampling import SamplingPlan, Verdict, judge, tighter_acceptance_number

State = Literal["normal", "tightened", "reduced", "discontinued"]

TIGHTEN_AFTER_REJECTIONS = 2
TIGHTEN_WINDOW = 5
RELAX_AFTER_ACCEPTED = 5
REDUCED_SCORE = 30
DISCONTINUE_AFTER_REJECTIONS = 5


@dataclass(frozen=True)
class LotResult:
    """One lot's original inspection: the plan used and the nonconforming items in its sample.

    `production_steady` and `reduced_approved` are the conditions at the time of this lot
    (9.3.3 c and d; 9.3.4 b); both are facts the platform cannot infer and the manager records.
    """

    plan: SamplingPlan
    nonconforming: int
    production_steady: bool = True
    reduced_approved: bool = False


@dataclass(frozen=True)
class SwitchingState:
    """Where a project stands before its next lot.

    `recent_normal` holds the verdicts (True = accepted) of the last lots, at most 5, since
    normal inspection last started; the tightened counters cover the current tightened spell.
    """

    severity: State = "normal"
    switching_score: int = 0
    recent_normal: tuple[bool, ...] = ()
    tightened_accepted_run: int = 0
    tightened_rejections: int = 0


@dataclass(frozen=True)
class Step:
    """The outcome of one lot: its verdict, the state for the next lot and why it changed."""

    verdict: Verdict
    state: SwitchingState
    switched: bool
    reason: str


def initial_state() -> SwitchingState:
    """Normal inspection with a switching score of 0 (9.1)."""
    return SwitchingState()


def _start_normal() -> SwitchingState:
    return SwitchingState(severity="normal")


def _start_tightened() -> SwitchingState:
    return SwitchingState(severity="tightened")


def _next_score(score: int, lot: LotResult, accepted: bool) -> int:
    plan = lot.plan
    if plan.accept >= 2:
        tighter = tighter_acceptance_number(plan)
        would_accept = tighter is not None and lot.nonconforming <= tighter
        return score + 3 if accepted and would_accept else 0
    return score + 2 if accepted else 0


def _normal(state: SwitchingState, lot: LotResult, verdict: Verdict) -> Step:
    accepted = verdict == "accept"
    recent = (*state.recent_normal, accepted)[-TIGHTEN_WINDOW:]
    if recent.count(False) >= TIGHTEN_AFTER_REJECTIONS:
        reason = f"{recent.count(False)} of the last {len(recent)} lots not accepted"
        return Step(verdict, _start_tightened(), True, f"normal → tightened: {reason}")
    score = _next_score(state.switching_score, lot, accepted)
    if score >= REDUCED_SCORE and lot.production_steady and lot.reduced_approved:
        reason = f"switching score {score}, production steady, reduced inspection approved"
        return Step(
            verdict, SwitchingState(severity="reduced"), True, f"normal → reduced: {reason}"
        )
    kept = replace(state, switching_score=score, recent_normal=recent)
    return Step(verdict, kept, False, f"normal (switching score {score})")


def _tightened(state: SwitchingState, verdict: Verdict) -> Step:
    if verdict == "accept":
        run = state.tightened_accepted_run + 1
        if run >= RELAX_AFTER_ACCEPTED:
            reason = f"{run} consecutive lots accepted"
            return Step(verdict, _start_normal(), True, f"tightened → normal: {reason}")
        kept = replace(state, tightened_accepted_run=run)
        return Step(verdict, kept, False, f"tightened ({run} consecutive accepted)")
    rejections = state.tightened_rejections + 1
    if rejections >= DISCONTINUE_AFTER_REJECTIONS:
        stopped = SwitchingState(severity="discontinued")
        reason = f"{rejections} lots not accepted on tightened inspection; corrective action needed"
        return Step(verdict, stopped, True, f"tightened → discontinued: {reason}")
    kept = replace(state, tightened_accepted_run=0, tightened_rejections=rejections)
    return Step(verdict, kept, False, f"tightened ({rejections} not accepted so far)")


def _reduced(lot: LotResult, verdict: Verdict) -> Step:
    if verdict == "reject":
        return Step(verdict, _start_normal(), True, "reduced → normal: lot not accepted")
    if lot.nonconforming > lot.plan.accept:
        reason = "nonconforming between Ac and Re: lot accepted, normal inspection reinstated"
        return Step(verdict, _start_normal(), True, f"reduced → normal: {reason}")
    if not lot.production_steady:
        return Step(verdict, _start_normal(), True, "reduced → normal: production irregular")
    return Step(verdict, SwitchingState(severity="reduced"), False, "reduced")


def record_lot(state: SwitchingState, lot: LotResult) -> Step:
    """Judge one lot under the current severity and apply the switching rules."""
    if state.severity == "discontinued":
        raise InputError(
            "inspection is discontinued after 5 lots not accepted on tightened inspection; "
            "record corrective action before inspecting further lots",
            code="inspection_discontinued",
        )
    if lot.plan.severity != state.severity:
        raise InputError(
            f"the lot was inspected with a {lot.plan.severity} plan, but {state.severity} "
            "inspection is in effect",
            field="plan",
        )
    verdict = judge(lot.nonconforming, lot.plan)
    if state.severity == "normal":
        return _normal(state, lot, verdict)
    if state.severity == "tightened":
        return _tightened(state, verdict)
    return _reduced(lot, verdict)


def resume_after_corrective_action(state: SwitchingState) -> SwitchingState:
    """After discontinuation and corrective action, inspection resumes on tightened (9.4)."""
    if state.severity != "discontinued":
        raise InputError(f"inspection is {state.severity}, not discontinued")
    return _start_tightened()


def replay(lots: Iterable[LotResult], state: SwitchingState | None = None) -> list[Step]:
    """Fold `record_lot` over a history of lots; each step holds the state for the next lot."""
    steps: list[Step] = []
    current = state or initial_state()
    for lot in lots:
        step = record_lot(current, lot)
        steps.append(step)
        current = step.state
    return steps
