"""Properties: arbitrary input never raises anything but InputError, valid output round-trips."""

from __future__ import annotations

import copy
import json
from itertools import combinations
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from datadam.errors import InputError
from datadam.schema import (
    LabelingSchema,
    example_result,
    example_schema,
    parse_schema,
    validate_result,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COMBINED_RAW = example_schema("combined")
COMBINED = parse_schema(COMBINED_RAW)

nasty_text = st.sampled_from(
    ["", " ", "\x00", "\ud800", "감정", "👍🏽", "a" * 300, "choice", "box"]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([10**400, -(10**30), 2**63, 0, -1, 30])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | nasty_text
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=12) | nasty_text, children, max_size=5)
    ),
    max_leaves=30,
)


def only_input_errors(call: Any, *args: Any) -> Any:
    """Run `call`; an InputError is an accepted outcome, anything else fails the test."""
    try:
        return call(*args)
    except InputError as exc:
        assert exc.code in ("invalid_schema", "invalid_result"), exc.code
        assert isinstance(exc.message, str) and exc.message
        assert exc.field is None or isinstance(exc.field, str)
        return None


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += paths(item, (*prefix, index))
    return out


def replaced(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    document = copy.deepcopy(document)
    holder = document
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = new
    return document


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """`document` with one value replaced by arbitrary JSON, or one key added."""
    path = draw(st.sampled_from(paths(document)))
    if draw(st.booleans()):
        return replaced(document, path, draw(json_values))
    parent = replaced(document, (), document)
    target = parent
    for step in path:
        target = target[step]
    if isinstance(target, dict):
        target = dict(target)
        target[draw(st.text(max_size=8))] = draw(json_values)
        return replaced(parent, path, target)
    return replaced(parent, path, draw(json_values))


# --- schemas ----------------------------------------------------------------------------


@SETTINGS
@given(json_values)
def test_parse_schema_of_arbitrary_json_only_raises_input_error(value: Any) -> None:
    only_input_errors(parse_schema, value)
    if isinstance(value, dict):
        only_input_errors(parse_schema, json.dumps(value))


@SETTINGS
@given(st.text() | nasty_text | st.binary().map(lambda b: b.decode("latin-1")))
def test_parse_schema_of_arbitrary_text_only_raises_input_error(text: str) -> None:
    only_input_errors(parse_schema, text)


@SETTINGS
@given(st.binary())
def test_parse_schema_of_arbitrary_bytes_only_raises_input_error(raw: bytes) -> None:
    only_input_errors(parse_schema, raw)


@SETTINGS
@given(mutated(COMBINED_RAW))
def test_a_mutated_schema_is_refused_cleanly_or_still_works(raw: Any) -> None:
    schema = only_input_errors(parse_schema, raw)
    if schema is not None:
        assert parse_schema(schema.to_dict()) == schema
        result = example_result(schema)
        assert validate_result(schema, result) == result


label_text = st.text(
    st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), min_size=1, max_size=12
).filter(lambda t: t.strip())
labels = st.lists(label_text, min_size=1, max_size=8, unique=True)
names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)


@st.composite
def controls(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            ["choice", "multichoice", "spans", "shapes", "transcription", "epochs", "text"]
        )
    )
    control: dict[str, Any] = {"name": name, "type": kind, "required": draw(st.booleans())}
    if kind in ("choice", "multichoice", "spans", "shapes", "epochs"):
        control["labels"] = draw(labels)
    if kind in ("spans", "shapes", "epochs", "transcription"):
        control["source"] = f"src_{name}"
    if kind == "multichoice":
        low = draw(st.integers(0, len(control["labels"])))
        control["min"] = low
        control["max"] = draw(st.integers(max(low, 1), len(control["labels"]) + 2))
    if kind == "spans":
        control["allow_overlap"] = draw(st.booleans())
    if kind == "shapes":
        control["kinds"] = draw(st.sampled_from([["box"], ["polygon"], ["polygon", "box"]]))
    if kind == "epochs":
        control["epoch_seconds"] = draw(st.sampled_from([0.5, 1, 5, 30, 30.0]))
    if kind in ("transcription", "text"):
        control["max_length"] = draw(st.integers(1, 50))
    return control


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, Any]:
    control_names = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    return {
        "version": draw(st.integers(1, 5)),
        "title": draw(st.text(max_size=20).filter(lambda t: "\x00" not in t)),
        "controls": [draw(controls(name)) for name in control_names],
    }


