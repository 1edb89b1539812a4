"""The crowdworker's day in a real browser: keyboard labeling, drafts that survive a reload,
submits that survive the network, Korean everywhere, payloads shown as text, a CSP that
never fires on normal pages, and forms that refuse requests without their token."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from datadam.exporting.jsonl import worker_pseudonym
from datadam.i18n import translations
from datadam.i18n.catalog import collect_msgids
from tests.browser.support import (
    XSS_LABELS,
    XSS_PROJECT,
    XSS_TEXTS,
    Watch,
    api_session,
    login,
)
from tests.serverproc import TEST_SECRET

pytestmark = pytest.mark.browser

SENTIMENT = "감정 분류 (Korean sentiment)"
SENTIMENT_LABELS = ["긍정", "부정", "중립"]


def project_id_on_home(page: Any, name: str) -> int:
    page.goto("/work")
    card = page.locator("li.project-card", has=page.locator("h2", has_text=name))
    return int(card.get_attribute("data-project-id"))


def open_label_page(page: Any, project_id: int) -> None:
    """From the project's start page, with the keyboard: the start button has focus."""
    page.goto(f"/work/projects/{project_id}")
    page.wait_for_selector("form[action$='/start'] button:focus")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("body[data-ready='1']")


def assert_clean(page: Any, watch: Watch) -> None:
    assert watch.dialogs == [], f"a dialog opened: {watch.dialogs}"
    assert watch.violations(page) == [], f"CSP violations on {page.url}"


def current_assignment(page: Any) -> int:
    return int(page.get_attribute("body", "data-assignment-id"))


def test_keyboard_only_labeling_shows_next_item_without_reload(page: Any, watch: Watch) -> None:
    login(page, "worker1", next_path="/work")
    assert page.url.endswith("/work")
    assert_clean(page, watch)
    project_id = project_id_on_home(page, SENTIMENT)
    open_label_page(page, project_id)
    assert_clean(page, watch)
    first = current_assignment(page)
    first_item = page.get_attribute("body", "data-item-id")
    page.keyboard.press("3")
    page.wait_for_selector("body[data-save-state='saved']")
    focused = page.evaluate("document.activeElement && document.activeElement.value")
    assert focused == SENTIMENT_LABELS[2]
    page.evaluate("window.__navigations = performance.getEntriesByType('navigation').length")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"body[data-assignment-id]:not([data-assignment-id='{first}'])")
    assert page.url.endswith(f"/work/assignments/{current_assignment(page)}")
    assert page.get_attribute("body", "data-item-id") != first_item
    assert page.text_content("#save-state") in ("제출 완료", "Submitted")
    # The same document: the next item came without a page load.
    assert page.evaluate("window.__navigations") == 1
    assert_clean(page, watch)
    page.goto("/work/history")
    row = page.locator("#history-rows tr").first
    assert SENTIMENT in row.inner_text()
    assert SENTIMENT_LABELS[2] in row.inner_text()
    assert_clean(page, watch)


def test_reload_in_the_middle_restores_the_draft(page: Any, watch: Watch) -> None:
    login(page, "worker1", next_path="/work")
    project_id = project_id_on_home(page, SENTIMENT)
    open_label_page(page, project_id)
    assignment = current_assignment(page)
    page.keyboard.press("2")
    page.wait_for_selector("body[data-save-state='saved']")
    stored = page.evaluate(f"localStorage.getItem('datadam:draft:{assignment}')")
    assert json.loads(stored)["values"]["sentiment"] == SENTIMENT_LABELS[1]
    assert "@" not in stored  # the draft holds the answer only, nothing personal
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert current_assignment(page) == assignment
    checked = page.locator("#controls input[type=radio]:checked")
    assert checked.get_attribute("value") == SENTIMENT_LABELS[1]
    assert page.is_visible("#page-message")
    assert page.get_attribute("body", "data-save-state") == "saved"
    # Submitting clears the draft.
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(f"body[data-assignment-id]:not([data-assignment-id='{assignment}'])")
    assert page.evaluate(f"localStorage.getItem('datadam:draft:{assignment}')") is None
    assert_clean(page, watch)


def test_failed_submit_is_retried_with_the_same_id_and_stored_once(
    page: Any, watch: Watch, live_server: Any
) -> None:
    login(page, "worker2", next_path="/work")
    project_id = project_id_on_home(page, SENTIMENT)
    open_label_page(page, project_id)
    assignment = current_assignment(page)
    item_id = int(page.get_attribute("body", "data-item-id"))
    bodies: list[dict[str, Any]] = []
    aborted: list[bool] = []

    def flaky(route: Any) -> None:
        bodies.append(json.loads(route.request.post_data))
        if not aborted:
            aborted.append(True)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(f"**/api/v1/assignments/{assignment}/submit*", flaky)
    page.keyboard.press("1")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("body[data-save-state='offline']")
    pending = json.loads(page.evaluate(f"localStorage.getItem('datadam:draft:{assignment}')"))
    assert pending["pending"] is True
    page.wait_for_selector(
        f"body[data-assignment-id]:not([data-assignment-id='{assignment}'])", timeout=15_000
    )
    assert len(bodies) == 2
    assert bodies[0]["client_submission_id"] == bodies[1]["client_submission_id"]
    assert bodies[0]["result"] == bodies[1]["result"]
    assert_clean(page, watch)

    worker, _ = api_session(live_server.base_url, "worker2")
    worker_id = worker.get("/api/v1/me").json()["user"]["id"]
    worker.close()
    pseudonym = worker_pseudonym(TEST_SECRET, project_id, worker_id)
    manager, _ = api_session(live_server.base_url, "manager")
    try:
        mine = _annotations(manager, project_id, item_id, pseudonym)
    finally:
        manager.close()
    assert len(mine) == 1, mine
    assert mine[0]["result"]["sentiment"] == SENTIMENT_LABELS[0]


