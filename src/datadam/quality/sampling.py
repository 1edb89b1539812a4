"""ISO 2859-1 single sampling plans by attributes: which items of a lot to inspect, and the verdict.

Pure: no database, settings, clock or web. The tables are data, typed as the standard prints them
(code letter rows × AQL columns, arrows as symbols), so a reviewer can hold each one against the
printed page line by line; `docs/sampling.md` names the sources and every cell we had to judge.

- Table I gives the sample-size code letter for a lot size and an inspection level.
- Tables II-A (normal), II-B (tightened) and II-C (reduced) give sample size, acceptance number Ac
  and rejection number Re for a code letter and an AQL. An arrow means "no plan here": ↓ use the
  first plan below it, ↑ the first above; the sample size then comes from the letter where the
  plan is found. When that sample size is at least the lot size, the whole lot is inspected.

Only the AQL columns 0.010 to 10 (percent nonconforming) are encoded. The columns 15 to 1000
(nonconformities per 100 items) are refused with an `InputError`: we could not establish every
cell of them from two sources, and a wrong plan is worse than none.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal, TypeVar

import numpy as np

from datadam.errors import InputError

Severity = Literal["normal", "tightened", "reduced"]
Verdict = Literal["accept", "reject"]
SEVERITIES: tuple[Severity, ...] = ("normal", "tightened", "reduced")
LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")

# The standard's preferred AQL series; the first sixteen (0.010 to 10) are the encoded columns.
AQL_SERIES: tuple[str, ...] = (
    "0.010",
    "0.015",
    "0.025",
    "0.040",
    "0.065",
    "0.10",
    "0.15",
    "0.25",
    "0.40",
    "0.65",
    "1.0",
    "1.5",
    "2.5",
    "4.0",
    "6.5",
    "10",
    "15",
    "25",
    "40",
    "65",
    "100",
    "150",
    "250",
    "400",
    "650",
    "1000",
)
ENCODED_AQLS = list(AQL_SERIES[:16])

# Table I: sample size code letters. Lot size range, then S-1 S-2 S-3 S-4 | I II III.
_TABLE_I = """
      2       8   A A A A   A A B
      9      15   A A A A   A B C
     16      25   A A B B   B C D
     26      50   A B B C   C D E
     51      90   B B C C   C E F
     91     150   B B C D   D F G
    151     280   B C D E   E G H
    281     500   B C D E   F H J
    501    1200   C C E F   G J K
   1201    3200   C D E G   H K L
   3201   10000   C D F G   J L M
  10001   35000   C D F H   K M N
  35001  150000   D E G J   L N P
 150001  500000   D E G J   M P Q
 500001       -   D E H K   N Q R
"""

# Sample size for each code letter, per severity (tightened adds S for one arrow of Table II-B).
_SAMPLE_SIZES = """
            A  B  C  D   E   F   G   H   J   K   L   M   N    P    Q    R    S
normal      2  3  5  8  13  20  32  50  80 125 200 315 500  800 1250 2000    -
tightened   2  3  5  8  13  20  32  50  80 125 200 315 500  800 1250 2000 3150
reduced     2  2  2  3   5   8  13  20  32  50  80 125 200  315  500  800    -
"""


def _parse_sample_sizes(text: str) -> dict[Severity, dict[str, int]]:
    header, *rows = text.strip("\n").splitlines()
    letters = header.split()
    sizes: dict[Severity, dict[str, int]] = {}
    for row, severity in zip(rows, SEVERITIES, strict=True):
        name, *cells = row.split()
        if name != severity:
            raise AssertionError(f"sample size rows out of order at {name}")
        sizes[severity] = {
            letter: int(cell) for letter, cell in zip(letters, cells, strict=True) if cell != "-"
        }
    return sizes


SAMPLE_SIZES = _parse_sample_sizes(_SAMPLE_SIZES)

# Cells: "Ac/Re", "↓" or "↑" (follow the arrow), "·" (no entry: the row exists only for one
# arrow), "?" (the printed cell could not be confirmed; refused, see docs/sampling.md).

# Table II-A: single sampling plans for normal inspection.
_TABLE_II_A = """
  0.010 0.015 0.025 0.040 0.065  0.10  0.15  0.25  0.40  0.65   1.0   1.5   2.5   4.0   6.5    10
