"""choice, multichoice and text widgets in a real browser: keyboard-only answers, suggestions
pre-filled and editable, payloads in labels shown as text, no CSP violation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.support import Watch, login
from tests.media.harness import open_harness, value

pytestmark = pytest.mark.browser

XSS_LABELS = [
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</script><script>alert(1)//",
]
INJECTED = "[onerror], [onload], img, script:not([src]):not([type='application/json'])"


def assert_clean(page: Any, watch: Watch) -> None:
    assert watch.dialogs == []
    assert watch.violations(page) == []
    assert page.evaluate(f"document.querySelectorAll({INJECTED!r}).length") == 0


@pytest.fixture
def harness(page: Any) -> Any:
    login(page, "manager", next_path="/")
    return page


def test_choice_by_number_keys_and_arrows(harness: Any, watch: Watch) -> None:
    page = harness
    control = {"name": "sentiment", "type": "choice", "labels": ["긍정", "부정", "중립"]}
    open_harness(page, controls=[control], payload={"text": "좋아요"})
    assert value(page, "sentiment") is None
    page.keyboard.press("2")
    assert value(page, "sentiment") == "부정"
    page.keyboard.press("ArrowRight")  # native radio group: the next option
    assert value(page, "sentiment") == "중립"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert value(page, "sentiment") == "긍정"
    assert page.locator(".widget-choice kbd").all_text_contents() == ["1", "2", "3"]
    assert_clean(page, watch)


def test_choice_suggestion_is_prefilled_then_editable(harness: Any, watch: Watch) -> None:
    page = harness
    control = {
        "name": "sentiment",
        "type": "choice",
        "labels": ["pos", "neg"],
        "hotkeys": ["a", "s"],
    }
    open_harness(page, controls=[control], payload={"suggestions": {"sentiment": "neg"}})
    assert value(page, "sentiment") == "neg"
    assert page.locator(".widget-choice .suggestion-badge").is_visible()
    page.keyboard.press("a")
    assert value(page, "sentiment") == "pos"
    assert not page.locator(".widget-choice .suggestion-badge").is_visible()
    assert_clean(page, watch)


def test_xss_labels_render_as_text(harness: Any, watch: Watch) -> None:
    page = harness
    controls = [
        {"name": "verdict", "type": "choice", "label": "<b>bold?</b>", "labels": XSS_LABELS},
        {"name": "tags", "type": "multichoice", "labels": XSS_LABELS, "hotkeys": ["q", "w", "e"]},
    ]
    open_harness(page, controls=controls, payload={})
    texts = page.locator(".widget-choice .choice-label").all_text_contents()
    assert texts == XSS_LABELS
    assert page.locator(".widget-choice .widget-title").text_content() == "<b>bold?</b>"
    page.keyboard.press("1")
    page.keyboard.press("w")
    assert value(page, "verdict") == XSS_LABELS[0]
    assert value(page, "tags") == [XSS_LABELS[1]]
    assert_clean(page, watch)


def test_multichoice_toggles_and_respects_max(harness: Any, watch: Watch) -> None:
    page = harness
    control = {"name": "topics", "type": "multichoice", "labels": ["a", "b", "c", "d"], "max": 2}
    open_harness(page, controls=[control], payload={"suggestions": {"topics": ["b"]}})
    assert value(page, "topics") == ["b"]
    assert page.locator(".widget-multichoice .suggestion-badge").is_visible()
    page.keyboard.press("1")
    assert value(page, "topics") == ["a", "b"]
    page.keyboard.press("3")  # a third label is refused (max 2)
    assert value(page, "topics") == ["a", "b"]
    assert "2" in page.locator(".widget-multichoice .widget-note").text_content()
    page.keyboard.press("2")
    page.keyboard.press("3")
    assert value(page, "topics") == ["a", "c"]
    page.keyboard.press("ArrowDown")  # focus moves to "d"; Space toggles it
    page.keyboard.press("Space")
    assert value(page, "topics") == ["a", "c"]  # still refused: max 2
    page.keyboard.press("1")  # a off; focus on a
    assert value(page, "topics") == ["c"]
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    assert value(page, "topics") == ["c", "d"]
    assert_clean(page, watch)


def test_text_counter_counts_code_points_and_keeps_payloads_as_text(
    harness: Any, watch: Watch
) -> None:
    page = harness
    control = {"name": "comment", "type": "text", "max_length": 10}
    open_harness(page, controls=[control], payload={"suggestions": {"comment": "초안"}})
    assert value(page, "comment") == "초안"
    assert page.locator(".widget-text .suggestion-badge").is_visible()
    page.keyboard.press("End")
    page.keyboard.type(" 😀<img src=x onerror=alert(1)>")
    assert value(page, "comment") == "초안 😀<img src=x onerror=alert(1)>"
    counter = page.locator(".widget-text .char-counter")
    assert counter.text_content().startswith("32 / 10")  # the JS string length is 33
    assert "over-limit" in counter.get_attribute("class")
    assert not page.locator(".widget-text .suggestion-badge").is_visible()
    assert_clean(page, watch)