def _annotations(client: httpx.Client, project_id: int, item_id: int, worker: str) -> list[Any]:
    found, cursor = [], None
    while True:
        params = {"limit": 200} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"/api/v1/projects/{project_id}/annotations", params=params)
        page.raise_for_status()
        body = page.json()
        found += [a for a in body["items"] if a["item_id"] == item_id and a["worker"] == worker]
        cursor = body.get("next_cursor")
        if not cursor:
            return found


def _visible_strings(page: Any) -> list[str]:
    """Every visible text node and accessible-name attribute on the page, trimmed."""
    return list(
        page.evaluate(
            """() => {
              const out = [];
              const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
              while (walker.nextNode()) {
                const node = walker.currentNode;
                const el = node.parentElement;
                if (!el || el.closest('script,style,kbd,[hidden]')) continue;
                const text = node.textContent.trim();
                if (text) out.push(text);
              }
              for (const el of document.querySelectorAll('[aria-label],[title],[placeholder]')) {
                for (const a of ['aria-label', 'title', 'placeholder']) {
                  if (el.getAttribute(a)) out.push(el.getAttribute(a).trim());
                }
              }
              out.push(document.title.split(' · ')[0]);
              return out;
            }"""
        )
    )


def test_korean_pages_show_no_untranslated_text(page: Any, watch: Watch) -> None:
    korean = translations("ko")
    english_only = {m for m in collect_msgids() if korean.gettext(m) != m}
    login(page, "worker3", next_path="/work")
    project_id = project_id_on_home(page, SENTIMENT)
    seen: dict[str, list[str]] = {}
    seen["/work"] = _visible_strings(page)
    page.goto(f"/work/projects/{project_id}")
    seen["start"] = _visible_strings(page)
    open_label_page(page, project_id)
    page.click("#skip-button")  # the skip form's texts too
    seen["label"] = _visible_strings(page)
    page.goto("/work/history")
    seen["history"] = _visible_strings(page)
    page.goto("/account/password")
    seen["password"] = _visible_strings(page)
    for where, strings in seen.items():
        untranslated = sorted({s for s in strings if s in english_only})
        assert not untranslated, f"{where}: English left in the Korean UI: {untranslated}"
    assert page.get_attribute("html", "lang") == "ko"
    assert_clean(page, watch)


def test_payloads_in_items_labels_and_names_show_as_text(page: Any, watch: Watch) -> None:
    login(page, "worker3", next_path="/work")
    project_id = project_id_on_home(page, XSS_PROJECT)
    assert XSS_PROJECT in page.inner_text("main")
    open_label_page(page, project_id)
    view = page.inner_text("#item-view")
    assert any(text in view for text in XSS_TEXTS), view
    options = page.inner_text("#controls")
    for label in XSS_LABELS:
        assert label in options
    assert "<img src=x onerror=alert(1)>" in page.inner_text(".label-side")
    injected = page.evaluate(
        """() => document.querySelectorAll(
             'img, svg, iframe, b, script:not([src]):not([type="application/json"])').length"""
    )
    assert injected == 0
    page.keyboard.press("1")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("body[data-save-state='submitted']")
    page.goto("/work/history")
    assert XSS_LABELS[0] in page.inner_text("#history-rows")
    assert page.evaluate("document.querySelectorAll('main b, main img').length") == 0
    assert_clean(page, watch)


def test_login_password_language_and_error_pages_are_csp_clean(page: Any, watch: Watch) -> None:
    page.goto("/login")
    assert_clean(page, watch)
    assert page.get_attribute("html", "lang") == "en"  # from the browser's Accept-Language
    with page.expect_navigation():
        page.click("button[name=lang][value=ko]")
    assert page.inner_text("h1") == "로그인"
    with page.expect_navigation():
        page.click("button[name=lang][value=en]")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("h1") == "Log in"
    page.fill("#email", "worker1@demo.datadam.org")
    page.fill("#password", "wrong password here")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    assert "wrong" in page.inner_text("[role=alert]")
    login(page, "worker1", next_path="/account/password")
    assert page.inner_text("h1") == "Change password"
    assert_clean(page, watch)
    page.goto("/work/assignments/999999")
    assert page.inner_text("h1") == "Not found"
    assert_clean(page, watch)
    with page.expect_navigation():
        page.click("button[name=lang][value=ko]")
    assert page.get_attribute("html", "lang") == "ko"
    page.click(".user-menu summary")
    with page.expect_navigation():
        page.click("text=로그아웃")
    assert "/login" in page.url
    page.goto("/work")
    assert "/login?next=/work" in page.url


def test_forms_without_the_csrf_token_are_refused(page: Any, watch: Watch) -> None:
    login(page, "worker2", next_path="/work")
    project_id = project_id_on_home(page, SENTIMENT)
    no_token = page.request.post(f"/work/projects/{project_id}/start", form={"x": "1"})
    assert no_token.status == 403
    wrong = page.request.post("/logout", form={"csrf_token": "not-the-token"})
    assert wrong.status == 403
    refused_language = page.request.post("/language", form={"lang": "en", "next": "/work"})
    assert refused_language.status == 403
    # Still logged in: nothing above took effect.
    page.goto("/work")
    assert page.url.endswith("/work")
    anonymous = page.context.browser.new_context(base_url=page.url.split("/work")[0])
    try:
        login_csrf = anonymous.request.post(
            "/login",
            form={"email": "worker1@demo.datadam.org", "password": "demo-datadam-2026"},
        )
        assert login_csrf.status == 403
    finally:
        anonymous.close()
