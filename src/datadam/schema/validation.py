"""Check a submitted result against its schema: plain-Python checkers compiled once per schema.

This sits on the submit hot path, so no Pydantic model runs per result: `compile_checker`
turns each control into a closure over frozensets and limits, and `validate_result` caches
the compiled checker on the schema instance. Every problem is an
`InputError(code="invalid_result")` naming the path, e.g. `entities[3].end`.

Offsets are Python `str` indices (code points), so Korean or emoji text counts one per
character, as browsers' `Array.from(text)` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from datadam.errors import InputError
from datadam.schema.models import (
    AnyControl,
    ChoiceControl,
    EpochsControl,
    LabelingSchema,
    MultiChoiceControl,
    ShapesControl,
    SpansControl,
    TextControl,
    TranscriptionControl,
    has_bad_chars,
)

MAX_ITEMS = 10_000  # spans or shapes per control
MAX_EPOCHS = 1_000_000
MAX_POLYGON_POINTS = 1_000
MAX_OFFSET = 2**31 - 1
_MAX_COORD = 1e15  # also keeps huge ints away from float conversion
_EDGE = 1e-6  # pixels of float slack when a box touches the image border
_CODE = "invalid_result"

Payload = dict[str, Any] | None
ValueChecker = Callable[[Any, Payload], Any]
ResultChecker = Callable[[object, Payload], dict[str, Any]]


def validate_result(
    schema: LabelingSchema, result: object, payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return the normalised result (every control present, spans sorted) or raise InputError.

    `payload` is the item's data; when given, spans are checked against `payload[source]`,
    shapes against the image `width`/`height` and epochs against `n_epochs`/`duration_s`.
    """
    checker = schema._checker
    if checker is None:
        checker = schema._checker = compile_checker(schema)
    return checker(result, payload)  # type: ignore[no-any-return]


def fail(message: str, field: str | None) -> InputError:
    return InputError(message, field=field, code=_CODE)


def show(value: object) -> str:
    """A short, always-printable description of a submitted value for error messages."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value) if abs(value) < 10**18 else "a very large number"
    if isinstance(value, float):
        return repr(value)
    return "a list" if isinstance(value, list | tuple) else "an object"


def compile_checker(schema: LabelingSchema) -> ResultChecker:
    """Build the function that checks one result; pure, so safe to share across threads."""
    controls = [(c.name, c.required, _COMPILERS[type(c)](c)) for c in schema.controls]
    names = frozenset(name for name, _, _ in controls)

    def check(result: object, payload: Payload) -> dict[str, Any]:
        if not isinstance(result, dict):
            raise fail("the result must be an object keyed by control name", None)
        if payload is not None and not isinstance(payload, dict):
            raise InputError("the item payload must be an object", field="payload", code=_CODE)
        if not names.issuperset(result):
            key = next(key for key in result if key not in names)
            raise fail(f"unknown control {show(key)}", key[:100] if isinstance(key, str) else None)
        out: dict[str, Any] = {}
        for name, required, check_value in controls:
            value = result.get(name)
            if value is None:
                if required:
                    raise fail("required", name)
                out[name] = None
            else:
                out[name] = check_value(value, payload)
        return out

    return check


def _label_checker(labels: tuple[str, ...]) -> Callable[[object, str], str]:
    known = frozenset(labels)
    listing = ", ".join(labels) if len(labels) <= 10 else f"{len(labels)} labels"

    def check_label(value: object, where: str) -> str:
        if value.__class__ is str and value in known:
            return value  # type: ignore[return-value]
        if not isinstance(value, str):
            raise fail(f"must be a label (a string), not {show(value)}", where)
        raise fail(f"{show(value)} is not one of the labels ({listing})", where)

    return check_label


def _list(value: object, where: str, what: str, limit: int) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise fail(f"must be a list of {what}, not {show(value)}", where)
    if len(value) > limit:
        raise fail(f"at most {limit:,} {what} (got {len(value):,})", where)
    return value


def _keys(obj: object, keys: tuple[str, ...], where: str, what: str) -> dict[str, Any]:
    """`obj` as a dict holding exactly `keys`: an unknown key or a missing one is named."""
    if not isinstance(obj, dict):
        raise fail(f"a {what} must be an object with {', '.join(keys)}", where)
    if len(obj) != len(keys) or not all(key in obj for key in keys):
        for key in obj:
            if key not in keys:
                field = f"{where}.{key}" if isinstance(key, str) else where
                raise fail(f"unknown key {show(key)} in a {what}", field)
        missing = next(key for key in keys if key not in obj)
        raise fail("required", f"{where}.{missing}")
    return obj


def _offset(value: object, where: str) -> int:
    if value.__class__ is not int:
        raise fail(f"must be a whole number, not {show(value)}", where)
    if not 0 <= value <= MAX_OFFSET:  # type: ignore[operator]
        raise fail(f"{show(value)} is out of range (0 to {MAX_OFFSET:,})", where)
    return value  # type: ignore[return-value]


def _number(value: object, where: str) -> float:
    """A finite JSON number; refuses true/false, NaN, infinities and absurd magnitudes."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(f"must be a number, not {show(value)}", where)
    if isinstance(value, float) and not math.isfinite(value):
        raise fail(f"must be a finite number, not {show(value)}", where)
    if abs(value) > _MAX_COORD:
        raise fail(f"{show(value)} is out of range", where)
    return value


