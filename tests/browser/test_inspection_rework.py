"""Inspection in a real browser: an inspector rejects with a reason, the worker sees the reason
and reworks the item; nobody can inspect their own work."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.browser.support import Watch, api_session, login, new_project
from tests.browser.test_manager_project import assert_clean

pytestmark = pytest.mark.browser

SCHEMA = {
    "version": 1,
    "title": "Tone",
    "controls": [
        {"name": "tone", "type": "choice", "source": "text", "labels": ["calm", "angry", "mixed"]}
    ],
}


def label(base_url: str, handle: str, project_id: int, tone: str) -> int:
    """One label through the API as a demo worker; returns the annotation id."""
    client, csrf = api_session(base_url, handle)
    headers = {"X-CSRF-Token": csrf}
    try:
        task = client.post(f"/api/v1/projects/{project_id}/tasks/next", headers=headers)
        assert task.status_code == 200, task.text
        done = client.post(
            f"/api/v1/assignments/{task.json()['assignment_id']}/submit",
            headers=headers,
            json={"result": {"tone": tone}, "client_submission_id": uuid.uuid4().hex},
        )
        assert done.status_code == 200, done.text
        return int(done.json()["annotation_id"])
    finally:
        client.close()


def checked(page: Any, scope: str) -> str | None:
    return page.eval_on_selector(
        f"{scope} .preview-control[data-control=tone]",
        "box => (box.querySelector('input:checked') || {}).value || null",
    )


def test_rejected_work_comes_back_with_the_reason_and_is_reworked(
    page: Any, watch: Watch, live_server: Any
) -> None:
    base = live_server.base_url
    name = f"Rework me {uuid.uuid4().hex[:6]}"
    project_id = new_project(base, name=name, schema=SCHEMA, rows=[{"text": "I asked twice!"}])
    annotation_id = label(base, "worker1", project_id, "calm")
    comment = f"Read the exclamation mark ({uuid.uuid4().hex[:4]})."

    login(page, "inspector", next_path=f"/inspect/projects/{project_id}")
    assert page.url.endswith(f"/work/{annotation_id}")
    page.select_option("#reject-reason", "wrong_label")
    reason_text = page.inner_text("#reject-reason option:checked").strip()
    page.fill("#reject-comment", comment)
    with page.expect_navigation():
        page.click("#reject-button")
    assert page.query_selector("#queue-empty") is not None  # nothing else waits
    assert_clean(page, watch)

    page.context.clear_cookies()
    login(page, "worker1", next_path="/work/rework")
    row = page.locator(f"#rework-rows tr[data-annotation='{annotation_id}']")
    assert row.locator("[data-reason]").inner_text().strip() == reason_text
    assert row.locator("[data-comment]").inner_text().strip() == comment
    with page.expect_navigation():
        row.locator("a").click()
    assert page.inner_text("#rework-reason [data-comment]").strip() == comment
    page.wait_for_selector("#rework-view .preview-control[data-control=tone] input")
    assert checked(page, "#rework-view") == "calm"
    page.locator("#rework-view .preview-control[data-control=tone] input[value=angry]").check()
    with page.expect_navigation():
        page.click("#rework-submit")
    assert page.query_selector("#rework-empty") is not None
    assert_clean(page, watch)

    # Back in the inspector's queue, with the reworked answer.
    page.context.clear_cookies()
    login(page, "inspector", next_path=f"/inspect/projects/{project_id}")
    assert page.url.endswith(f"/work/{annotation_id}")
    page.wait_for_selector("#answer-view .preview-control[data-control=tone] input")
    assert checked(page, "#answer-view") == "angry"
    assert_clean(page, watch)


def _dual_person(live_server: Any, handle: str) -> None:
    """A crowd-works member who is both a worker and an inspector (demo password)."""
    from datadam.access import people
    from datadam.access.passwords import hash_password
    from datadam.demo import DEMO_PASSWORD
    from datadam.domain.enums import Role
    from datadam.settings import Settings
    from datadam.storage.db import open_database
    from datadam.storage.tables import Organization
    from tests.conftest import TEST_SECRET

    settings = Settings(
        env="test",
        data_dir=live_server.data_dir,
        database_url=live_server.database_url,
        secret_key=TEST_SECRET,
        password_profile="cheapest",
    )
    db = open_database(live_server.database_url)
    try:
        with db.write() as session:
            org = session.query(Organization).filter_by(slug="crowd-works").one()
            user = people.create_user(
                session,
                email=f"{handle}@demo.datadam.org",
                display_name="Dual Role",
                password_hash=hash_password(DEMO_PASSWORD, settings=settings),
            )
            for role in (Role.WORKER, Role.INSPECTOR):
                people.add_membership(session, user_id=user.id, organization_id=org.id, role=role)
    finally:
        db.dispose()


def test_an_inspector_cannot_inspect_their_own_work(
    page: Any, watch: Watch, live_server: Any
) -> None:
    base = live_server.base_url
    handle = f"dual{uuid.uuid4().hex[:6]}"
    _dual_person(live_server, handle)
    name = f"Own work {uuid.uuid4().hex[:6]}"
    project_id = new_project(
        base, name=name, schema=SCHEMA, rows=[{"text": "One."}, {"text": "Two."}]
    )
    own = label(base, handle, project_id, "calm")
    other = label(base, "worker1", project_id, "mixed")

    login(page, handle, next_path="/inspect")
    row = page.locator("#inspect-projects tr", has_text=name)
    assert row.locator("td.num").inner_text() == "1"  # only worker1's work waits
    with page.expect_navigation():
        row.locator("a").click()
    assert page.url.endswith(f"/work/{other}")
    assert (
        page.query_selector("#next-link") is None and page.query_selector("#previous-link") is None
    )

    response = page.goto(f"/inspect/projects/{project_id}/work/{own}")
    assert response is not None and response.status == 403
    assert "own_work" in page.inner_text("main")
    assert page.query_selector("#verdict") is None

    client, csrf = api_session(base, handle)
    try:
        refused = client.post(
            f"/api/v1/projects/{project_id}/inspection/verdicts",
            headers={"X-CSRF-Token": csrf},
            json={"annotation_id": own, "outcome": "accept"},
        )
    finally:
        client.close()
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "own_work"
    assert_clean(page, watch)
