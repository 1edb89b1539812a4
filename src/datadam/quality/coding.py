"""Categorical answers as integer codes: the input of the live metrics.

Only categorical controls are coded, because only they have a consensus in the aggregation
engine's sense (one class per task):

* `choice`: one task per item, the chosen label;
* `epochs`: one task per (item, epoch), the epoch's label (null epochs are left out).

Other controls are not aggregated: `multichoice` (a set, not a class), `spans`, `shapes`,
`transcription` and `text` have no finite class list per task. For them the live metrics
still count work, gold accuracy (scored per control by `gold_scoring`) and inspection pass
rates; the report re-validates every one of them (syntactic accuracy).

A coded answer is five aligned arrays: control index, item id, sub-task (the epoch, 0 for a
choice), worker id, label index; plus the UTC day of its submission (days since 1970-01-01).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

CATEGORICAL = ("choice", "epochs")
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class CategoricalControl:
    index: int
    name: str
    kind: str  # "choice" or "epochs"
    labels: tuple[str, ...]

    @property
    def codes(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}


def categorical_controls(schema: Mapping[str, Any]) -> list[CategoricalControl]:
    """The schema's categorical controls, numbered in schema order."""
    found = []
    for control in schema.get("controls", ()):
        if control.get("type") in CATEGORICAL:
            found.append(
                CategoricalControl(
                    len(found), control["name"], control["type"], tuple(control["labels"])
                )
            )
    return found


COLUMNS = ("ctl", "item", "sub", "worker", "label", "day")
ANNOTATION_COLUMNS = ("a_worker", "a_day")
_DTYPES = {
    "ctl": np.int8,
    "item": np.int64,
    "sub": np.int32,
    "worker": np.int64,
    "label": np.int16,
    "day": np.int32,
    "a_worker": np.int64,
    "a_day": np.int32,
}


def empty_codes() -> dict[str, npt.NDArray[Any]]:
    return {name: np.zeros(0, dtype=_DTYPES[name]) for name in COLUMNS + ANNOTATION_COLUMNS}


def day_number(value: Any) -> int:
    """Days since 1970-01-01 (UTC) of a stored time: SQLite text or an aware datetime."""
    if isinstance(value, str):
        return (date.fromisoformat(value[:10]) - _EPOCH).days
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return (value.date() - _EPOCH).days
    raise TypeError(f"not a time: {value!r}")


def day_text(number: int) -> str:
    return date.fromordinal(_EPOCH.toordinal() + int(number)).isoformat()


def code_rows(
    rows: Iterable[tuple[int, int, Any, Any]],
    controls: list[CategoricalControl],
) -> dict[str, npt.NDArray[Any]]:
    """Code stored annotations given as (item_id, worker_id, result, submitted_at).

    `result` is the stored JSON (text on SQLite, a dict on PostgreSQL). Values that are not
    one of the control's labels (a result stored before a schema edit, or broken) are left
    out here; the report's syntactic check lists them.
    """
    lookups = [(c.index, c.name, c.kind, c.codes) for c in controls]
    cols: dict[str, list[int]] = {name: [] for name in COLUMNS + ANNOTATION_COLUMNS}
    ctl, item_col, sub, worker_col = cols["ctl"], cols["item"], cols["sub"], cols["worker"]
    label_col, day_col = cols["label"], cols["day"]
    for item_id, worker_id, result, submitted in rows:
        day = day_number(submitted)
        cols["a_worker"].append(worker_id)
        cols["a_day"].append(day)
        if isinstance(result, str | bytes):
            try:
                result = orjson.loads(result)
            except orjson.JSONDecodeError:
                continue
        if not isinstance(result, dict):
            continue
        for index, name, kind, codes in lookups:
            value = result.get(name)
            if kind == "choice":
                code = codes.get(value) if isinstance(value, str) else None
                if code is not None:
                    ctl.append(index)
                    item_col.append(item_id)
                    sub.append(0)
                    worker_col.append(worker_id)
                    label_col.append(code)
                    day_col.append(day)
            elif isinstance(value, list):
                for epoch, label in enumerate(value):
                    code = codes.get(label) if isinstance(label, str) else None
                    if code is not None:
                        ctl.append(index)
                        item_col.append(item_id)
                        sub.append(epoch)
                        worker_col.append(worker_id)
                        label_col.append(code)
                        day_col.append(day)
    return {name: np.asarray(values, dtype=_DTYPES[name]) for name, values in cols.items()}


def concat_codes(parts: list[dict[str, npt.NDArray[Any]]]) -> dict[str, npt.NDArray[Any]]:
    if not parts:
        return empty_codes()
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def gold_codes(
    answers: Iterable[tuple[int, Any]], control: CategoricalControl
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int16]]:
    """Known answers (item_id, answer JSON) of one control as (item, sub, label) arrays."""
    coded = code_rows(
        ((item_id, 0, answer, "1970-01-01") for item_id, answer in answers), [control]
    )
    return coded["item"], coded["sub"], coded["label"]
