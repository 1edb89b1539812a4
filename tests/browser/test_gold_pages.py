"""Gold, training and qualification in a real browser: a worker fails the qualification test
and cannot reach the project, then passes; training shows the answer and its explanation; a
worker answering at random is paused by gold accuracy, sees why, appeals, and is reinstated."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.browser.support import Watch, api_session, login, new_project

pytestmark = pytest.mark.browser

LABELS = ["positive", "negative", "neutral"]
SCHEMA = {
    "version": 1,
    "controls": [{"name": "sentiment", "type": "choice", "source": "text", "labels": LABELS}],
}


def assert_clean(page: Any, watch: Watch) -> None:
    assert watch.dialogs == [], f"a dialog opened: {watch.dialogs}"
    assert watch.violations(page) == [], f"CSP violations on {page.url}"


def known_project(
    base_url: str, name: str, *, real: int, known: list[tuple[str, str]], settings: dict[str, Any]
) -> int:
    """A project with `real` ordinary items plus items with known answers: (purpose, label)."""
    rows = [{"text": f"{name} ordinary {i}"} for i in range(real)]
    rows += [{"text": f"{name} known {i}"} for i in range(len(known))]
    project = new_project(base_url, name=name, schema=SCHEMA, rows=rows)
    client, csrf = api_session(base_url, "manager")
    headers = {"X-CSRF-Token": csrf}
    try:
        items = client.get(f"/api/v1/projects/{project}/items", params={"limit": 500}).json()
        by_text = {i["payload"]["text"]: i["id"] for i in items["items"]}
        for n, (purpose, label) in enumerate(known):
            client.post(
                f"/api/v1/projects/{project}/gold",
                headers=headers,
                json={
                    "item_id": by_text[f"{name} known {n}"],
                    "answer": {"sentiment": label},
                    "purpose": purpose,
                    "explanation": f"The words in known {n} are clearly {label}.",
                },
            ).raise_for_status()
        client.put(
            f"/api/v1/projects/{project}/quality/settings", headers=headers, json=settings
        ).raise_for_status()
    finally:
        client.close()
    return project


def next_task_status(base_url: str, handle: str, project: int) -> tuple[int, str | None]:
    client, csrf = api_session(base_url, handle)
    try:
        got = client.post(f"/api/v1/projects/{project}/tasks/next", headers={"X-CSRF-Token": csrf})
        code = got.json()["error"]["code"] if got.status_code >= 400 else None
        return got.status_code, code
    finally:
        client.close()


def answer_questions(page: Any, labels: list[str]) -> None:
    """Answer the open practice page's questions in turn with `labels`."""
    for n, label in enumerate(labels):
        page.wait_for_selector("body[data-ready='1']")
        page.click(f"#practice-controls label:has-text('{label}')")
        page.click("#practice-submit")
        page.wait_for_selector("body[data-answered='1']")
        if n < len(labels) - 1:
            with page.expect_navigation():
                page.click("#next-question")


def test_failed_qualification_keeps_the_project_closed_until_a_pass(
    page: Any, watch: Watch, live_server: Any
) -> None:
    base = live_server.base_url
    project = known_project(
        base,
        "Qualification browser test",
        real=3,
        known=[("qualification", "positive"), ("qualification", "negative")],
        settings={"qualification_required": True, "pass_mark": 1.0, "max_attempts": 2},
    )
    assert next_task_status(base, "worker1", project) == (403, "qualification_required")
    login(page, "worker1", next_path=f"/work/projects/{project}")
    assert page.is_visible("#qualification-needed")
    assert page.locator("form[action$='/start']").count() == 0  # no way into the work
    with page.expect_navigation():
        page.click("#take-test")
    answer_questions(page, ["neutral", "neutral"])
    assert page.get_attribute("#practice-feedback", "data-passed") == "0"
    assert "0%" in page.inner_text("#feedback-title")  # the score, in the reader's language
    assert page.is_hidden("#practice-next")
    page.click("#back-to-project")
    page.wait_for_selector("#qualification-last")
    assert "0%" in page.inner_text("#qualification-last")
    assert page.locator("#take-test").count() == 1  # a second attempt is left
    assert page.locator("form[action$='/start']").count() == 0
    assert next_task_status(base, "worker1", project) == (403, "qualification_required")

    with page.expect_navigation():
        page.click("#take-test")
    answer_questions(page, ["positive", "negative"])
    assert page.get_attribute("#practice-feedback", "data-passed") == "1"
    page.click("#back-to-project")
    page.wait_for_selector("#qualification-passed")
    with page.expect_navigation():
        page.click("form[action$='/start'] button")
    page.wait_for_selector("body[data-ready='1']")
    assert "/work/assignments/" in page.url
    assert_clean(page, watch)


