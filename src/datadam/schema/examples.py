"""Bundled example schemas and a generator of valid results for any schema.

`example_result` feeds tests, load generators and the schema preview; it always runs the
result through `validate_result`, so what it returns is valid by construction.
"""

from __future__ import annotations

import json
from importlib import resources
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
)
from datadam.schema.validation import epoch_count, image_size, validate_result

_EXAMPLE_EPOCHS = 3
_EXAMPLE_BOX = 10


def example_schema_names() -> list[str]:
    """Names accepted by `example_schema`, sorted."""
    folder = resources.files("datadam.schema") / "examples"
    return sorted(
        p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
    )


def example_schema(name: str) -> dict[str, Any]:
    """A bundled example schema as a dict, e.g. `example_schema("sleep_staging")`.

    Raises InputError (code `unknown_example`) for a name not in `example_schema_names()`.
    """
    if name not in example_schema_names():
        raise InputError(
            f"no example schema {name!r}; try one of {', '.join(example_schema_names())}",
            field="name",
            code="unknown_example",
        )
    path = resources.files("datadam.schema") / "examples" / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def example_result(schema: LabelingSchema, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """A valid result answering every control (optional ones too) with the first label.

    With a payload the answer fits the item: spans stay inside the text, shapes inside the
    image and epochs match its length. Raises InputError if the payload cannot hold any
    valid answer (for example, spans requested but no text under the source key).
    """
    if payload is not None and not isinstance(payload, dict):
        raise InputError(
            "the item payload must be an object", field="payload", code="invalid_result"
        )
    result = {control.name: _answer(control, payload) for control in schema.controls}
    return validate_result(schema, result, payload)


def _answer(control: AnyControl, payload: dict[str, Any] | None) -> Any:
    if isinstance(control, ChoiceControl):
        return control.labels[0]
    if isinstance(control, MultiChoiceControl):
        return list(control.labels[: max(control.min, min(1, control.max_count))])
    if isinstance(control, SpansControl):
        text = "x" if payload is None else payload.get(control.source)
        if not isinstance(text, str) or not text:
            return []
        return [{"start": 0, "end": min(len(text), 5), "label": control.labels[0]}]
    if isinstance(control, ShapesControl):
        return [_shape(control, kind, payload) for kind in control.kinds]
    if isinstance(control, EpochsControl):
        count = epoch_count(payload, control.source, control.epoch_seconds)
        return [control.labels[0]] * (_EXAMPLE_EPOCHS if count is None else count)
    if isinstance(control, TranscriptionControl):
        return "example transcript"[: control.max_length]
    if isinstance(control, TextControl):
        return "example comment"[: control.max_length]
    raise AssertionError(f"no example for {control!r}")  # pragma: no cover


def _shape(control: ShapesControl, kind: str, payload: dict[str, Any] | None) -> dict[str, Any]:
    width, height = image_size(payload, control.source)
    w = min(_EXAMPLE_BOX, width or _EXAMPLE_BOX)
    h = min(_EXAMPLE_BOX, height or _EXAMPLE_BOX)
    label = control.labels[0]
    if kind == "box":
        return {"kind": "box", "label": label, "x": 0, "y": 0, "w": w, "h": h}
    return {"kind": "polygon", "label": label, "points": [[0, 0], [w, 0], [0, h]]}