A     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↓
B     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓
C     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2
D     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3
E     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4
F     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6
G     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8
H     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11
J     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15
K     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22
L     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑
M     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑
N     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑
P     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑
Q   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑
R     ↑     ?   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑
"""

# Table II-B: single sampling plans for tightened inspection (letter S = 3150 serves one arrow).
_TABLE_II_B = """
  0.010 0.015 0.025 0.040 0.065  0.10  0.15  0.25  0.40  0.65   1.0   1.5   2.5   4.0   6.5    10
A     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1
B     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑
C     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓
D     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2
E     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3
F     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4
G     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6
H     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   8/9
J     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   8/9 12/13
K     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   8/9 12/13 18/19
L     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ↑
M     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ↑     ↑
N     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ↑     ↑     ↑
P     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ↑     ↑     ↑     ↑
Q     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ↑     ↑     ↑     ↑     ↑
R   0/1     ↑     ↓   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ↑     ↑     ↑     ↑     ↑     ↑
S     ·     ·   1/2     ·     ·     ·     ·     ·     ·     ·     ·     ·     ·     ·     ·     ·
"""

# Table II-C: single sampling plans for reduced inspection, with the gap between Ac and Re of
# ISO 2859-1:1989 / MIL-STD-105E / ANSI/ASQ Z1.4 (ISO 2859-1:1999 closed it; see the docs).
_TABLE_II_C = """
  0.010 0.015 0.025 0.040 0.065  0.10  0.15  0.25  0.40  0.65   1.0   1.5   2.5   4.0   6.5    10
A     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↓
B     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓
C     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   0/2
D     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   0/2   1/3
E     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   0/2   1/3   1/4
F     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   0/2   1/3   1/4   2/5
G     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   0/2   1/3   1/4   2/5   3/6
H     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   0/2   1/3   1/4   2/5   3/6   5/8
J     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   0/2   1/3   1/4   2/5   3/6   5/8  7/10
K     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13
L     ↓     ↓     ↓     ↓   0/1     ↑     ↓   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ↑
M     ↓     ↓     ↓   0/1     ↑     ↓   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ↑     ↑
N     ↓     ↓   0/1     ↑     ↓   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ↑     ↑     ↑
P     ↓   0/1     ↑     ↓   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ↑     ↑     ↑     ↑
Q   0/1     ↑     ↓   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ↑     ↑     ↑     ↑     ↑
R     ↑     ?   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ↑     ↑     ↑     ↑     ↑     ↑
"""


def _parse_master(text: str) -> dict[str, tuple[str, ...]]:
    header, *rows = text.strip("\n").splitlines()
    if header.split() != ENCODED_AQLS:
        raise AssertionError("master table header does not match the encoded AQL columns")
    table = {}
    for row in rows:
        letter, *cells = row.split()
        if len(cells) != len(ENCODED_AQLS):
            raise AssertionError(f"master table row {letter} has {len(cells)} cells")
        table[letter] = tuple(cells)
    return table


MASTER_TABLES: dict[Severity, dict[str, tuple[str, ...]]] = {
    "normal": _parse_master(_TABLE_II_A),
    "tightened": _parse_master(_TABLE_II_B),
    "reduced": _parse_master(_TABLE_II_C),
}


def _parse_table_i(text: str) -> list[tuple[int, int | None, dict[str, str]]]:
    ranges = []
    for row in text.strip("\n").splitlines():
        low, high, *letters = row.split()
        ranges.append(
            (int(low), None if high == "-" else int(high), dict(zip(LEVELS, letters, strict=True)))
        )
    return ranges


CODE_LETTER_RANGES = _parse_table_i(_TABLE_I)


@dataclass(frozen=True)
class SamplingPlan:
    """One lot's plan. `sample_size` is how many items to inspect: the whole lot when `whole_lot`.

    `code_letter` is Table I's letter for the lot; `letter_after_arrows` the row where the plan
    was found (its sample size is `table_sample_size`). `aql` is the standard's column label.
    """

    code_letter: str
    sample_size: int
    accept: int
    reject: int
    whole_lot: bool
    letter_after_arrows: str
    severity: Severity
    level: str
    aql: str
    lot_size: int
    table_sample_size: int

    def as_dict(self) -> dict[str, object]:
        return {
            "code_letter": self.code_letter,
            "sample_size": self.sample_size,
            "accept": self.accept,
            "reject": self.reject,
            "whole_lot": self.whole_lot,
            "letter_after_arrows": self.letter_after_arrows,
            "table_sample_size": self.table_sample_size,
            "lot_size": self.lot_size,
            "severity": self.severity,
            "level": self.level,
            "aql": float(self.aql),
        }


def normalize_level(level: str) -> str:
    """'II', 'ii', 'S-2', 's2' → the standard's spelling; anything else is an `InputError`."""
    text = str(level).strip().upper().replace(" ", "")
    if len(text) == 2 and text[0] == "S" and text[1].isdigit():
        text = f"S-{text[1]}"
    if text not in LEVELS:
        raise InputError(
            f"unknown inspection level {level!r}; choose one of {', '.join(LEVELS)}", field="level"
        )
    return text


