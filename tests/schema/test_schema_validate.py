"""validate_result and example_result: each control's answer format and every refusal."""

from __future__ import annotations

from typing import Any

import pytest

from datadam.errors import InputError
from datadam.schema import (
    LabelingSchema,
    example_result,
    example_schema,
    example_schema_names,
    parse_schema,
    validate_result,
)

COMBINED = parse_schema(example_schema("combined"))
TEXT = "Ada Lovelace met Charles Babbage in London."
PAYLOAD: dict[str, Any] = {
    "text": TEXT,
    "image": {"url": "https://example.org/a.jpg", "width": 640, "height": 480},
    "audio": "https://example.org/a.mp3",
    "signal": {"n_epochs": 4},
}


def one(kind: str, **keys: Any) -> LabelingSchema:
    """A schema with a single control called `x`."""
    base: dict[str, Any] = {"name": "x", "type": kind}
    if kind in ("choice", "multichoice", "spans", "shapes", "epochs"):
        base["labels"] = ["a", "b", "c"]
    if kind in ("spans", "shapes", "epochs", "transcription"):
        base["source"] = "src"
    if kind == "epochs":
        base["epoch_seconds"] = 30
    base.update(keys)
    return parse_schema({"version": 1, "controls": [base]})


def refused(
    schema: LabelingSchema, result: Any, field: str | None, match: str, payload: Any = None
) -> InputError:
    with pytest.raises(InputError, match=match) as info:
        validate_result(schema, result, payload)
    assert info.value.code == "invalid_result"
    assert info.value.field == field, info.value.message
    return info.value


def valid_combined(**changes: Any) -> dict[str, Any]:
    result = {
        "sentiment": "positive",
        "topics": ["c", "a"],
        "entities": [
            {"start": 17, "end": 32, "label": "PER"},
            {"start": 0, "end": 12, "label": "PER"},
        ],
        "objects": [
            {"kind": "box", "label": "car", "x": 10, "y": 20, "w": 100.5, "h": 50},
            {"kind": "polygon", "label": "person", "points": [[1, 1], [5, 1], [3, 4.5]]},
        ],
        "transcript": "hello",
        "stages": ["W", "N1", "N2", "REM"],
        "comment": None,
    }
    result.update(changes)
    return result


# --- the whole result -------------------------------------------------------------------


def test_a_full_result_is_normalised() -> None:
    out = validate_result(COMBINED, valid_combined(), PAYLOAD)
    assert out["topics"] == ["a", "c"]  # schema label order
    assert [span["start"] for span in out["entities"]] == [0, 17]  # sorted by start
    assert out["objects"][0] == {
        "kind": "box",
        "label": "car",
        "x": 10,
        "y": 20,
        "w": 100.5,
        "h": 50,
    }
    assert out["comment"] is None
    assert list(out) == [control.name for control in COMBINED.controls]


def test_optional_controls_may_be_missing_and_come_back_as_none() -> None:
    result = valid_combined()
    del result["comment"]
    assert validate_result(COMBINED, result, PAYLOAD)["comment"] is None


@pytest.mark.parametrize(
    "name", ["sentiment", "topics", "entities", "objects", "transcript", "stages"]
)
@pytest.mark.parametrize("missing", ["absent", "null"])
def test_a_required_control_missing_or_null_is_refused(name: str, missing: str) -> None:
    result = valid_combined()
    if missing == "absent":
        del result[name]
    else:
        result[name] = None
    refused(COMBINED, result, name, "^required$", PAYLOAD)


@pytest.mark.parametrize("result", [None, [], "x", 3, ["sentiment"]])
def test_a_result_must_be_an_object(result: Any) -> None:
    refused(COMBINED, result, None, "must be an object keyed by control name")


def test_unknown_keys_are_refused_by_name() -> None:
    refused(COMBINED, valid_combined(mood="happy"), "mood", "unknown control 'mood'")
    refused(COMBINED, {**valid_combined(), 7: "x"}, None, "unknown control 7")


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InputError, match="payload must be an object") as info:
        validate_result(COMBINED, valid_combined(), ["not", "a", "dict"])  # type: ignore[arg-type]
    assert info.value.field == "payload"


# --- choice and multichoice -------------------------------------------------------------


