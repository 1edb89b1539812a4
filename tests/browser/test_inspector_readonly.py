"""The inspector sees a worker's answer in every widget with `readonly: true`: label keys, tool
keys, Enter, Delete and typing change nothing, and no editing hint or hotkey is shown."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from datadam.schema import parse_schema
from datadam.schema.examples import example_result
from tests.browser.support import Watch, api_session, login, new_project
from tests.browser.test_manager_project import assert_clean
from tests.media.harness import demo_items

pytestmark = pytest.mark.browser

SCHEMA = {
    "version": 1,
    "title": "Every widget",
    "controls": [
        {"name": "tone", "type": "choice", "source": "text", "labels": ["calm", "angry"]},
        {"name": "topics", "type": "multichoice", "labels": ["news", "sport", "art"]},
        {"name": "entities", "type": "spans", "source": "text", "labels": ["PER", "LOC"]},
        {"name": "comment", "type": "text"},
        {"name": "objects", "type": "shapes", "source": "image", "labels": ["car", "person"]},
        {"name": "transcript", "type": "transcription", "source": "audio"},
        {
            "name": "stages",
            "type": "epochs",
            "source": "signal",
            "labels": ["W", "N1", "N2", "N3", "REM"],
            "epoch_seconds": 30,
        },
    ],
}

# What the answer view shows, read from the DOM (not from the widgets' handles).
SHOWN = """() => {
  const view = document.getElementById("answer-view");
  const all = (sel) => [...view.querySelectorAll(sel)];
  return {
    tone: all("input[type=radio]:checked").map((i) => i.value),
    topics: all("input[type=checkbox]:checked").map((i) => i.value),
    texts: all("textarea").map((a) => a.value),
    spans: all(".span-item").map((li) => li.textContent),
    shapes: all(".shape-item .shape-where").map((s) => s.textContent),
    epoch: view.querySelector(".epoch-current").textContent,
    page: view.querySelector(".epoch-stage").dataset.page,
  };
}"""


VISIBLE = "sel => [...document.querySelectorAll(sel)].filter((e) => e.checkVisibility()).length"


def mixed_item(base_url: str) -> dict[str, Any]:
    """One item carrying text and the demo's image, audio and signal media."""
    client, _ = api_session(base_url, "manager")
    try:
        street = demo_items(client, "Street objects (도로 객체 표시)")[1][0]["payload"]
        voice = demo_items(client, "Voice transcription (음성 전사)")[1][0]["payload"]
        sleep = demo_items(client, "Sleep staging (수면 단계 판독)")[1][0]["payload"]
    finally:
        client.close()
    return {
        "text": "김민수 씨는 서울에서 일한다.",
        "image": street["image"],
        "width": street["width"],
        "height": street["height"],
        "audio": voice["audio"],
        "signal": sleep["signal"],
    }


def submit_as(base_url: str, handle: str, project_id: int, result: dict[str, Any]) -> None:
    client, csrf = api_session(base_url, handle)
    try:
        task = client.post(
            f"/api/v1/projects/{project_id}/tasks/next", headers={"X-CSRF-Token": csrf}
        )
        assert task.status_code == 200, task.text
        done = client.post(
            f"/api/v1/assignments/{task.json()['assignment_id']}/submit",
            headers={"X-CSRF-Token": csrf},
            json={"result": result, "client_submission_id": uuid.uuid4().hex},
        )
        assert done.status_code == 200, done.text
    finally:
        client.close()


def test_inspector_widgets_are_read_only(page: Any, watch: Watch, live_server: Any) -> None:
    base = live_server.base_url
    payload = mixed_item(base)
    result = example_result(parse_schema(SCHEMA), payload)
    result["comment"] = "looks fine"
    project_id = new_project(
        base, name=f"Read-only {uuid.uuid4().hex[:6]}", schema=SCHEMA, rows=[payload]
    )
    submit_as(base, "worker1", project_id, result)

    login(page, "inspector", next_path=f"/inspect/projects/{project_id}")
    assert f"/inspect/projects/{project_id}/work/" in page.url
    for name in [c["name"] for c in SCHEMA["controls"]]:
        page.wait_for_selector(f".preview-control[data-control={name}] .widget", state="attached")
    # Every widget honoured `readonly` (a widget that did not would be replaced by JSON), and
    # the media widgets found the item: the inspector's boot passes its id.
    assert page.locator("#answer-view .control-fallback").count() == 0
    page.wait_for_selector("#answer-view .shapes-svg image[width]", state="attached")
    page.wait_for_selector("#answer-view .epoch-stage[data-page='0']", state="attached")
    assert page.get_attribute("#answer-view audio", "src").endswith("source=audio")

    before = page.evaluate(SHOWN)
    assert before["tone"] == [result["tone"]] and before["topics"] == result["topics"]
    assert before["texts"] == [result["comment"], result["transcript"]]
    assert len(before["spans"]) == len(result["entities"]) > 0
    assert len(before["shapes"]) == len(result["objects"]) > 0
    assert result["stages"][0] in before["epoch"]

    # Nothing invites editing: no hotkeys, label or tool buttons, delete buttons or hints.
    for selector in (
        ".choice-option kbd",
        ".label-button",
        ".tool-button",
        ".span-delete",
        ".shape-delete",
        ".widget-spans .widget-hint",
        ".widget-multichoice .widget-hint",
    ):
        assert page.evaluate(VISIBLE, f"#answer-view {selector}") == 0, selector
    assert "Enter" not in page.inner_text("#answer-view .epoch-keys")
    assert page.eval_on_selector_all("#answer-view textarea", "as => as.every(a => a.readOnly)")
    assert page.locator("#answer-view fieldset:disabled").count() == 2

    # Label keys, tool keys, Enter and Delete: from the page, then from each widget's focus.
    for key in ["1", "2", "3", "w", "r", "b", "p", "Enter", "Delete", "Backspace"]:
        page.keyboard.press(key)
    page.focus("#answer-view .spans-text")
    for key in ["Shift+ArrowRight", "Shift+ArrowRight", "1", "2", "Delete", "Backspace"]:
        page.keyboard.press(key)
    page.focus("#answer-view .shapes-stage")
    for key in ["Tab", "ArrowRight", "Alt+ArrowDown", "1", "Delete", "Enter"]:
        page.keyboard.press(key)
    page.focus("#answer-view .epoch-stage")
    for key in ["w", "2", "Enter", "Delete"]:
        page.keyboard.press(key)
    for area in page.locator("#answer-view textarea").all():
        area.click()
        page.keyboard.type("xyz")
        page.keyboard.press("Backspace")
    page.locator("#answer-view .choice-option").last.click(force=True)
    assert page.evaluate(SHOWN) == before
    assert_clean(page, watch)