def normalize_aql(aql: str | float | Decimal) -> str:
    """Map 1, 1.0, '1.00' → '1.0': the column label of the standard's preferred AQL series."""
    try:
        value = Decimal(str(aql).strip())
    except InvalidOperation:
        value = None
    for label in AQL_SERIES:
        if value is not None and value.is_finite() and Decimal(label) == value:
            if label not in ENCODED_AQLS:
                raise InputError(
                    f"AQL {label} (nonconformities per 100 items) is not supported: only the "
                    f"columns {ENCODED_AQLS[0]} to {ENCODED_AQLS[-1]} of the standard's tables "
                    "are encoded",
                    field="aql",
                )
            return label
    raise InputError(
        f"AQL {aql!r} is not in the standard's preferred series ({', '.join(ENCODED_AQLS)})",
        field="aql",
    )


def _check_severity(severity: str) -> Severity:
    for known in SEVERITIES:
        if severity == known:
            return known
    raise InputError(
        f"unknown severity {severity!r}; choose one of {', '.join(SEVERITIES)}", field="severity"
    )


def code_letter(lot_size: int, level: str) -> str:
    """Table I: the sample-size code letter for a lot of `lot_size` items at `level`."""
    if isinstance(lot_size, bool) or not isinstance(lot_size, int):
        raise InputError(f"lot size must be a whole number, not {lot_size!r}", field="lot_size")
    if lot_size < 2:
        raise InputError(f"lot size must be at least 2, not {lot_size}", field="lot_size")
    level = normalize_level(level)
    for low, high, letters in CODE_LETTER_RANGES:
        if low <= lot_size and (high is None or lot_size <= high):
            return letters[level]
    raise AssertionError("Table I covers every lot size from 2")  # pragma: no cover