def test_choice_accepts_one_label() -> None:
    assert validate_result(one("choice"), {"x": "b"}) == {"x": "b"}


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("d", "'d' is not one of the labels \\(a, b, c\\)"),
        (1, "must be a label"),
        (["a"], "not a list"),
        ("", "not one of"),
    ],
)
def test_choice_refusals(value: Any, match: str) -> None:
    refused(one("choice"), {"x": value}, "x", match)


def test_choice_lists_many_labels_by_count() -> None:
    schema = parse_schema(
        {
            "version": 1,
            "controls": [{"name": "x", "type": "choice", "labels": [str(i) for i in range(20)]}],
        }
    )
    refused(schema, {"x": "z"}, "x", "not one of the labels \\(20 labels\\)")


def test_multichoice_accepts_distinct_labels_within_bounds() -> None:
    assert validate_result(one("multichoice"), {"x": []}) == {"x": []}
    assert validate_result(one("multichoice", min=1, max=2), {"x": ["c", "a"]}) == {"x": ["a", "c"]}


@pytest.mark.parametrize(
    ("keys", "value", "field", "match"),
    [
        ({}, "a", "x", "must be a list of labels"),
        ({}, ["a", "z"], "x[1]", "'z' is not one of"),
        ({}, ["a", None], "x[1]", "must be a label"),
        ({}, ["a", "b", "a"], "x[2]", "'a' is chosen twice \\(also at 0\\)"),
        ({"min": 2}, ["a"], "x", "choose 2 to 3 labels \\(got 1\\)"),
        ({"max": 1}, ["a", "b"], "x", "choose 0 to 1 labels \\(got 2\\)"),
        ({}, ["a"] * 4, "x", "at most 3 labels"),
    ],
)
def test_multichoice_refusals(keys: dict[str, Any], value: Any, field: str, match: str) -> None:
    refused(one("multichoice", **keys), {"x": value}, field, match)


# --- spans ------------------------------------------------------------------------------


def test_spans_are_sorted_and_checked_against_the_text() -> None:
    spans = [{"label": "b", "end": 5, "start": 3}, {"start": 0, "end": 2, "label": "a"}]
    out = validate_result(one("spans"), {"x": spans}, {"src": "hello"})
    assert out["x"] == [{"start": 0, "end": 2, "label": "a"}, {"start": 3, "end": 5, "label": "b"}]
    assert validate_result(one("spans"), {"x": []}, {"src": ""}) == {"x": []}


def test_spans_without_a_payload_check_only_their_shape() -> None:
    assert (
        validate_result(one("spans"), {"x": [{"start": 0, "end": 10**6, "label": "a"}]})["x"][0][
            "end"
        ]
        == 10**6
    )


def test_korean_spans_count_code_points() -> None:
    schema = parse_schema(example_schema("sentiment_ko"))
    text = "이 영화 정말 최고예요!"
    start = text.index("최고")
    result = {
        "sentiment": "긍정",
        "evidence": [{"start": start, "end": start + 2, "label": "긍정"}],
    }
    assert validate_result(schema, result, {"text": text})["evidence"][0]["start"] == 8
    assert text[8:10] == "최고"
    too_far = {
        "sentiment": "긍정",
        "evidence": [{"start": 0, "end": len(text) + 1, "label": "긍정"}],
    }
    refused(
        schema,
        too_far,
        "evidence[0].end",
        "span end 14 is beyond the text \\(length 13\\)",
        {"text": text},
    )


def test_emoji_count_as_one_character() -> None:
    result = {"x": [{"start": 0, "end": 2, "label": "a"}]}
    assert validate_result(one("spans"), result, {"src": "👍🏽"})["x"][0]["end"] == 2