@st.composite
def payloads(draw: st.DrawFn, raw: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for control in raw["controls"]:
        source = control.get("source")
        if control["type"] == "spans":
            payload[source] = draw(st.text(max_size=30))
        elif control["type"] == "shapes":
            payload[source] = {
                "width": draw(st.integers(1, 2000)),
                "height": draw(st.floats(0.5, 2000)),
            }
        elif control["type"] == "epochs":
            payload[source] = draw(
                st.fixed_dictionaries({"n_epochs": st.integers(0, 50)})
                | st.fixed_dictionaries({"duration_s": st.floats(0, 3000)})
            )
    return payload


@SETTINGS
@given(st.data())
def test_generated_schemas_round_trip_and_their_examples_validate(data: st.DataObject) -> None:
    raw = data.draw(schemas())
    schema = parse_schema(raw)
    assert parse_schema(schema.to_dict()) == schema
    assert parse_schema(json.dumps(schema.to_dict(), ensure_ascii=False).encode()) == schema
    payload = data.draw(payloads(raw))
    for given_payload in (None, payload):
        result = example_result(schema, given_payload)
        assert validate_result(schema, result, given_payload) == result
        assert set(result) == {control.name for control in schema.controls}


# --- results ----------------------------------------------------------------------------

PAYLOAD = {
    "text": "이 영화 정말 최고예요! Great film.",
    "image": {"width": 100, "height": 80},
    "signal": {"n_epochs": 3},
}


@SETTINGS
@given(json_values, st.none() | json_values)
def test_validate_result_of_arbitrary_json_only_raises_input_error(
    result: Any, payload: Any
) -> None:
    only_input_errors(validate_result, COMBINED, result, payload)


@SETTINGS
@given(st.data())
def test_a_mutated_result_is_refused_cleanly_or_normalised(data: st.DataObject) -> None:
    valid = example_result(COMBINED, PAYLOAD)
    result = data.draw(mutated(valid))
    payload = data.draw(st.sampled_from([None, PAYLOAD]) | mutated(PAYLOAD))
    out = only_input_errors(validate_result, COMBINED, result, payload)
    if out is not None:
        assert list(out) == [control.name for control in COMBINED.controls]
        assert validate_result(COMBINED, out, payload) == out


span_lists = st.lists(
    st.tuples(st.integers(0, 12), st.integers(1, 6), st.sampled_from(["PER", "ORG"])), max_size=6
)


@SETTINGS
@given(span_lists, st.booleans())
def test_spans_are_refused_exactly_when_they_overlap_or_repeat(
    raw: Any, allow_overlap: bool
) -> None:
    schema: LabelingSchema = parse_schema(
        {
            "version": 1,
            "controls": [
                {
                    "name": "x",
                    "type": "spans",
                    "source": "t",
                    "labels": ["PER", "ORG"],
                    "allow_overlap": allow_overlap,
                }
            ],
        }
    )
    spans = [(start, start + width, label) for start, width, label in raw]
    text = "가" * 20
    repeated = len(set(spans)) < len(spans)
    overlapping = any(a[0] < b[1] and b[0] < a[1] for a, b in combinations(spans, 2))
    bad = repeated or (overlapping and not allow_overlap)
    result = {"x": [{"start": s, "end": e, "label": label} for s, e, label in spans]}
    try:
        out = validate_result(schema, result, {"t": text})
    except InputError as exc:
        assert bad, exc.message
        assert exc.field is not None and exc.field.startswith("x[")
    else:
        assert not bad
        assert out["x"] == sorted(
            out["x"], key=lambda span: (span["start"], span["end"], span["label"])
        )
        assert sorted(map(str, out["x"])) == sorted(map(str, result["x"]))


@SETTINGS
@given(st.text(max_size=40), st.integers(0, 45), st.integers(1, 45))
def test_span_bounds_follow_code_points(text: str, start: int, width: int) -> None:
    assume(text)
    schema = parse_schema(example_schema("spans"))
    result = {"entities": [{"start": start, "end": start + width, "label": "PER"}]}
    try:
        validate_result(schema, result, {"text": text})
    except InputError as exc:
        assert start + width > len(text)
        assert exc.field == "entities[0].end"
    else:
        assert start + width <= len(text)
