"""Reading label and gold CSV files, with errors that say what is wrong and where."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from datadam.aggregation.answers import Answers

LABEL_COLUMNS = ("task", "worker", "label")
GOLD_COLUMNS = ("task", "label")


class LabelFileError(Exception):
    """A label or gold file that cannot be used; the message names the file and the problem
    (and the line, for a bad row), fit to print on one line."""


def _read_rows(path: str | Path, columns: Sequence[str]) -> list[list[str]]:
    """Rows of `columns` from a CSV file with a header; blank lines are skipped.

    The header must name every column in `columns` (any order, case and surrounding spaces
    ignored; extra columns are ignored). Every row needs a non-empty value for each of them.
    """
    p = Path(path)
    if not p.exists():
        raise LabelFileError(f"{p}: no such file")
    if not p.is_file():
        raise LabelFileError(f"{p}: not a file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise LabelFileError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if not raw.strip():
        raise LabelFileError(f"{p}: empty file, expected a header {','.join(columns)}")
    if b"\x00" in raw:
        raise LabelFileError(f"{p}: not a CSV text file (binary content)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LabelFileError(
            f"{p}: not a UTF-8 CSV file (undecodable byte at offset {exc.start})"
        ) from None
    reader = csv.reader(text.splitlines())
    try:
        header = next(reader)
        while not header:
            header = next(reader)
    except StopIteration:
        raise LabelFileError(f"{p}: empty file, expected a header {','.join(columns)}") from None
    except csv.Error as exc:
        raise LabelFileError(f"{p}: not a valid CSV file ({exc})") from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in columns if c not in names]
    if missing:
        shown = ",".join(header)[:80]
        raise LabelFileError(f"{p}: line 1: header must be {','.join(columns)}, got {shown!r}")
    pos = [names.index(c) for c in columns]
    width = len(header)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if not row:
                continue
            if len(row) != width:
                raise LabelFileError(
                    f"{p}: line {reader.line_num}: expected {width} fields, got {len(row)}"
                )
            values = [row[i].strip() for i in pos]
            if not all(values):
                empty = columns[[bool(v) for v in values].index(False)]
                raise LabelFileError(f"{p}: line {reader.line_num}: empty {empty}")
            rows.append(values)
    except csv.Error as exc:
        raise LabelFileError(f"{p}: line {reader.line_num}: not valid CSV ({exc})") from None
    if not rows:
        raise LabelFileError(f"{p}: no rows after the header")
    return rows


def read_labels(path: str | Path) -> Answers:
    """Answers from a `task,worker,label` CSV file (values kept as strings)."""
    rows = np.array(_read_rows(path, LABEL_COLUMNS), dtype=str)
    return Answers.from_columns(rows[:, 0], rows[:, 1], rows[:, 2])


def read_gold(path: str | Path) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.str_]]:
    """Gold `task,label` pairs; a task listed twice keeps its last label."""
    rows = np.array(_read_rows(path, GOLD_COLUMNS), dtype=str)
    tasks, labels = rows[:, 0], rows[:, 1]
    # keep the last row per task: unique over the reversed arrays finds last occurrences
    _, last = np.unique(tasks[::-1], return_index=True)
    keep = np.sort(len(tasks) - 1 - last)
    return tasks[keep], labels[keep]
