"""shapes widget on a demo street image: boxes and polygons by keyboard alone (tool keys,
Enter, Tab, arrows, Delete, label keys), a box drawn with the mouse, suggestions, results the
server accepts, and payloads in labels shown as text."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from datadam.schema import parse_schema
from datadam.schema.validation import validate_result
from tests.browser.support import Watch, api_session, login
from tests.browser.test_widgets_choice import XSS_LABELS, assert_clean
from tests.media.harness import demo_items, open_harness, value

pytestmark = pytest.mark.browser

STREET = "Street objects (도로 객체 표시)"
CONTROL = {
    "name": "objects",
    "type": "shapes",
    "source": "image",
    "labels": ["car", "person", "bicycle"],
    "kinds": ["box", "polygon"],
}


@pytest.fixture(scope="module")
def street(live_server: Any) -> list[dict[str, Any]]:
    client, _ = api_session(live_server.base_url, "manager")
    try:
        return demo_items(client, STREET)[1]
    finally:
        client.close()


def open_item(page: Any, item: dict[str, Any], control: dict[str, Any] = CONTROL) -> None:
    login(page, "manager", next_path="/")
    open_harness(page, controls=[control], payload=item["payload"], item_id=item["id"])
    page.wait_for_selector(".shapes-svg image[width]", state="attached")


def server_accepts(result: list[dict[str, Any]], payload: dict[str, Any]) -> None:
    schema = parse_schema({"version": 1, "controls": [CONTROL]})
    validate_result(schema, {"objects": result}, payload)


def test_keyboard_only_boxes_and_polygons(
    page: Any, watch: Watch, street: list[dict[str, Any]]
) -> None:
    item = next(i for i in street if "suggestions" not in i["payload"])
    open_item(page, item)
    assert value(page, "objects") == []
    page.keyboard.press("b")
    page.keyboard.press("Enter")  # a box in the middle of the view, label "car"
    [box] = value(page, "objects")
    assert box["kind"] == "box" and box["label"] == "car"
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Alt+ArrowRight")
    page.keyboard.press("2")  # relabel the selected shape
    [moved] = value(page, "objects")
    assert moved["x"] == box["x"] + 3 and moved["y"] == box["y"] + 10
    assert moved["w"] == box["w"] + 1 and moved["label"] == "person"
    page.keyboard.press("p")
    page.keyboard.press("Escape")  # deselect, select tool
    page.keyboard.press("p")
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    shapes = value(page, "objects")
    assert [s["kind"] for s in shapes] == ["box", "polygon"]
    assert shapes[1]["label"] == "bicycle" and len(shapes[1]["points"]) == 4
    server_accepts(shapes, item["payload"])
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")  # first shape
    page.keyboard.press("Delete")
    assert [s["kind"] for s in value(page, "objects")] == ["polygon"]
    assert_clean(page, watch)


def test_mouse_box_and_clamping(page: Any, watch: Watch, street: list[dict[str, Any]]) -> None:
    item = street[1]
    open_item(page, item)
    page.keyboard.press("b")
    svg = page.locator(".shapes-svg").bounding_box()
    x0, y0 = svg["x"] + svg["width"] / 2, svg["y"] + svg["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 80, y0 + 40, steps=4)
    page.mouse.up()
    [box] = value(page, "objects")
    assert box["w"] > 10 and box["h"] > 5
    for _ in range(80):  # far past the right edge: clamped inside the image
        page.keyboard.press("Shift+ArrowRight")
    [box] = value(page, "objects")
    assert box["x"] + box["w"] <= item["payload"]["width"] + 1e-6
    server_accepts(value(page, "objects"), item["payload"])
    assert_clean(page, watch)


def test_suggested_boxes_prefilled_and_xss_labels_as_text(
    page: Any, watch: Watch, street: list[dict[str, Any]]
) -> None:
    item = next(i for i in street if "suggestions" in i["payload"])
    open_item(page, item)
    suggested = item["payload"]["suggestions"]["objects"]
    assert len(value(page, "objects")) == len(suggested)
    assert page.locator(".widget-shapes .suggestion-badge").is_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Delete")
    assert len(value(page, "objects")) == len(suggested) - 1
    assert not page.locator(".widget-shapes .suggestion-badge").is_visible()

    control = CONTROL | {"labels": XSS_LABELS}
    page.unroute("**/__widget_harness__")
    page.unroute("**/__widget_harness__.js")
    open_harness(
        page, controls=[control], payload=item["payload"] | {"suggestions": {}}, item_id=item["id"]
    )
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    assert page.locator(".shape-tag").text_content() == f"1 {XSS_LABELS[0]}"
    assert page.locator(".widget-shapes .label-button span").all_text_contents() == XSS_LABELS
    assert_clean(page, watch)


def test_media_of_a_foreign_item_is_not_served(
    live_server: Any, street: list[dict[str, Any]]
) -> None:
    client, _ = api_session(live_server.base_url, "sleeptech")  # hospital worker, not this project
    try:
        response = client.get(f"/api/v1/items/{street[0]['id']}/media")
    finally:
        client.close()
    assert response.status_code == 404
    anonymous = httpx.get(f"{live_server.base_url}/api/v1/items/{street[0]['id']}/media")
    assert anonymous.status_code == 401