@pytest.mark.parametrize(
    ("spans", "field", "match"),
    [
        ("0-3", "x", "must be a list of spans"),
        ([[0, 3, "a"]], "x[0]", "must be an object with start, end, label"),
        ([{"start": 0, "end": 3}], "x[0].label", "^required$"),
        ([{"start": 0, "label": "a"}], "x[0].end", "^required$"),
        ([{"start": 0, "end": 3, "label": "a", "text": "Ada"}], "x[0].text", "unknown key 'text'"),
        ([{"start": -1, "end": 3, "label": "a"}], "x[0].start", "-1 is out of range"),
        ([{"start": 0.0, "end": 3, "label": "a"}], "x[0].start", "whole number"),
        ([{"start": True, "end": 3, "label": "a"}], "x[0].start", "whole number, not true"),
        ([{"start": "0", "end": 3, "label": "a"}], "x[0].start", "whole number, not '0'"),
        (
            [{"start": 0, "end": 10**40, "label": "a"}],
            "x[0].end",
            "a very large number is out of range",
        ),
        (
            [{"start": 3, "end": 3, "label": "a"}],
            "x[0].end",
            "span end 3 must be after its start 3",
        ),
        (
            [{"start": 0, "end": 120, "label": "a"}],
            "x[0].end",
            "span end 120 is beyond the text \\(length 43\\)",
        ),
        ([{"start": 0, "end": 3, "label": "PER"}], "x[0].label", "'PER' is not one of"),
        (
            [
                {"start": 0, "end": 5, "label": "a"},
                {"start": 20, "end": 30, "label": "a"},
                {"start": 3, "end": 8, "label": "b"},
            ],
            "x[2]",
            "spans 0 and 2 overlap",
        ),
        (
            [{"start": 4, "end": 8, "label": "b"}, {"start": 0, "end": 20, "label": "a"}],
            "x[1]",
            "spans 0 and 1 overlap",
        ),
        ([{"start": 0, "end": 3, "label": "a"}] * 2, "x[1]", "spans 0 and 1 are the same"),
    ],
)
def test_span_refusals(spans: Any, field: str, match: str) -> None:
    refused(one("spans"), {"x": spans}, field, match, {"src": TEXT})


def test_overlap_is_fine_when_allowed_but_duplicates_are_not() -> None:
    schema = one("spans", allow_overlap=True)
    nested = [{"start": 0, "end": 20, "label": "a"}, {"start": 4, "end": 8, "label": "b"}]
    assert len(validate_result(schema, {"x": nested}, {"src": TEXT})["x"]) == 2
    refused(schema, {"x": [nested[0], nested[0]]}, "x[1]", "are the same", {"src": TEXT})


def test_touching_spans_do_not_overlap() -> None:
    spans = [{"start": 0, "end": 3, "label": "a"}, {"start": 3, "end": 6, "label": "a"}]
    assert len(validate_result(one("spans"), {"x": spans}, {"src": TEXT})["x"]) == 2


@pytest.mark.parametrize("payload", [{}, {"src": None}, {"src": ["t"]}, {"other": "text"}])
def test_spans_need_the_text_when_a_payload_is_given(payload: dict[str, Any]) -> None:
    refused(one("spans"), {"x": []}, "x", "no text under 'src'", payload)


# --- shapes -----------------------------------------------------------------------------


def box(**keys: Any) -> dict[str, Any]:
    return {"kind": "box", "label": "a", "x": 0, "y": 0, "w": 10, "h": 10, **keys}


def polygon(points: Any = None, **keys: Any) -> dict[str, Any]:
    points = [[0, 0], [10, 0], [0, 10]] if points is None else points
    return {"kind": "polygon", "label": "a", "points": points, **keys}


def test_shapes_keep_their_order_and_become_lists() -> None:
    out = validate_result(
        one("shapes"), {"x": [polygon(), box(x=1.5)]}, {"src": {"width": 100, "height": 100}}
    )
    assert out["x"][0]["points"] == [[0, 0], [10, 0], [0, 10]]
    assert out["x"][1]["x"] == 1.5


def test_shapes_may_touch_the_image_border() -> None:
    size = {"width": 10, "height": 10}
    result = {"x": [box(), polygon([[0, 0], [10, 10], [0, 10]])]}
    assert len(validate_result(one("shapes"), result, size)["x"]) == 2
    assert validate_result(one("shapes"), {"x": [box(x=0.1, w=9.9)]}, size)


@pytest.mark.parametrize(
    "payload",
    [{"src": {"width": 50, "height": 40}}, {"src": "https://x/y.png", "width": 50, "height": 40}],
)
def test_image_size_comes_from_the_source_object_or_the_payload(payload: dict[str, Any]) -> None:
    refused(
        one("shapes"),
        {"x": [box(x=45)]},
        "x[0].w",
        "right edge 55 is outside the image \\(0 to 50\\)",
        payload,
    )
    refused(one("shapes"), {"x": [box(y=35)]}, "x[0].h", "bottom edge 45 is outside", payload)


