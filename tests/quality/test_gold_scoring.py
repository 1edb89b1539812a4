"""Gold scoring per control type, the mean over controls, and the correctness threshold."""

from __future__ import annotations

import pytest

from datadam.quality.gold_scoring import CORRECT_AT, box_iou, is_correct, normalise_text, score
from datadam.schema import example_schema, parse_schema


def _schema(*controls: dict) -> dict:
    return {"version": 1, "controls": list(controls)}


CHOICE = _schema({"name": "c", "type": "choice", "labels": ["a", "b"]})
MULTI = _schema({"name": "m", "type": "multichoice", "labels": ["a", "b", "c", "d"]})
SPANS = _schema({"name": "s", "type": "spans", "source": "t", "labels": ["PER", "ORG"]})
SHAPES = _schema({"name": "o", "type": "shapes", "source": "img", "labels": ["car", "dog"]})
EPOCHS = _schema(
    {"name": "e", "type": "epochs", "source": "sig", "labels": ["W", "N1"], "epoch_seconds": 30}
)
TEXT = _schema({"name": "tr", "type": "transcription", "source": "audio"})


def test_choice_is_exact_match() -> None:
    assert score(CHOICE, {"c": "a"}, {"c": "a"}) == 1.0
    assert score(CHOICE, {"c": "b"}, {"c": "a"}) == 0.0
    assert score(CHOICE, {}, {"c": "a"}) == 0.0
    assert is_correct(CHOICE, {"c": "a"}, {"c": "a"})
    assert not is_correct(CHOICE, {"c": "b"}, {"c": "a"})


def test_multichoice_is_jaccard() -> None:
    assert score(MULTI, {"m": ["a", "b"]}, {"m": ["b", "c"]}) == pytest.approx(1 / 3)
    assert score(MULTI, {"m": ["b", "a"]}, {"m": ["a", "b"]}) == 1.0
    assert score(MULTI, {"m": []}, {"m": []}) == 1.0
    assert score(MULTI, {"m": "a"}, {"m": ["a"]}) == 0.0


def test_spans_need_exact_boundaries_and_label() -> None:
    gold = {"s": [{"start": 0, "end": 4, "label": "PER"}, {"start": 10, "end": 13, "label": "ORG"}]}
    same = {"s": list(reversed(gold["s"]))}
    shifted = {"s": [{"start": 0, "end": 5, "label": "PER"}, gold["s"][1]]}
    relabelled = {"s": [{"start": 0, "end": 4, "label": "ORG"}]}
    assert score(SPANS, same, gold) == 1.0
    assert score(SPANS, shifted, gold) == pytest.approx(0.5)  # F1 of 1 match in 2 + 2
    assert score(SPANS, relabelled, gold) == 0.0
    assert score(SPANS, {"s": []}, {"s": []}) == 1.0


def test_boxes_match_at_iou_half_with_same_label() -> None:
    gold = {"o": [{"kind": "box", "label": "car", "x": 0, "y": 0, "w": 10, "h": 10}]}
    close = {"o": [{"kind": "box", "label": "car", "x": 1, "y": 0, "w": 10, "h": 10}]}
    far = {"o": [{"kind": "box", "label": "car", "x": 6, "y": 0, "w": 10, "h": 10}]}
    wrong_label = {"o": [{"kind": "box", "label": "dog", "x": 0, "y": 0, "w": 10, "h": 10}]}
    extra = {"o": close["o"] + [{"kind": "box", "label": "dog", "x": 50, "y": 50, "w": 5, "h": 5}]}
    assert score(SHAPES, close, gold) == 1.0
    assert score(SHAPES, far, gold) == 0.0  # IoU 40/160 = 0.25
    assert score(SHAPES, wrong_label, gold) == 0.0
    assert score(SHAPES, extra, gold) == pytest.approx(2 / 3)


def test_one_box_matches_only_one_gold_box() -> None:
    box = {"kind": "box", "label": "car", "x": 0, "y": 0, "w": 10, "h": 10}
    assert score(SHAPES, {"o": [box]}, {"o": [box, box]}) == pytest.approx(2 / 3)


def test_polygon_compared_by_bounding_box() -> None:
    polygon = {"kind": "polygon", "label": "car", "points": [[0, 0], [10, 0], [10, 10], [0, 10]]}
    box = {"kind": "box", "label": "car", "x": 0, "y": 0, "w": 10, "h": 10}
    assert score(SHAPES, {"o": [polygon]}, {"o": [box]}) == 1.0


def test_box_iou() -> None:
    assert box_iou((0, 0, 2, 2), (1, 0, 3, 2)) == pytest.approx(1 / 3)
    assert box_iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert box_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0


def test_epochs_fraction_equal_over_longer_list() -> None:
    assert score(EPOCHS, {"e": ["W", "N1", "W", "W"]}, {"e": ["W", "N1", "N1", "W"]}) == 0.75
    assert score(EPOCHS, {"e": ["W"]}, {"e": ["W", "W"]}) == 0.5


def test_text_equal_after_normalisation() -> None:
    assert score(TEXT, {"tr": "  Hello,   WORLD! "}, {"tr": "hello world"}) == 1.0
    assert score(TEXT, {"tr": "ＡＢＣ"}, {"tr": "abc"}) == 1.0  # full-width folds by NFKC
    assert score(TEXT, {"tr": "안녕 하세요"}, {"tr": "안녕하세요"}) == 0.0
    assert normalise_text("Ｎｏ.\t1") == "no 1"


def test_mean_over_controls_the_gold_fills() -> None:
    schema = example_schema("combined")
    answer = {"sentiment": "positive", "topics": ["a"], "comment": None}
    # topics half right (Jaccard 1/2), sentiment right: (1 + 0.5) / 2; the comment is skipped
    result = {"sentiment": "positive", "topics": ["a", "b"], "comment": "whatever"}
    assert score(schema, result, answer) == pytest.approx(0.75)
    assert not is_correct(schema, result, answer)
    assert is_correct(schema, result, answer, threshold=0.7)


def test_accepts_a_parsed_schema_and_empty_gold() -> None:
    parsed = parse_schema(CHOICE)
    assert score(parsed, {"c": "a"}, {"c": "a"}) == 1.0
    assert score(CHOICE, {"c": "b"}, {}) == 1.0
    assert score(CHOICE, "not a dict", {"c": "a"}) == 0.0  # type: ignore[arg-type]


def test_threshold_is_documented_value() -> None:
    assert CORRECT_AT == 0.8