def test_training_shows_the_correct_answer_and_its_explanation(
    page: Any, watch: Watch, live_server: Any
) -> None:
    project = known_project(
        live_server.base_url,
        "Training browser test",
        real=1,
        known=[("training", "negative"), ("training", "neutral")],
        settings={},
    )
    login(page, "worker2", next_path=f"/work/projects/{project}")
    assert page.locator("#start-training").count() == 1
    with page.expect_navigation():
        page.click("#start-training")
    answer_questions(page, ["positive"])
    assert page.inner_text("#feedback-title")
    assert page.get_attribute("#practice-feedback", "data-correct") == "0"
    page.wait_for_selector("#feedback-answer input[value='negative']:checked")
    assert page.is_disabled("#feedback-answer input[value='positive']")
    assert "clearly negative" in page.inner_text("#feedback-explanation")
    with page.expect_navigation():
        page.click("#next-question")
    answer_questions(page, ["neutral"])
    assert page.get_attribute("#practice-feedback", "data-correct") == "1"
    assert page.is_hidden("#practice-next")  # that was the last training question
    assert_clean(page, watch)


def label_at_random(base_url: str, handle: str, project: int, seed: int) -> int:
    """Take and submit tasks with random labels until the server refuses; returns how many."""
    pick = random.Random(seed)
    client, csrf = api_session(base_url, handle)
    headers = {"X-CSRF-Token": csrf}
    try:
        for n in range(200):
            got = client.post(f"/api/v1/projects/{project}/tasks/next", headers=headers)
            if got.status_code != 200:
                assert got.status_code == 403, got.text
                assert got.json()["error"]["code"] == "worker_paused"
                return n
            client.post(
                f"/api/v1/assignments/{got.json()['assignment_id']}/submit",
                headers=headers,
                json={
                    "result": {"sentiment": pick.choice(LABELS)},
                    "client_submission_id": f"r{n}",
                },
            ).raise_for_status()
    finally:
        client.close()
    raise AssertionError("a random labeller was never paused")


def test_random_labeller_is_paused_sees_why_appeals_and_is_reinstated(
    page: Any, browser: Any, watch: Watch, live_server: Any
) -> None:
    base = live_server.base_url
    project = known_project(
        base,
        "Gold browser test",
        real=40,
        known=[("gold", "positive")] * 12,
        settings={"gold_rate": 0.5, "min_gold_answers": 5, "pause_threshold": 0.9},
    )
    done = label_at_random(base, "worker1", project, seed=7)
    assert done >= 5
    login(page, "worker1", next_path=f"/work/projects/{project}")
    notice = page.inner_text("#pause-notice")
    assert page.is_visible("#pause-notice") and "90%" in notice  # the threshold it missed
    assert page.locator("form[action$='/start']").count() == 0
    page.fill("#appeal-text", "I rushed; I have reread the guideline.")
    with page.expect_navigation():
        page.click("#appeal-form button[type=submit]")
    page.wait_for_selector("#appeal-sent")
    assert_clean(page, watch)

    manager = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
    try:
        watch.attach(manager)
        desk = manager.new_page()
        login(desk, "manager", next_path=f"/manage/projects/{project}/quality")
        pause = desk.locator("article.pause[data-status='appealed']")
        assert "I rushed" in pause.inner_text()
        assert desk.locator("#gold-accuracy-table tbody tr").count() == 1
        desk.fill("article.pause input[name=note]", "Reinstated after review.")
        with desk.expect_navigation():
            desk.click("article.pause button[value=reinstate]")
        desk.wait_for_selector("#quality-notice")
        assert desk.locator("article.pause[data-status='reinstated']").count() == 1
        assert_clean(desk, watch)
    finally:
        manager.close()
    assert next_task_status(base, "worker1", project) == (200, None)

    # Now on the labeling page itself: one wrong gold answer pauses (threshold 100%), and the
    # page takes the worker to the project page, which says why.
    client, csrf = api_session(base, "manager")
    client.put(
        f"/api/v1/projects/{project}/quality/settings",
        headers={"X-CSRF-Token": csrf},
        json={"min_gold_answers": 1, "pause_threshold": 1.0},
    ).raise_for_status()
    client.close()
    page.goto(f"/work/projects/{project}")
    with page.expect_navigation():
        page.click("form[action$='/start'] button")
    page.wait_for_selector("body[data-ready='1']")
    for _ in range(40):
        if page.locator("#pause-notice").count():
            break
        current = page.get_attribute("body", "data-assignment-id")
        page.keyboard.press("3")
        page.keyboard.press("Control+Enter")
        page.wait_for_selector(
            f"body[data-assignment-id]:not([data-assignment-id='{current}']), #pause-notice"
        )
    assert page.url.endswith(f"/work/projects/{project}")
    assert "100%" in page.inner_text("#pause-notice")
    assert_clean(page, watch)