@pytest.mark.parametrize(
    "payload", [None, {}, {"width": "wide", "height": -1}, {"width": float("nan")}]
)
def test_shapes_without_a_usable_image_size_are_not_bounded(payload: Any) -> None:
    assert validate_result(one("shapes"), {"x": [box(x=5000)]}, payload)


@pytest.mark.parametrize(
    ("shape", "field", "match"),
    [
        ("box", "x[0]", "must be an object with kind, label"),
        ({"label": "a", "x": 0}, "x[0].kind", "^required$"),
        (box(kind="circle"), "x[0].kind", "must be 'box' or 'polygon', not 'circle'"),
        (box(label="z"), "x[0].label", "'z' is not one of"),
        (box(label=None), "x[0].label", "must be a label"),
        (box(z=1), "x[0].z", "unknown key 'z' in a box"),
        ({"kind": "box", "label": "a", "x": 0, "y": 0, "w": 1}, "x[0].h", "^required$"),
        (box(points=[]), "x[0].points", "unknown key 'points'"),
        (box(w=0), "x[0].w", "box w must be more than 0"),
        (box(h=-2), "x[0].h", "box h must be more than 0"),
        (box(x=float("nan")), "x[0].x", "finite number, not nan"),
        (box(y=float("inf")), "x[0].y", "finite number, not inf"),
        (box(x="1"), "x[0].x", "must be a number, not '1'"),
        (box(x=True), "x[0].x", "must be a number, not true"),
        (box(x=10**400), "x[0].x", "out of range"),
        (box(x=-1), "x[0].x", "x -1 is outside the image \\(0 to 100\\)"),
        (box(y=101), "x[0].y", "y 101 is outside the image"),
        (polygon("0,0 10,0 0,10"), "x[0].points", "must be a list of points"),
        (polygon([[0, 0], [1, 1]]), "x[0].points", "at least 3 points \\(got 2\\)"),
        (polygon([[0, 0]] * 1001), "x[0].points", "at most 1,000 points"),
        (polygon([[0, 0], [1, 1], [2]]), "x[0].points[2]", "must be a list \\[x, y\\]"),
        (
            polygon([[0, 0], [1, 1], {"x": 1, "y": 2}]),
            "x[0].points[2]",
            "must be a list \\[x, y\\]",
        ),
        (polygon([[0, 0], [1, 1], [2, None]]), "x[0].points[2][1]", "must be a number, not null"),
        (polygon([[0, 0], [1, 1], [101, 0]]), "x[0].points[2][0]", "x 101 is outside the image"),
        (polygon([[0, 0], [1, -1], [1, 0]]), "x[0].points[1][1]", "y -1 is outside the image"),
        ({"kind": "polygon", "label": "a"}, "x[0].points", "^required$"),
    ],
)
def test_shape_refusals(shape: Any, field: str, match: str) -> None:
    refused(one("shapes"), {"x": [shape]}, field, match, {"src": {"width": 100, "height": 100}})


def test_shape_kinds_are_limited_by_the_control() -> None:
    refused(
        one("shapes", kinds=["box"]),
        {"x": [polygon([[0, 0], [1, 0], [0, 1]])]},
        "x[0].kind",
        "must be 'box', not 'polygon'",
    )


def test_too_many_shapes_are_refused() -> None:
    refused(one("shapes"), {"x": [box()] * 10_001}, "x", "at most 10,000 shapes")


# --- transcription and text -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["transcription", "text"])
def test_free_text_rules(kind: str) -> None:
    schema = one(kind, max_length=5, required=True)
    assert validate_result(schema, {"x": "안녕하세요"}) == {"x": "안녕하세요"}
    assert validate_result(schema, {"x": ""}) == {"x": ""}
    refused(schema, {"x": "안녕하세요!"}, "x", "is 6 characters long; the limit is 5")
    refused(schema, {"x": "a\x00b"}, "x", "NUL")
    refused(schema, {"x": "\udc80"}, "x", "surrogate")
    refused(schema, {"x": 5}, "x", "must be text, not 5")
    refused(schema, {"x": ["a"]}, "x", "must be text, not a list")