def find_plan(letter: str, aql: str, severity: Severity) -> tuple[str, int, int]:
    """Follow the arrows from (letter, aql) in the severity's master table.

    Returns the letter where the plan is found, with Ac and Re.
    """
    table = MASTER_TABLES[severity]
    letters = list(table)
    column = ENCODED_AQLS.index(aql)
    row = letters.index(letter)
    while 0 <= row < len(letters):
        cell = table[letters[row]][column]
        if cell == "↓":
            row += 1
        elif cell == "↑":
            row -= 1
        elif "/" in cell:
            accept, reject = (int(part) for part in cell.split("/"))
            return letters[row], accept, reject
        else:
            break
    raise InputError(
        f"no plan for code letter {letter} at AQL {aql} under {severity} inspection: the "
        "standard's arrow at this edge of the table could not be confirmed, so it is refused "
        "rather than guessed (see docs/sampling.md)",
        field="aql",
    )


def plan(
    lot_size: int, level: str, aql: str | float | Decimal, severity: str = "normal"
) -> SamplingPlan:
    """The ISO 2859-1 single sampling plan for one lot.

    Raises `InputError` for a lot size under 2, an unknown level or severity, or an AQL outside
    the preferred series (or in its unsupported columns 15 to 1000).
    """
    checked = _check_severity(severity)
    letter = code_letter(lot_size, level)
    label = normalize_aql(aql)
    found, accept, reject = find_plan(letter, label, checked)
    table_n = SAMPLE_SIZES[checked][found]
    whole_lot = table_n >= lot_size
    return SamplingPlan(
        code_letter=letter,
        sample_size=lot_size if whole_lot else table_n,
        accept=accept,
        reject=reject,
        whole_lot=whole_lot,
        letter_after_arrows=found,
        severity=checked,
        level=normalize_level(level),
        aql=label,
        lot_size=lot_size,
        table_sample_size=table_n,
    )


def tighter_acceptance_number(p: SamplingPlan) -> int | None:
    """Ac of the normal plan one AQL step tighter in the same row (ISO 2859-1:1999, 9.3.3).

    The switching score asks whether the lot "would have been accepted had the AQL been one step
    tighter"; the same sample is judged against that column's Ac. None where that cell has no
    plan (only possible when the plan's own Ac is 0 or 1, where the rule is not used).
    """
    column = ENCODED_AQLS.index(p.aql)
    if column == 0:
        return None
    cell = MASTER_TABLES["normal"][p.letter_after_arrows][column - 1]
    if "/" not in cell:
        return None
    return int(cell.split("/")[0])


def judge(nonconforming: int, p: SamplingPlan) -> Verdict:
    """Accept when the sample's nonconforming count is at most Ac, reject at Re or more.

    Under reduced inspection a count strictly between Ac and Re accepts the lot, but
    `datadam.quality.switching` then reinstates normal inspection.
    """
    if isinstance(nonconforming, bool) or not isinstance(nonconforming, int):
        raise InputError(f"nonconforming must be a whole number, not {nonconforming!r}")
    if not 0 <= nonconforming <= p.sample_size:
        raise InputError(
            f"nonconforming must be between 0 and the sample size {p.sample_size}, "
            f"not {nonconforming}",
            field="nonconforming",
        )
    return "reject" if nonconforming >= p.reject else "accept"


ItemId = TypeVar("ItemId", bound=Hashable)


def draw_sample(item_ids: Sequence[ItemId], n: int, seed: int) -> list[ItemId]:
    """Draw `n` distinct items without replacement, reproducibly, returned sorted.

    Uses `numpy.random.default_rng(seed)`: the same ids in the same order with the same seed and
    the same NumPy give the same sample, so callers must record the seed with the lot. The input
    order matters (it is the population's order); sorting the result only makes it readable.
    """
    ids = list(item_ids)
    if len(set(ids)) != len(ids):
        raise InputError("item ids must be distinct", field="item_ids")
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= len(ids):
        raise InputError(
            f"sample size must be between 0 and the lot size {len(ids)}, not {n!r}", field="n"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a non-negative whole number, not {seed!r}", field="seed")
    picked = np.random.default_rng(seed).choice(len(ids), size=n, replace=False)
    return sorted(ids[int(i)] for i in picked)  # type: ignore[type-var]
