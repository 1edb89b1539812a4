"""spans widget: keyboard selection in Korean text with emoji gives Python code-point offsets,
mouse selection, overlap rules, deleting by keyboard, suggestions, payload text as text."""

from __future__ import annotations

from typing import Any

import pytest

from datadam.schema import parse_schema
from datadam.schema.validation import validate_result
from tests.browser.support import Watch, login
from tests.browser.test_widgets_choice import assert_clean
from tests.media.harness import open_harness, value

pytestmark = pytest.mark.browser

TEXT = "😀 이순신 장군은 한산도에서 승리했다. <img src=x onerror=alert(1)>"
CONTROL = {
    "name": "entities",
    "type": "spans",
    "source": "text",
    "labels": ["PER", "LOC"],
    "hotkeys": ["p", "l"],
    "allow_overlap": False,
}


@pytest.fixture
def harness(page: Any) -> Any:
    login(page, "manager", next_path="/")
    return page


def press(page: Any, key: str, times: int) -> None:
    for _ in range(times):
        page.keyboard.press(key)


def check_server_side(result: list[dict[str, Any]], control: dict[str, Any] = CONTROL) -> None:
    schema = parse_schema({"version": 1, "controls": [control]})
    validate_result(schema, {control["name"]: result}, {"text": TEXT})


def test_keyboard_selection_gives_code_point_offsets(harness: Any, watch: Watch) -> None:
    page = harness
    open_harness(page, controls=[CONTROL], payload={"text": TEXT, "lang": "ko"})
    start = TEXT.index("이순신")  # Python offset: the emoji counts once
    assert start == 2
    press(page, "ArrowRight", start)
    press(page, "Shift+ArrowRight", 3)
    page.keyboard.press("p")
    loc = TEXT.index("한산도")
    press(page, "ArrowRight", loc - (start + 3))
    press(page, "Shift+ArrowRight", 3)
    page.keyboard.press("l")
    result = value(page, "entities")
    assert result == [
        {"start": 2, "end": 5, "label": "PER"},
        {"start": loc, "end": loc + 3, "label": "LOC"},
    ]
    assert [TEXT[s["start"] : s["end"]] for s in result] == ["이순신", "한산도"]
    check_server_side(result)
    # overlapping span refused when allow_overlap is false
    press(page, "Shift+ArrowLeft", 2)
    page.keyboard.press("p")
    assert len(value(page, "entities")) == 2
    assert "overlap" in page.locator(".widget-spans .widget-note").text_content()
    # delete the span under the caret by keyboard
    page.keyboard.press("Escape")
    page.keyboard.press("Delete")
    assert value(page, "entities") == [{"start": 2, "end": 5, "label": "PER"}]
    assert page.locator(".spans-text").text_content() == TEXT
    assert_clean(page, watch)


def test_mouse_selection_and_overlap_allowed(harness: Any, watch: Watch) -> None:
    page = harness
    control = CONTROL | {"allow_overlap": True}
    open_harness(page, controls=[control], payload={"text": TEXT})
    page.evaluate(
        """(needle) => {
        const area = document.querySelector('.spans-text');
        const node = area.firstChild.firstChild;  // one text node before any span exists
        const from = node.data.indexOf(needle);
        const range = document.createRange();
        range.setStart(node, from);
        range.setEnd(node, from + needle.length);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        area.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
    }""",
        "이순신 장군",
    )
    page.keyboard.press("p")
    page.keyboard.press("Home")
    press(page, "ArrowRight", 2)
    press(page, "Shift+ArrowRight", 3)
    page.keyboard.press("l")
    result = value(page, "entities")
    assert result == [
        {"start": 2, "end": 5, "label": "LOC"},
        {"start": 2, "end": 8, "label": "PER"},
    ]
    check_server_side(result, control)
    assert page.locator(".spans-text .seg.multi").count() == 1
    assert_clean(page, watch)


def test_suggested_spans_are_prefilled_and_editable(harness: Any, watch: Watch) -> None:
    page = harness
    suggested = [{"start": 2, "end": 5, "label": "PER"}]
    open_harness(
        page, controls=[CONTROL], payload={"text": TEXT, "suggestions": {"entities": suggested}}
    )
    assert value(page, "entities") == suggested
    assert page.locator(".widget-spans .suggestion-badge").is_visible()
    page.locator(".span-delete").first.focus()
    page.keyboard.press("Enter")
    assert value(page, "entities") == []
    assert not page.locator(".widget-spans .suggestion-badge").is_visible()
    assert_clean(page, watch)