def test_default_text_limits() -> None:
    assert validate_result(one("transcription"), {"x": "a" * 10_000})
    refused(
        one("transcription"),
        {"x": "a" * 10_001},
        "x",
        "10,001 characters long; the limit is 10,000",
    )
    refused(one("text"), {"x": "a" * 2_001}, "x", "the limit is 2,000")
    assert validate_result(one("text"), {}) == {"x": None}


# --- epochs -----------------------------------------------------------------------------


def test_epochs_match_the_recording_length() -> None:
    schema = one("epochs")
    assert validate_result(schema, {"x": ["a", "b", "c"]}, {"src": {"n_epochs": 3}})
    assert validate_result(schema, {"x": ["a", "b", "c"]}, {"src": {"duration_s": 61}})
    assert validate_result(schema, {"x": ["a", "b"]}, {"src": {"duration_s": 60.0}})
    assert validate_result(schema, {"x": []}, {"src": {"duration_s": 0}})
    assert validate_result(schema, {"x": ["a"] * 7}, {"src": "https://x/edf"})  # length unknown
    refused(schema, {"x": ["a", "b"]}, "x", "3 epochs, got 2", {"src": {"n_epochs": 3}})
    refused(schema, {"x": ["a"] * 4}, "x", "3 epochs, got 4", {"src": {"duration_s": 90}})


def test_epoch_count_tolerates_float_noise() -> None:
    schema = one("epochs", epoch_seconds=0.1)
    assert validate_result(schema, {"x": ["a"] * 3}, {"src": {"duration_s": 0.1 + 0.2}})


def test_n_epochs_wins_over_duration_and_bad_values_are_ignored() -> None:
    schema = one("epochs")
    assert validate_result(schema, {"x": ["a"]}, {"src": {"n_epochs": 1, "duration_s": 3000}})
    assert validate_result(schema, {"x": ["a"] * 2}, {"src": {"n_epochs": True, "duration_s": 31}})
    assert validate_result(
        schema, {"x": ["a"] * 5}, {"src": {"n_epochs": -1, "duration_s": "long"}}
    )


def test_required_epochs_need_every_label_but_optional_ones_allow_nulls() -> None:
    refused(one("epochs"), {"x": ["a", None, "b"]}, "x[1]", "epoch 1 is unlabelled")
    assert validate_result(one("epochs", required=False), {"x": ["a", None]}) == {"x": ["a", None]}


@pytest.mark.parametrize(
    ("value", "field", "match"),
    [
        ("a", "x", "must be a list of epochs"),
        (["a", "N9"], "x[1]", "'N9' is not one of"),
        ([1], "x[0]", "must be a label"),
    ],
)
def test_epoch_refusals(value: Any, field: str, match: str) -> None:
    refused(one("epochs"), {"x": value}, field, match)


def test_sleep_staging_night() -> None:
    schema = parse_schema(example_schema("sleep_staging"))
    night = {"signal": {"duration_s": 8 * 3600}}
    stages = ["W"] * 60 + ["N1", "N2", "N3", "N2", "REM"] * 180
    out = validate_result(schema, {"stages": stages}, night)
    assert len(out["stages"]) == 960
    assert out["quality"] is None


# --- example_result ---------------------------------------------------------------------


@pytest.mark.parametrize("name", example_schema_names())
def test_example_results_validate(name: str) -> None:
    schema = parse_schema(example_schema(name))
    result = example_result(schema)
    assert validate_result(schema, result) == result


def test_example_result_fits_the_payload() -> None:
    payload = {
        **PAYLOAD,
        "text": "Ada",
        "image": {"width": 4, "height": 3},
        "signal": {"duration_s": 95},
    }
    result = example_result(COMBINED, payload)
    assert result["entities"] == [{"start": 0, "end": 3, "label": "PER"}]
    assert result["objects"][0] == {"kind": "box", "label": "car", "x": 0, "y": 0, "w": 4, "h": 3}
    assert len(result["stages"]) == 4
    assert example_result(COMBINED, {**payload, "text": ""})["entities"] == []


def test_example_result_refuses_a_payload_that_cannot_be_answered() -> None:
    with pytest.raises(InputError, match="no text under 'text'"):
        example_result(COMBINED, {"image": {}})
    with pytest.raises(InputError, match="payload must be an object"):
        example_result(COMBINED, "text")  # type: ignore[arg-type]