def _positive(value: object) -> float | None:
    """A usable size from the payload, or None when absent or unusable."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if 0 < value <= _MAX_COORD else None


def _compile_choice(control: ChoiceControl) -> ValueChecker:
    check_label = _label_checker(control.labels)
    name = control.name

    def check(value: object, payload: Payload) -> str:
        return check_label(value, name)

    return check


def _compile_multichoice(control: MultiChoiceControl) -> ValueChecker:
    check_label = _label_checker(control.labels)
    order = {label: index for index, label in enumerate(control.labels)}
    name, low, high = control.name, control.min, control.max_count

    def check(value: object, payload: Payload) -> list[str]:
        items = _list(value, name, "labels", len(order))
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            label = check_label(item, f"{name}[{index}]")
            if label in seen:
                raise fail(
                    f"label {show(label)} is chosen twice (also at {seen[label]})",
                    f"{name}[{index}]",
                )
            seen[label] = index
        if not low <= len(seen) <= high:
            raise fail(f"choose {low} to {high} labels (got {len(seen)})", name)
        return sorted(seen, key=order.__getitem__)

    return check


_SPAN_KEYS = ("start", "end", "label")


def _compile_spans(control: SpansControl) -> ValueChecker:
    check_label = _label_checker(control.labels)
    name, source, allow_overlap = control.name, control.source, control.allow_overlap

    def check(value: object, payload: Payload) -> list[dict[str, Any]]:
        items = _list(value, name, "spans", MAX_ITEMS)
        length = None
        if payload is not None:
            text = payload.get(source)
            if not isinstance(text, str):
                raise fail(f"the item has no text under {source!r} to check spans against", name)
            length = len(text)
        spans = []
        for index, item in enumerate(items):
            where = f"{name}[{index}]"
            span = _keys(item, _SPAN_KEYS, where, "span")
            start = _offset(span["start"], f"{where}.start")
            end = _offset(span["end"], f"{where}.end")
            if end <= start:
                raise fail(f"span end {end} must be after its start {start}", f"{where}.end")
            if length is not None and end > length:
                raise fail(f"span end {end} is beyond the text (length {length})", f"{where}.end")
            spans.append((start, end, check_label(span["label"], f"{where}.label"), index))
        spans.sort()
        reach, reach_index = -1, -1
        for position, (start, end, label, index) in enumerate(spans):
            if position and spans[position - 1][:3] == (start, end, label):
                first, second = sorted((spans[position - 1][3], index))
                raise fail(f"spans {first} and {second} are the same", f"{name}[{second}]")
            if not allow_overlap and start < reach:
                first, second = sorted((reach_index, index))
                raise fail(f"spans {first} and {second} overlap", f"{name}[{second}]")
            if end > reach:
                reach, reach_index = end, index
        return [{"start": s, "end": e, "label": label} for s, e, label, _ in spans]

    return check


_BOX_KEYS = ("kind", "label", "x", "y", "w", "h")
_POLYGON_KEYS = ("kind", "label", "points")


def image_size(payload: Payload, source: str) -> tuple[float | None, float | None]:
    """Image (width, height) in pixels from `payload[source]` if it is an object, else `payload`."""
    if payload is None:
        return None, None
    holder = payload.get(source)
    if not isinstance(holder, dict):
        holder = payload
    return _positive(holder.get("width")), _positive(holder.get("height"))


def _check_inside(value: float, limit: float | None, where: str, axis: str) -> None:
    if value < -_EDGE or (limit is not None and value > limit + _EDGE):
        bounds = f"0 to {show(limit)}" if limit is not None else "0 or more"
        raise fail(f"{axis} {show(value)} is outside the image ({bounds})", where)


def _compile_shapes(control: ShapesControl) -> ValueChecker:
    check_label = _label_checker(control.labels)
    name, source, kinds = control.name, control.source, frozenset(control.kinds)
    allowed = " or ".join(repr(kind) for kind in control.kinds)

    def box(shape: dict[str, Any], where: str, size: tuple[Any, Any]) -> dict[str, Any]:
        x, y = _number(shape["x"], f"{where}.x"), _number(shape["y"], f"{where}.y")
        w, h = _number(shape["w"], f"{where}.w"), _number(shape["h"], f"{where}.h")
        for key, extent in (("w", w), ("h", h)):
            if extent <= 0:
                raise fail(f"box {key} must be more than 0, not {show(extent)}", f"{where}.{key}")
        if size != (None, None):
            width, height = size
            _check_inside(x, width, f"{where}.x", "x")
            _check_inside(y, height, f"{where}.y", "y")
            _check_inside(x + w, width, f"{where}.w", "right edge")
            _check_inside(y + h, height, f"{where}.h", "bottom edge")
        return {"kind": "box", "label": shape["label"], "x": x, "y": y, "w": w, "h": h}

    def polygon(shape: dict[str, Any], where: str, size: tuple[Any, Any]) -> dict[str, Any]:
        points = _list(shape["points"], f"{where}.points", "points", MAX_POLYGON_POINTS)
        if len(points) < 3:
            raise fail(f"a polygon needs at least 3 points (got {len(points)})", f"{where}.points")
        out = []
        for index, point in enumerate(points):
            at = f"{where}.points[{index}]"
            if not isinstance(point, list | tuple) or len(point) != 2:
                raise fail("a point must be a list [x, y]", at)
            x, y = _number(point[0], f"{at}[0]"), _number(point[1], f"{at}[1]")
            if size != (None, None):
                _check_inside(x, size[0], f"{at}[0]", "x")
                _check_inside(y, size[1], f"{at}[1]", "y")
            out.append([x, y])
        return {"kind": "polygon", "label": shape["label"], "points": out}

    def check(value: object, payload: Payload) -> list[dict[str, Any]]:
        items = _list(value, name, "shapes", MAX_ITEMS)
        size = image_size(payload, source)
        shapes = []
        for index, item in enumerate(items):
            where = f"{name}[{index}]"
            if not isinstance(item, dict):
                raise fail("a shape must be an object with kind, label and coordinates", where)
            kind = item.get("kind")
            if kind.__class__ is not str or kind not in kinds:
                message = "required" if kind is None else f"must be {allowed}, not {show(kind)}"
                raise fail(message, f"{where}.kind")
            is_box = kind == "box"
            shape = _keys(item, _BOX_KEYS if is_box else _POLYGON_KEYS, where, kind)
            check_label(shape["label"], f"{where}.label")
            shapes.append(box(shape, where, size) if is_box else polygon(shape, where, size))
        return shapes

    return check


def _compile_text(control: TextControl | TranscriptionControl) -> ValueChecker:
    name, limit = control.name, control.max_length

    def check(value: object, payload: Payload) -> str:
        if value.__class__ is not str:
            raise fail(f"must be text, not {show(value)}", name)
        if len(value) > limit:  # type: ignore[arg-type]
            raise fail(f"is {len(value):,} characters long; the limit is {limit:,}", name)  # type: ignore[arg-type]
        if has_bad_chars(value):  # type: ignore[arg-type]
            raise fail("contains a NUL character or an invalid (surrogate) code point", name)
        return value  # type: ignore[return-value]

    return check


def epoch_count(payload: Payload, source: str, epoch_seconds: float) -> int | None:
    """Epochs the recording holds: `n_epochs`, else ceil(`duration_s` / epoch length), else None.

    Durations within a nanosecond of a whole number of epochs count as exact, so float noise
    such as 0.30000000000000004 s of 0.1 s epochs still gives 3.
    """
    holder = None if payload is None else payload.get(source)
    if not isinstance(holder, dict):
        return None
    count = holder.get("n_epochs")
    if count.__class__ is int and 0 <= count <= MAX_EPOCHS:  # type: ignore[operator]
        return count  # type: ignore[return-value]
    duration = holder.get("duration_s")
    if duration == 0 and not isinstance(duration, bool):
        return 0
    if _positive(duration) is None:
        return None
    return max(0, math.ceil(duration / epoch_seconds - 1e-9))  # type: ignore[operator]


def _compile_epochs(control: EpochsControl) -> ValueChecker:
    check_label = _label_checker(control.labels)
    name, source, seconds = control.name, control.source, control.epoch_seconds
    required = control.required

    def check(value: object, payload: Payload) -> list[str | None]:
        items = _list(value, name, "epochs", MAX_EPOCHS)
        expected = epoch_count(payload, source, seconds)
        if expected is not None and len(items) != expected:
            raise fail(f"needs one entry per epoch: {expected:,} epochs, got {len(items):,}", name)
        out: list[str | None] = []
        for index, item in enumerate(items):
            if item is None:
                if required:
                    raise fail(
                        f"epoch {index} is unlabelled; every epoch needs a label",
                        f"{name}[{index}]",
                    )
                out.append(None)
            else:
                out.append(check_label(item, f"{name}[{index}]"))
        return out

    return check


_COMPILERS: dict[type[AnyControl], Callable[[Any], ValueChecker]] = {
    ChoiceControl: _compile_choice,
    MultiChoiceControl: _compile_multichoice,
    SpansControl: _compile_spans,
    ShapesControl: _compile_shapes,
    TranscriptionControl: _compile_text,
    TextControl: _compile_text,
    EpochsControl: _compile_epochs,
}
