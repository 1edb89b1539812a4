"""How close a worker's result is to a known (gold) answer: a score in [0, 1] per result.

Pure: plain dicts in, a float out; no database, settings or clock. The schema is the
project's schema as a dict (`LabelingSchema.to_dict()` or the stored JSON). Each control the
gold answer fills is scored on its own, and the result's score is the mean over those
controls. A control the gold answer leaves empty (None, e.g. an optional comment) says
nothing about the worker and is left out; a gold answer that fills no control scores 1.

Per control type:
- choice: 1 when the labels are equal, else 0;
- multichoice: Jaccard index of the two label sets (two empty sets agree: 1);
- spans: F1 of the exactly matching (start, end, label) triples (boundaries and label must
  all agree; partial overlap earns nothing);
- shapes: one-to-one matching of same-label shapes whose boxes overlap with IoU >= 0.5,
  greedy by IoU; the score is the F1 of matched shapes (a polygon is compared by its
  bounding box, a cheap and documented approximation);
- epochs: the fraction of epochs labelled the same, over the longer of the two lists;
- transcription and text: 1 when the texts are equal after normalisation (Unicode NFKC,
  case folded, punctuation removed, runs of whitespace made one space, ends trimmed), else 0.

A result that is missing a control, or holds a value of the wrong shape, scores 0 on that
control rather than raising: stored answers may predate a schema edit.

`is_correct` is `score >= CORRECT_AT` (0.8): for single-choice schemas that means the exact
label; for richer schemas it tolerates a small miss (one span in ten) but not a careless one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

CORRECT_AT = 0.8
BOX_IOU_MATCH = 0.5

Scorer = Callable[[Any, Any], float]


def score(schema: Mapping[str, Any], result: Mapping[str, Any], answer: Mapping[str, Any]) -> float:
    """The mean per-control agreement of `result` with the gold `answer`, in [0, 1]."""
    if hasattr(schema, "to_dict"):
        schema = schema.to_dict()
    if not isinstance(result, Mapping):
        return 0.0
    total, counted = 0.0, 0
    for control in schema.get("controls", ()):
        name = control.get("name")
        expected = answer.get(name)
        if expected is None:
            continue
        scorer = _SCORERS.get(control.get("type"), _equal)
        given = result.get(name)
        total += 0.0 if given is None else min(1.0, max(0.0, scorer(given, expected)))
        counted += 1
    return 1.0 if counted == 0 else total / counted


def is_correct(
    schema: Mapping[str, Any],
    result: Mapping[str, Any],
    answer: Mapping[str, Any],
    *,
    threshold: float = CORRECT_AT,
) -> bool:
    """Whether the result counts as a correct gold answer (`score >= threshold`)."""
    return score(schema, result, answer) >= threshold


def _equal(given: Any, expected: Any) -> float:
    return 1.0 if given == expected else 0.0


def _labels(value: Any) -> set[str] | None:
    if not isinstance(value, list | tuple):
        return None
    return {v for v in value if isinstance(v, str)}


def _jaccard(given: Any, expected: Any) -> float:
    a, b = _labels(given), _labels(expected)
    if a is None or b is None:
        return 0.0
    union = a | b
    return 1.0 if not union else len(a & b) / len(union)


def _f1(matched: int, n_given: int, n_expected: int) -> float:
    if n_given == 0 and n_expected == 0:
        return 1.0
    return 2.0 * matched / (n_given + n_expected)


def _span_set(value: Any) -> set[tuple[Any, Any, Any]] | None:
    if not isinstance(value, list | tuple):
        return None
    out = set()
    for span in value:
        if isinstance(span, Mapping):
            out.add((span.get("start"), span.get("end"), span.get("label")))
    return out


def _spans(given: Any, expected: Any) -> float:
    a, b = _span_set(given), _span_set(expected)
    if a is None or b is None:
        return 0.0
    return _f1(len(a & b), len(a), len(b))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _box(shape: Any) -> tuple[str, float, float, float, float] | None:
    """(label, x0, y0, x1, y1) of a box, or of a polygon's bounding box; None if malformed."""
    if not isinstance(shape, Mapping) or not isinstance(shape.get("label"), str):
        return None
    if shape.get("kind") == "polygon":
        points = shape.get("points")
        if not isinstance(points, list | tuple) or not points:
            return None
        xs, ys = [], []
        for point in points:
            if not isinstance(point, list | tuple) or len(point) != 2:
                return None
            x, y = _number(point[0]), _number(point[1])
            if x is None or y is None:
                return None
            xs.append(x)
            ys.append(y)
        return shape["label"], min(xs), min(ys), max(xs), max(ys)
    x, y, w, h = (_number(shape.get(k)) for k in ("x", "y", "w", "h"))
    if x is None or y is None or w is None or h is None:
        return None
    return shape["label"], x, y, x + w, y + h


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes; 0 when either has no area."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, width) * max(0.0, height)
    area_a = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


def _shapes(given: Any, expected: Any) -> float:
    if not isinstance(given, list | tuple) or not isinstance(expected, list | tuple):
        return 0.0
    mine = [_box(s) for s in given]
    gold = [_box(s) for s in expected]
    pairs = []
    for i, a in enumerate(mine):
        for j, b in enumerate(gold):
            if a is None or b is None or a[0] != b[0]:
                continue
            iou = box_iou(a[1:], b[1:])
            if iou >= BOX_IOU_MATCH:
                pairs.append((-iou, i, j))
    pairs.sort()
    used_mine: set[int] = set()
    used_gold: set[int] = set()
    for _, i, j in pairs:
        if i not in used_mine and j not in used_gold:
            used_mine.add(i)
            used_gold.add(j)
    return _f1(len(used_mine), len(given), len(expected))


def _epochs(given: Any, expected: Any) -> float:
    if not isinstance(given, list | tuple) or not isinstance(expected, list | tuple):
        return 0.0
    longest = max(len(given), len(expected))
    if longest == 0:
        return 1.0
    same = sum(1 for a, b in zip(given, expected, strict=False) if a == b)
    return same / longest


def normalise_text(text: str) -> str:
    """NFKC, case folded, punctuation dropped, whitespace runs made one space, trimmed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(c for c in folded if not unicodedata.category(c).startswith("P"))
    return " ".join(kept.split())


def _text(given: Any, expected: Any) -> float:
    if not isinstance(given, str) or not isinstance(expected, str):
        return 0.0
    return 1.0 if normalise_text(given) == normalise_text(expected) else 0.0


_SCORERS: dict[str, Scorer] = {
    "choice": _equal,
    "multichoice": _jaccard,
    "spans": _spans,
    "shapes": _shapes,
    "epochs": _epochs,
    "transcription": _text,
    "text": _text,
}
