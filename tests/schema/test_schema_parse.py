"""parse_schema: the accepted inputs, the round trip, and every way a schema is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from datadam.errors import InputError
from datadam.schema import (
    CONTROL_TYPES,
    MAX_SCHEMA_BYTES,
    EpochsControl,
    LabelingSchema,
    example_schema,
    example_schema_names,
    parse_schema,
)


def control(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "answer", "type": "choice", "labels": ["yes", "no"]}
    base.update(overrides)
    return base


def schema(*controls: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"version": 1, "title": "t", "controls": list(controls or [control()]), **top}


ANY_FIELD: Any = object()  # the test checks the path itself


def refused(raw: Any, field: str | None, match: str) -> InputError:
    with pytest.raises(InputError, match=match) as info:
        parse_schema(raw)
    assert info.value.code == "invalid_schema"
    if field is not ANY_FIELD:
        assert info.value.field == field, info.value.message
    return info.value


# --- what is accepted -------------------------------------------------------------------


def test_the_spec_example_parses_with_every_control_type() -> None:
    parsed = parse_schema(example_schema("combined"))
    assert [c.type for c in parsed.controls] == list(CONTROL_TYPES)
    assert parsed.version == 1
    assert parsed.control("stages").epoch_seconds == 30
    assert isinstance(parsed.control("stages"), EpochsControl)


@pytest.mark.parametrize("name", example_schema_names())
def test_every_bundled_example_parses_and_round_trips(name: str) -> None:
    parsed = parse_schema(example_schema(name))
    assert parse_schema(parsed.to_dict()) == parsed
    assert parse_schema(json.dumps(parsed.to_dict())) == parsed


def test_bundled_examples_cover_each_control_type_and_the_named_ones() -> None:
    names = set(example_schema_names())
    assert set(CONTROL_TYPES) <= names
    assert {"combined", "sleep_staging", "sentiment_ko"} <= names
    sleep = parse_schema(example_schema("sleep_staging"))
    assert sleep.control("stages").labels == ("W", "N1", "N2", "N3", "REM")
    korean = parse_schema(example_schema("sentiment_ko"))
    assert korean.title == "감정 분류"
    assert korean.control("sentiment").labels == ("긍정", "부정", "중립")


def test_unknown_example_name_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no example schema") as info:
        example_schema("../../etc/passwd")
    assert info.value.code == "unknown_example"


def test_json_text_bytes_and_bom_are_accepted() -> None:
    text = json.dumps(schema())
    assert parse_schema(text) == parse_schema(text.encode()) == parse_schema(schema())
    assert parse_schema(b"\xef\xbb\xbf" + text.encode()) == parse_schema(schema())


def test_yaml_text_is_accepted() -> None:
    parsed = parse_schema(
        """
        version: 1
        title: 감정 분류
        controls:
          - name: sentiment
            type: choice
            labels: [긍정, 부정, 중립]
            hotkeys: ["1", "2", "3"]
        """
    )
    assert parsed.title == "감정 분류"
    assert parsed.control("sentiment").hotkeys == ("1", "2", "3")


def test_defaults_are_filled_and_spelled_out_by_to_dict() -> None:
    parsed = parse_schema(
        schema(
            control(name="a"),
            {"name": "b", "type": "text"},
            control(name="c", type="shapes", source="image"),
            control(name="d", type="multichoice"),
            {"name": "e", "type": "transcription", "source": "audio"},
        )
    )
    out = parsed.to_dict()
    assert out["controls"][0]["required"] is True
    assert out["controls"][1]["required"] is False
    assert out["controls"][1]["max_length"] == 2000
    assert out["controls"][2]["kinds"] == ["box", "polygon"]
    assert out["controls"][3]["min"] == 0
    assert parsed.control("d").max_count == 2
    assert out["controls"][4]["max_length"] == 10000
    assert "hint" not in out["controls"][0]


def test_schema_is_frozen_hashable_and_looks_up_controls() -> None:
    parsed = parse_schema(schema())
    with pytest.raises(ValidationError):
        parsed.version = 2  # type: ignore[misc]
    assert hash(parsed) == hash(parse_schema(schema()))
    assert parsed.control("answer").labels == ("yes", "no")
    with pytest.raises(KeyError, match="no control named 'missing'"):
        parsed.control("missing")


def test_equality_ignores_the_cached_checker() -> None:
    from datadam.schema import validate_result

    first, second = parse_schema(schema()), parse_schema(schema())
    validate_result(first, {"answer": "yes"})
    assert first == second
    assert first != "not a schema"


def test_limits_at_the_edge_are_accepted() -> None:
    labels = [f"label {i}" for i in range(1000)]
    controls = [control(name=f"c{i}") for i in range(49)]
    controls.append(control(name="big", labels=labels))
    parsed = parse_schema(schema(*controls))
    assert len(parsed.controls) == 50
    assert len(parsed.control("big").labels) == 1000
    assert parse_schema(schema(control(name="a" * 64))).controls[0].name == "a" * 64
    assert parse_schema(schema(control(labels=["x" * 200]))).controls[0].labels == ("x" * 200,)


# --- the document itself ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ('{"version": 1,', "not valid JSON"),
        ("key: [unclosed", "neither JSON nor YAML"),
        ("[1, 2]", "must be an object"),
        ("42", "must be an object"),
        ("just words", "must be an object"),
        (b"\xff\xfe", "not UTF-8"),
        (42, "not int"),
        (None, "not NoneType"),
    ],
)
def test_unreadable_documents_are_refused(raw: Any, match: str) -> None:
    refused(raw, None, match)


def test_nan_in_json_text_is_read_as_yaml_text_and_refused() -> None:
    refused('{"version": NaN, "controls": []}', "version", "whole number")


def test_oversized_schema_is_refused_naming_the_limit() -> None:
    big = schema(control(hint="x" * 1000))
    big["title"] = "x" * 400
    padded = json.dumps(big) + " " * MAX_SCHEMA_BYTES
    refused(padded, None, "the limit is 256 KiB")
    refused(padded.encode(), None, "the limit is 256 KiB")
    korean = json.dumps(schema(title="감" * 90_000), ensure_ascii=False)
    assert len(korean) < MAX_SCHEMA_BYTES < len(korean.encode())  # 3 bytes per syllable
    refused(korean, None, "the limit is 256 KiB")
    many = schema(
        *[control(name=f"c{i}", labels=[f"{i}-{j}" * 10 for j in range(500)]) for i in range(20)]
    )
    refused(many, None, "the limit is 256 KiB")


def test_deep_nesting_is_refused_without_recursion_errors() -> None:
    refused("[" * 100_000 + "]" * 100_000, None, "not valid JSON")
    nested: Any = []
    for _ in range(100):
        nested = [nested]
    error = refused(schema(control(labels=nested)), ANY_FIELD, "more than 32 levels")
    assert str(error.field).startswith("controls[0].labels[0][0]")


def test_cyclic_dict_is_refused() -> None:
    cyclic: dict[str, Any] = schema()
    cyclic["controls"][0]["labels"].append(cyclic)
    error = refused(cyclic, ANY_FIELD, "deeply nested")
    assert str(error.field).startswith("controls[0].labels[2].controls[0].labels[2]")


def test_yaml_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 20)]
    refused("\n".join(lines), None, "too large \\(more than 200,000 values\\)")


@pytest.mark.parametrize(
    ("yaml_text", "field", "match"),
    [
        ("version: 1\ncontrols: !!set {a, b}", "controls", "not set"),
        ("version: 2001-01-01\ncontrols: []", "version", "not date"),
        (
            "version: 1\ncontrols:\n - {name: a, type: choice, labels: [yes, no]}",
            "controls[0].labels[0]",
            "put it in quotes",
        ),
        ("version: 2001-13-41\ncontrols: []", None, "neither JSON nor YAML"),
        ("version: !!python/object:os.system {}", None, "neither JSON nor YAML"),
    ],
)
def test_yaml_values_json_cannot_hold_are_refused(
    yaml_text: str, field: str | None, match: str
) -> None:
    refused(yaml_text, field, match)


def test_non_string_keys_in_a_dict_are_refused() -> None:
    raw = schema()
    raw["controls"][0][1] = "x"
    refused(raw, "controls[0]", "keys must be strings")
    refused({"version": 1, "controls": [control()], "x": {1, 2}}, "x", "not set")


# --- top-level keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field", "match"),
    [
        ({"controls": [control()]}, "version", "^required$"),
        (schema(version=0), "version", "at least 1"),
        (schema(version=True), "version", "whole number"),
        (schema(version="1"), "version", "whole number"),
        (schema(version=1.5), "version", "whole number"),
        (schema(version=10**5000), "version", "too large"),
        (schema(version=10**7), "version", "at most 1,000,000"),
        (schema(title=3), "title", "must be a string"),
        (schema(title="x" * 501), "title", "at most 500 characters"),
        (schema(title="a\x00b"), "title", "NUL"),
        (schema(title="\ud800"), "title", "surrogate"),
        ({"version": 1}, "controls", "^required$"),
        ({"version": 1, "controls": []}, "controls", "at least 1 controls"),
        ({"version": 1, "controls": {}}, "controls", "must be a list"),
        (schema(owner="me"), "owner", "unknown key 'owner'; allowed: controls, title, version"),
    ],
)
def test_top_level_problems_name_the_key(raw: Any, field: str, match: str) -> None:
    refused(raw, field, match)


def test_too_many_controls_names_the_limit() -> None:
    raw = schema(*[control(name=f"c{i}") for i in range(51)])
    refused(raw, "controls", "at most 50 controls")


def test_a_bad_item_is_not_also_reported_as_a_short_list() -> None:
    error = refused(schema(control(labels=["x", "x"])), "controls[0].labels[1]", "duplicate")
    assert "more problem" not in error.message


def test_several_problems_report_the_first_and_count_the_rest() -> None:
    error = refused(schema(control(extra=1, labels=5)), "controls[0].labels", "must be a list")
    assert "more problem" in error.message


# --- keys every control has -------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "field", "match"),
    [
        (7, "controls[0]", "must be an object"),
        (
            {"name": "a", "labels": ["x"]},
            "controls[0].type",
            "required: one of choice, multichoice",
        ),
        (control(type="slider"), "controls[0].type", "unknown control type 'slider'"),
        (control(type=3), "controls[0].type", "unknown control type '3'"),
        (
            control(colour="red"),
            "controls[0].colour",
            "unknown key 'colour'; allowed: hint, hotkeys, label, labels, name",
        ),
        (control(name="Answer"), "controls[0].name", "lowercase identifier"),
        (control(name="1st"), "controls[0].name", "lowercase identifier"),
        (control(name="a" * 65), "controls[0].name", "lowercase identifier"),
        (control(name="a\n"), "controls[0].name", "lowercase identifier"),
        (control(name="naïve"), "controls[0].name", "lowercase identifier"),
        (control(name=None), "controls[0].name", "must be a string"),
        ({"type": "choice", "labels": ["x"]}, "controls[0].name", "^required$"),
        (control(required="yes"), "controls[0].required", "true or false"),
        (control(hint="h" * 2001), "controls[0].hint", "at most 2,000 characters"),
        (control(label=["x"]), "controls[0].label", "must be a string"),
        (control(source=""), "controls[0].source", "payload key"),
        (control(source=" a"), "controls[0].source", "payload key"),
        (control(source="a\tb"), "controls[0].source", "payload key"),
    ],
)
def test_control_problems_name_the_indexed_key(item: Any, field: str, match: str) -> None:
    refused(schema(control(name="first"), item), field.replace("[0]", "[1]", 1), match)


def test_duplicate_control_names_name_both() -> None:
    refused(
        schema(control(), control()),
        "controls[1].name",
        r"duplicate control name 'answer' \(also controls\[0\]\)",
    )


# --- labels and hotkeys -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "match"),
    [
        ({"labels": []}, "controls[0].labels", "at least 1 labels"),
        ({"labels": ["a", "a"]}, "controls[0].labels[1]", "duplicate label 'a' \\(also at 0\\)"),
        ({"labels": ["a", ""]}, "controls[0].labels[1]", "must not be blank"),
        ({"labels": ["a", "  "]}, "controls[0].labels[1]", "must not be blank"),
        ({"labels": ["x" * 201]}, "controls[0].labels[0]", "at most 200 characters"),
        (
            {"labels": [str(i) for i in range(1001)]},
            "controls[0].labels",
            "at most 1,000 labels per control",
        ),
        ({"labels": ["a", 2]}, "controls[0].labels[1]", "must be a string"),
        ({"labels": "a,b"}, "controls[0].labels", "must be a list"),
        ({"labels": ["a\x00"]}, "controls[0].labels[0]", "NUL"),
        ({"hotkeys": ["1"]}, "controls[0].hotkeys", "1 hotkeys for 2 labels"),
        ({"hotkeys": ["1", "1"]}, "controls[0].hotkeys[1]", "duplicate hotkey '1'"),
        ({"hotkeys": ["1", "ab"]}, "controls[0].hotkeys[1]", "single visible character"),
        ({"hotkeys": ["1", " "]}, "controls[0].hotkeys[1]", "single visible character"),
        ({"hotkeys": ["1", ""]}, "controls[0].hotkeys[1]", "single visible character"),
    ],
)
@pytest.mark.parametrize("kind", ["choice", "multichoice", "spans", "shapes", "epochs"])
def test_label_and_hotkey_problems(
    kind: str, overrides: dict[str, Any], field: str, match: str
) -> None:
    extra: dict[str, Any] = {"source": "s"} if kind in ("spans", "shapes", "epochs") else {}
    if kind == "epochs":
        extra["epoch_seconds"] = 30
    refused(schema(control(type=kind, **extra, **overrides)), field, match)


def test_korean_hotkeys_and_labels_are_fine() -> None:
    parsed = parse_schema(schema(control(labels=["긍정", "부정"], hotkeys=["ㄱ", "ㄴ"])))
    assert parsed.controls[0].hotkeys == ("ㄱ", "ㄴ")


# --- per-type keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "field", "match"),
    [
        (control(type="multichoice", min=3), "controls[0].min", "min 3 is more than the 2 labels"),
        (control(type="multichoice", min=2, max=1), "controls[0].max", "max 1 is less than min 2"),
        (control(type="multichoice", max=0), "controls[0].max", "at least 1"),
        (control(type="multichoice", min=-1), "controls[0].min", "at least 0"),
        (control(type="spans"), "controls[0].source", "^required"),
        (
            control(type="spans", source="t", allow_overlap="no"),
            "controls[0].allow_overlap",
            "true or false",
        ),
        (
            control(type="choice", allow_overlap=True),
            "controls[0].allow_overlap",
            "unknown key 'allow_overlap'",
        ),
        (
            control(type="shapes", source="i", kinds=["circle"]),
            "controls[0].kinds[0]",
            "'box' or 'polygon'",
        ),
        (control(type="shapes", source="i", kinds=[]), "controls[0].kinds", "at least 1 kinds"),
        (
            control(type="shapes", source="i", kinds=["box", "box"]),
            "controls[0].kinds[1]",
            "duplicate kind",
        ),
        ({"name": "t", "type": "transcription"}, "controls[0].source", "^required"),
        (
            {"name": "t", "type": "transcription", "source": "a", "max_length": 0},
            "controls[0].max_length",
            "at least 1",
        ),
        (
            {"name": "t", "type": "text", "max_length": 10**7},
            "controls[0].max_length",
            "at most 1,000,000",
        ),
        (
            {"name": "t", "type": "text", "labels": ["a"]},
            "controls[0].labels",
            "unknown key 'labels'",
        ),
        (control(type="epochs", source="s"), "controls[0].epoch_seconds", "^required"),
        (
            control(type="epochs", source="s", epoch_seconds=0),
            "controls[0].epoch_seconds",
            "greater than 0",
        ),
        (
            control(type="epochs", source="s", epoch_seconds=True),
            "controls[0].epoch_seconds",
            "must be a number",
        ),
        (
            control(type="epochs", source="s", epoch_seconds="30"),
            "controls[0].epoch_seconds",
            "must be a number",
        ),
        (
            control(type="epochs", source="s", epoch_seconds=float("inf")),
            "controls[0].epoch_seconds",
            "finite",
        ),
        (
            control(type="epochs", source="s", epoch_seconds=90_000),
            "controls[0].epoch_seconds",
            "at most 86,400",
        ),
    ],
)
def test_type_specific_problems(item: dict[str, Any], field: str, match: str) -> None:
    refused(schema(item), field, match)


def test_epoch_seconds_may_be_fractional() -> None:
    parsed = parse_schema(schema(control(type="epochs", source="s", epoch_seconds=0.5)))
    assert parsed.controls[0].epoch_seconds == 0.5


def test_model_validate_directly_raises_validation_error_not_silently() -> None:
    with pytest.raises(ValidationError):
        LabelingSchema.model_validate(schema(control(labels=["a", "a"])))
