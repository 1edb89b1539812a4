"""Sleep staging in a real browser: the epochs widget on a demo night (synthetic EDF through
the signal endpoint) scored by keyboard alone, suggestions accepted with Enter, the hypnogram
jump, draw time, and the whole loop on the real labeling page down to the stored annotation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.support import Watch, api_session, login
from tests.browser.test_widgets_choice import assert_clean
from tests.media.harness import demo_items, open_harness, value

pytestmark = pytest.mark.browser

SLEEP = "Sleep staging (수면 단계 판독)"
CONTROL = {
    "name": "stages",
    "type": "epochs",
    "source": "signal",
    "labels": ["W", "N1", "N2", "N3", "REM"],
    "hotkeys": ["w", "1", "2", "3", "r"],
    "epoch_seconds": 30,
}


@pytest.fixture(scope="module")
def nights(live_server: Any) -> tuple[int, list[dict[str, Any]]]:
    client, _ = api_session(live_server.base_url, "manager")
    try:
        return demo_items(client, SLEEP)
    finally:
        client.close()


def open_night(page: Any, item: dict[str, Any], control: dict[str, Any] = CONTROL) -> None:
    login(page, "manager", next_path="/")
    open_harness(page, controls=[control], payload=item["payload"], item_id=item["id"])
    page.wait_for_selector(".epoch-stage[data-page='0']", state="attached")


def test_keyboard_scoring_with_suggestions(page: Any, watch: Watch, nights: Any) -> None:
    _, items = nights
    item = items[0]
    suggested = item["payload"]["suggestions"]["stages"]
    n = item["payload"]["signal"]["n_epochs"]
    open_night(page, item)
    assert value(page, "stages") == suggested  # pre-filled from the model
    assert page.locator(".widget-epochs .suggestion-badge").is_visible()
    assert page.locator(".epoch-model").text_content().startswith(f"Model: {suggested[0]}")
    page.keyboard.press("2")  # epoch 1 -> N2, move to epoch 2
    page.wait_for_selector(".epoch-stage[data-page='1']", state="attached")
    page.keyboard.press("r")  # epoch 2 -> REM
    page.keyboard.press("Enter")  # epoch 3: accept the model's stage
    page.keyboard.press("ArrowLeft")  # back to epoch 3
    page.keyboard.press("w")  # correct it to W
    got = value(page, "stages")
    assert got[:3] == ["N2", "REM", "W"] and got[3:] == suggested[3:]
    assert len(got) == n
    assert not page.locator(".widget-epochs .suggestion-badge").is_visible()
    # u: the next epoch the expert has not confirmed yet (epoch 5 after confirming 1-4)
    page.keyboard.press("Enter")
    page.keyboard.press("Home")
    page.keyboard.press("u")
    assert "Epoch 5 of" in page.locator(".epoch-where").text_content()
    # channels are drawn at a stated scale with a time axis
    header = page.evaluate(
        """async (id) => {
        const r = await fetch(`/api/v1/items/${id}/signal?page=0&format=json`);
        const body = await r.json();
        return body.channels.map((c) => [c.label, c.unit, c.kind, c.sfreq, c.n]);
    }""",
        item["id"],
    )
    assert [c[2] for c in header] == ["eeg", "eeg", "eog", "emg"]
    assert all(c[1] == "µV" and c[4] == 3000 for c in header)
    assert float(page.get_attribute(".epoch-stage", "data-draw-ms")) < 100
    assert_clean(page, watch)


def test_hypnogram_click_jumps_and_gain_keys(page: Any, watch: Watch, nights: Any) -> None:
    _, items = nights
    open_night(page, items[1])
    n = items[1]["payload"]["signal"]["n_epochs"]
    box = page.locator(".hypno-canvas").bounding_box()
    left = 44
    x = box["x"] + left + (box["width"] - left - 8) * (60.5 / n)
    page.mouse.click(x, box["y"] + box["height"] / 2)
    page.wait_for_selector(".epoch-stage[data-page='60']", state="attached")
    assert "Epoch 61 of" in page.locator(".epoch-where").text_content()
    page.keyboard.press("ArrowDown")  # pick the first channel
    page.keyboard.press("-")  # larger µV/div for that channel
    page.keyboard.press("End")
    page.wait_for_selector(f".epoch-stage[data-page='{n - 1}']", state="attached")
    assert_clean(page, watch)


def test_scoring_on_the_real_labeling_page_is_stored(
    page: Any, watch: Watch, nights: Any, live_server: Any
) -> None:
    project_id, items = nights
    login(page, "sleeptech", next_path="/work")
    page.goto(f"/work/projects/{project_id}")
    page.wait_for_selector("[autofocus]:focus", timeout=15_000)
    with page.expect_navigation(timeout=30_000):
        page.keyboard.press("Enter")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    page.wait_for_selector(".epoch-stage[data-page='0']", state="attached")
    item_id = int(page.get_attribute("body", "data-item-id"))
    item = next(i for i in items if i["id"] == item_id)
    suggested = item["payload"]["suggestions"]["stages"]
    page.keyboard.press("3")
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(
        f"body:not([data-item-id='{item_id}'])", state="attached", timeout=15_000
    )
    client, _ = api_session(live_server.base_url, "manager")
    try:
        rows = client.get(
            f"/api/v1/projects/{project_id}/annotations", params={"limit": 50}
        ).json()["items"]
    finally:
        client.close()
    stored = next(r for r in rows if r["item_id"] == item_id)
    assert stored["result"]["stages"] == ["N3", "N3", suggested[2], *suggested[3:]]
    assert_clean(page, watch)
