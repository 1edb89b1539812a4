"""transcription widget on a demo voice clip: the WAV comes from the media endpoint with its
validated type, the player is driven from the text box by keyboard, the model's draft is
pre-filled and editable, and text with markup stays text."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.support import Watch, api_session, login
from tests.browser.test_widgets_choice import assert_clean
from tests.media.harness import demo_items, open_harness, value

pytestmark = pytest.mark.browser

VOICE = "Voice transcription (음성 전사)"
CONTROL = {"name": "transcript", "type": "transcription", "source": "audio", "max_length": 200}


@pytest.fixture(scope="module")
def clips(live_server: Any) -> list[dict[str, Any]]:
    client, _ = api_session(live_server.base_url, "manager")
    try:
        return demo_items(client, VOICE)[1]
    finally:
        client.close()


def test_player_keys_while_typing_and_draft_editing(page: Any, watch: Watch, clips: Any) -> None:
    item = max(clips, key=lambda i: i["payload"]["title"])  # the longest clip (5 s)
    draft = item["payload"]["suggestions"]["transcript"]
    login(page, "manager", next_path="/")
    open_harness(page, controls=[CONTROL], payload=item["payload"], item_id=item["id"])
    page.wait_for_selector(".widget-audio", state="attached")
    page.wait_for_function("() => document.querySelector('.widget-audio').readyState >= 1")
    assert value(page, "transcript") == draft
    assert page.locator(".widget-transcription .suggestion-badge").is_visible()
    assert page.evaluate("document.activeElement.tagName") == "TEXTAREA"
    paused = "document.querySelector('.widget-audio').paused"
    page.keyboard.press("Control+Space")
    page.wait_for_function(f"() => !{paused}")
    page.keyboard.press("Alt+p")
    page.wait_for_function(f"() => {paused}")
    page.keyboard.press("Alt+ArrowUp")
    assert page.evaluate("document.querySelector('.widget-audio').playbackRate") == 1.25
    page.keyboard.press("Alt+ArrowRight")
    assert page.evaluate("document.querySelector('.widget-audio').currentTime") == pytest.approx(
        5, abs=0.6
    )
    page.keyboard.press("Alt+ArrowLeft")
    assert page.evaluate("document.querySelector('.widget-audio').currentTime") == pytest.approx(
        0, abs=0.6
    )
    page.keyboard.press("End")
    page.keyboard.type(" <script>alert(1)</script>")
    assert value(page, "transcript") == draft + " <script>alert(1)</script>"
    assert not page.locator(".widget-transcription .suggestion-badge").is_visible()
    assert_clean(page, watch)


def test_audio_is_served_as_validated_wav(live_server: Any, clips: Any) -> None:
    client, _ = api_session(live_server.base_url, "worker1")
    try:
        response = client.get(f"/api/v1/items/{clips[0]['id']}/media")
    finally:
        client.close()
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert response.content[:4] == b"RIFF"
