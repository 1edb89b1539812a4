"""ISO 2859-1 plans against the standard's published values, and the tables' printed structure.

Each expected plan is written by hand from the printed tables (Table I, then II-A/II-B/II-C with
the arrows followed), not computed. Tags say where a value is independently confirmed:
[issue] the facts listed in issue 6's brief; [PLOS] Jenkins, Peck & Fernando (PLOS, 2023),
operating characteristic figure for lots of 35,001-500,000 under ISO 2859-1:1999 normal
inspection; [Table] read off the table only.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datadam.errors import InputError
from datadam.quality.sampling import (
    ENCODED_AQLS,
    LEVELS,
    MASTER_TABLES,
    SAMPLE_SIZES,
    code_letter,
    plan,
)

# (lot size, level, AQL, severity) -> (code letter, letter after arrows, n inspected, Ac, Re)
PUBLISHED = [
    # normal, Table II-A
    ((1000, "II", "1.0", "normal"), ("J", "J", 80, 2, 3)),  # [issue]
    ((1000, "II", "2.5", "normal"), ("J", "J", 80, 5, 6)),  # [issue]
    ((1000, "II", "4.0", "normal"), ("J", "J", 80, 7, 8)),  # [issue]
    ((5000, "II", "2.5", "normal"), ("L", "L", 200, 10, 11)),  # [issue]
    ((5000, "II", "0.65", "normal"), ("L", "L", 200, 3, 4)),  # [issue]
    ((20, "II", "4.0", "normal"), ("C", "B", 3, 0, 1)),  # [issue] ↑
    ((20, "II", "6.5", "normal"), ("C", "D", 8, 1, 2)),  # [issue] ↓
    ((100_000, "S-4", "0.65", "normal"), ("J", "J", 80, 1, 2)),  # [PLOS]
    ((100_000, "S-3", "0.65", "normal"), ("G", "F", 20, 0, 1)),  # [PLOS] ↑
    ((400_000, "S-4", "0.40", "normal"), ("J", "K", 125, 1, 2)),  # [PLOS] ↓
    ((400_000, "S-3", "0.40", "normal"), ("G", "G", 32, 0, 1)),  # [PLOS]
    ((100_000, "S-4", "0.25", "normal"), ("J", "H", 50, 0, 1)),  # [PLOS] ↑
    ((100_000, "S-4", "0.15", "normal"), ("J", "J", 80, 0, 1)),  # [PLOS]
    ((500, "I", "1.0", "normal"), ("F", "E", 13, 0, 1)),  # [Table] ↑
    ((500, "III", "1.0", "normal"), ("J", "J", 80, 2, 3)),  # [Table]
    ((50_000, "II", "0.065", "normal"), ("N", "P", 800, 1, 2)),  # [Table] ↓
    ((50_000, "III", "0.10", "normal"), ("P", "P", 800, 2, 3)),  # [Table]
    ((200, "S-1", "6.5", "normal"), ("B", "A", 2, 0, 1)),  # [Table] ↑
    ((200, "S-2", "10", "normal"), ("C", "C", 5, 1, 2)),  # [Table]
    ((10_000, "I", "1.5", "normal"), ("J", "J", 80, 3, 4)),  # [Table]
    ((10_000, "II", "10", "normal"), ("L", "K", 125, 21, 22)),  # [Table] ↑ past 21/22
    ((1000, "II", "10", "normal"), ("J", "J", 80, 14, 15)),  # [Table]
    ((90, "II", "0.25", "normal"), ("E", "H", 50, 0, 1)),  # [Table] long ↓
    ((60, "II", "0.10", "normal"), ("E", "K", 60, 0, 1)),  # [Table] ↓ to n=125 ≥ lot: 100 %
    ((20, "II", "0.065", "normal"), ("C", "L", 20, 0, 1)),  # [Table] ↓ to n=200 ≥ lot: 100 %
    ((4, "II", "10", "normal"), ("A", "C", 4, 1, 2)),  # [Table] top edge A at 10 is ↓: 100 %
    ((8, "II", "6.5", "normal"), ("A", "A", 2, 0, 1)),  # [Table]
    # tightened, Table II-B
    ((1000, "II", "1.0", "tightened"), ("J", "J", 80, 1, 2)),  # [Table]
    ((1000, "II", "2.5", "tightened"), ("J", "J", 80, 3, 4)),  # [Table]
    ((1000, "II", "4.0", "tightened"), ("J", "J", 80, 5, 6)),  # [Table]
    ((1000, "II", "6.5", "tightened"), ("J", "J", 80, 8, 9)),  # [Table]
    ((1000, "II", "10", "tightened"), ("J", "J", 80, 12, 13)),  # [Table]
    ((5000, "II", "10", "tightened"), ("L", "K", 125, 18, 19)),  # [Table] ↑ past 18/19
    ((1000, "II", "0.65", "tightened"), ("J", "K", 125, 1, 2)),  # [Table] ↓
    ((1000, "II", "0.40", "tightened"), ("J", "H", 50, 0, 1)),  # [Table] ↑
    ((600_000, "III", "0.025", "tightened"), ("R", "S", 3150, 1, 2)),  # [Table] ↓ to S
    ((600_000, "III", "0.010", "tightened"), ("R", "R", 2000, 0, 1)),  # [Table]
    ((20, "II", "10", "tightened"), ("C", "D", 8, 1, 2)),  # [Table] ↓
    ((10, "II", "10", "tightened"), ("B", "A", 2, 0, 1)),  # [Table] ↑
    ((150, "S-4", "0.065", "tightened"), ("D", "M", 150, 0, 1)),  # [Table] ↓ to n=315: 100 %
    # reduced, Table II-C (1989 edition's gap between Ac and Re)
    ((1000, "II", "1.0", "reduced"), ("J", "J", 32, 1, 3)),  # [Table]
    ((1000, "II", "2.5", "reduced"), ("J", "J", 32, 2, 5)),  # [Table]
    ((2000, "II", "1.0", "reduced"), ("K", "K", 50, 1, 4)),  # [Table]
    ((1000, "II", "0.65", "reduced"), ("J", "J", 32, 0, 2)),  # [Table]
    ((1000, "II", "0.40", "reduced"), ("J", "K", 50, 0, 2)),  # [Table] ↓
    ((1000, "II", "0.25", "reduced"), ("J", "H", 20, 0, 1)),  # [Table] ↑
    ((5000, "II", "6.5", "reduced"), ("L", "L", 80, 10, 13)),  # [Table]
    ((20, "II", "10", "reduced"), ("C", "C", 2, 0, 2)),  # [Table]
    ((3000, "III", "4.0", "reduced"), ("L", "L", 80, 7, 10)),  # [Table]
    ((2, "II", "1.0", "reduced"), ("A", "E", 2, 0, 1)),  # [Table] ↓ to n=5 ≥ lot: 100 %
]


@pytest.mark.parametrize(("args", "expected"), PUBLISHED, ids=lambda v: str(v))
def test_plan_matches_the_published_tables(args, expected) -> None:  # type: ignore[no-untyped-def]
    lot_size, level, aql, severity = args
    letter, found, n, accept, reject = expected
    p = plan(lot_size, level, aql, severity)
    assert (p.code_letter, p.letter_after_arrows, p.sample_size, p.accept, p.reject) == (
        letter,
        found,
        n,
        accept,
        reject,
    )
    assert p.whole_lot == (n == lot_size and SAMPLE_SIZES[severity][found] >= lot_size)
    assert p.table_sample_size == SAMPLE_SIZES[severity][found]


def test_published_cases_cover_levels_aqls_and_severities() -> None:
    cases = [args for args, _ in PUBLISHED]
    assert len(cases) >= 40
    assert {level for _, level, _, _ in cases} == set(LEVELS)
    assert {sev for *_, sev in cases} == {"normal", "tightened", "reduced"}
    aqls = {aql for _, _, aql, _ in cases}
    assert {"0.065", "0.10", "0.25", "0.65", "1.0", "2.5", "4.0", "6.5", "10"} <= aqls


def test_whole_lot_is_stated() -> None:
    p = plan(60, "II", "0.10")
    assert p.whole_lot and p.sample_size == 60 and p.table_sample_size == 125
    assert p.as_dict()["whole_lot"] is True
    assert not plan(1000, "II", "1.0").whole_lot


@pytest.mark.parametrize(
    ("lot_size", "level", "letter"),
    [
        (2, "S-1", "A"),
        (8, "III", "B"),
        (9, "II", "B"),
        (15, "III", "C"),
        (16, "S-3", "B"),
        (50, "S-2", "B"),
        (51, "S-1", "B"),
        (150, "S-4", "D"),
        (280, "II", "G"),
        (281, "I", "F"),
        (1200, "II", "J"),
        (1201, "II", "K"),
        (3200, "S-4", "G"),
        (35_000, "S-4", "H"),
        (35_001, "S-3", "G"),
        (150_000, "I", "L"),
        (500_000, "III", "Q"),
        (500_001, "S-1", "D"),
        (10**9, "III", "R"),
        (10**9, "S-3", "H"),
    ],
)
def test_table_i_code_letters(lot_size: int, level: str, letter: str) -> None:
    assert code_letter(lot_size, level) == letter


def test_level_and_aql_spellings() -> None:
    assert plan(1000, "ii", 1).aql == "1.0"
    assert plan(1000, "s4", "0.4").level == "S-4"
    assert plan(1000, "II", 0.1).aql == "0.10"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1, "II", "1.0"), "at least 2"),
        ((0, "II", "1.0"), "at least 2"),
        ((100, "IV", "1.0"), "unknown inspection level"),
        ((100, "II", "0.3"), "preferred series"),
        ((100, "II", "abc"), "preferred series"),
        ((100, "II", "15"), "not supported"),
        ((100, "II", "1000"), "not supported"),
        ((100, "II", "1.0", "loose"), "unknown severity"),
        ((600_000, "III", "0.015"), "could not be confirmed"),
        ((600_000, "III", "0.015", "reduced"), "could not be confirmed"),
    ],
)
def test_bad_input_is_an_input_error(args: tuple, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InputError, match=message):
        plan(*args)


# --- the printed structure, as properties of the data -------------------------------------

NORMAL_SEQUENCE = ["1/2", "2/3", "3/4", "5/6", "7/8", "10/11", "14/15", "21/22"]
EDGES = {
    "normal": {("A", 15), ("R", 1)},
    "tightened": {("S", k) for k in range(16)},
    "reduced": {("A", 15), ("R", 1)},
}


@pytest.mark.parametrize("severity", ["normal", "tightened", "reduced"])
def test_one_letter_down_one_column_left_keeps_the_cell(severity: str) -> None:
    table = MASTER_TABLES[severity]  # type: ignore[index]
    letters = list(table)
    for row, letter in enumerate(letters[:-1]):
        below = letters[row + 1]
        for k in range(1, len(ENCODED_AQLS)):
            if (letter, k) in EDGES[severity] or (below, k - 1) in EDGES[severity]:
                continue
            assert table[below][k - 1] == table[letter][k], (severity, letter, k)


def test_normal_table_matches_the_issue_facts() -> None:
    table = MASTER_TABLES["normal"]
    assert list(SAMPLE_SIZES["normal"].values()) == [
        2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000,
    ]  # fmt: skip
    for index, letter in enumerate(table):
        for k, cell in enumerate(table[letter]):
            s = index + k
            if (letter, k) in EDGES["normal"]:
                continue
            if s <= 13 or s == 16:
                assert cell == "↓", (letter, k)
            elif s == 14:
                assert cell == "0/1", (letter, k)
            elif s == 15 or s >= 25:
                assert cell == "↑", (letter, k)
            else:
                assert cell == NORMAL_SEQUENCE[s - 17], (letter, k)
    # The standard's top-row edge: A at AQL 10 would be ↑ with nothing above; it points down.
    assert table["A"][15] == "↓"


def test_tightened_and_reduced_sizes_and_pairs() -> None:
    assert SAMPLE_SIZES["tightened"]["S"] == 3150
    assert {k: v for k, v in SAMPLE_SIZES["tightened"].items() if k != "S"} == SAMPLE_SIZES[
        "normal"
    ]
    assert list(SAMPLE_SIZES["reduced"].values()) == [
        2, 2, 2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800,
    ]  # fmt: skip
    pairs = {c for row in MASTER_TABLES["reduced"].values() for c in row if "/" in c}
    assert pairs == {"0/1", "0/2", "1/3", "1/4", "2/5", "3/6", "5/8", "7/10", "10/13"}
    tight = {c for row in MASTER_TABLES["tightened"].values() for c in row if "/" in c}
    assert tight == {"0/1", "1/2", "2/3", "3/4", "5/6", "8/9", "12/13", "18/19"}
    assert [c for c in MASTER_TABLES["tightened"]["S"] if c != "·"] == ["1/2"]


lots = st.integers(min_value=2, max_value=2_000_000)
levels = st.sampled_from(LEVELS)
aqls = st.sampled_from(ENCODED_AQLS)


def _plan_or_none(lot_size: int, level: str, aql: str, severity: str):  # type: ignore[no-untyped-def]
    try:
        return plan(lot_size, level, aql, severity)
    except InputError:
        return None


@given(lots, levels, aqls)
def test_every_plan_is_well_formed_and_tightened_is_never_looser(
    lot_size: int, level: str, aql: str
) -> None:
    normal = _plan_or_none(lot_size, level, aql, "normal")
    tightened = _plan_or_none(lot_size, level, aql, "tightened")
    reduced = _plan_or_none(lot_size, level, aql, "reduced")
    assert tightened is not None
    for p in (normal, tightened, reduced):
        if p is None:
            continue
        assert 0 <= p.accept < p.reject
        assert 1 <= p.sample_size <= lot_size
        assert p.whole_lot == (p.table_sample_size >= lot_size)
    if normal is not None and normal.letter_after_arrows == tightened.letter_after_arrows:
        assert tightened.accept <= normal.accept
    if normal is not None and reduced is not None:
        assert reduced.table_sample_size <= normal.table_sample_size
