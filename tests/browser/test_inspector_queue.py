"""The inspector in a real browser: submitted work, item by item, read-only, by keyboard."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from tests.browser.support import Watch, api_session, login
from tests.browser.test_manager_project import assert_clean, label_as

pytestmark = pytest.mark.browser

SCHEMA = {
    "version": 1,
    "title": "Tone",
    "controls": [
        {"name": "tone", "type": "choice", "source": "text", "labels": ["calm", "angry", "mixed"]}
    ],
}
TEXTS = ["Quiet morning by the river.", "I asked three times!", "비가 오지만 괜찮아요."]


def project_with_submitted_work(base_url: str) -> tuple[int, str, list[tuple[int, str]]]:
    """A fresh project of the demo institution, open to Crowd Works, with four labels."""
    client, csrf = api_session(base_url, "manager")
    headers = {"X-CSRF-Token": csrf}
    name = f"Inspect me {uuid.uuid4().hex[:6]}"
    try:
        me = client.get("/api/v1/me").json()
        orgs = {m["organization"]["slug"]: m["organization"]["id"] for m in me["memberships"]}
        created = client.post(
            "/api/v1/projects",
            headers=headers,
            json={
                "owner_org_id": orgs["hangul-institute"],
                "name": name,
                "labeling_schema": SCHEMA,
                "overlap": 2,
            },
        )
        created.raise_for_status()
        project_id = int(created.json()["id"])
        vendor, _ = api_session(base_url, "vendor")
        crowd_works = next(
            m["organization"]["id"] for m in vendor.get("/api/v1/me").json()["memberships"]
        )
        vendor.close()
        client.post(
            f"/api/v1/projects/{project_id}/vendors",
            headers=headers,
            json={"organization_id": crowd_works},
        ).raise_for_status()
        rows = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in TEXTS)
        client.post(
            f"/api/v1/projects/{project_id}/imports",
            headers=headers,
            files={"file": ("items.jsonl", rows.encode(), "application/x-ndjson")},
        ).raise_for_status()
    finally:
        client.close()
    work = label_as(base_url, "worker1", project_id, 3) + label_as(
        base_url, "worker2", project_id, 1
    )
    return project_id, name, work


def position(page: Any) -> tuple[int, int]:
    where = page.query_selector("#queue-position")
    shown = re.findall(r"\d+", where.inner_text())
    place, total = int(where.get_attribute("data-position")), int(where.get_attribute("data-total"))
    assert sorted(shown) == sorted([str(place), str(total)])  # the text says the same
    return place, total


def test_inspector_moves_through_submitted_work_read_only(
    page: Any, watch: Watch, live_server: Any
) -> None:
    project_id, name, work = project_with_submitted_work(live_server.base_url)
    login(page, "inspector", next_path="/inspect")
    row = page.locator("#inspect-projects tr", has_text=name)
    assert row.locator("td.num").inner_text() == "4"
    with page.expect_navigation():
        row.locator("a").click()
    assert f"/inspect/projects/{project_id}/work/" in page.url

    seen = []
    for step in range(4):
        page.wait_for_selector(".preview-control[data-control=tone] input")
        place, total = position(page)
        assert (place, total) == (step + 1, 4)
        worker = page.inner_text("[data-worker]")
        assert worker.startswith("w_") and "@" not in worker
        item_text = page.inner_text("#payload-view")
        checked = page.eval_on_selector(
            ".preview-control[data-control=tone]",
            "box => (box.querySelector('input:checked') || {}).value || null",
        )
        seen.append((item_text, checked, worker))
        # Read-only: clicking another label changes nothing.
        other = page.locator(".preview-control[data-control=tone] input:not(:checked)").first
        other.click(force=True)
        assert (
            page.eval_on_selector(
                ".preview-control[data-control=tone]",
                "box => (box.querySelector('input:checked') || {}).value || null",
            )
            == checked
        )
        if step < 3:
            with page.expect_navigation():
                page.keyboard.press("j" if step % 2 == 0 else "ArrowRight")
    assert page.query_selector("#next-link") is None  # the end of the queue

    # Every submitted label was shown once; two workers, each under one pseudonym.
    assert sorted(label for _text, label, _w in seen) == sorted(label for _i, label in work)
    assert len({w for *_rest, w in seen}) == 2
    assert sum(TEXTS[0] in text for text, *_ in seen) == 2  # overlap 2: both answers, adjacent

    with page.expect_navigation():
        page.keyboard.press("k")
    assert position(page) == (3, 4)
    with page.expect_navigation():
        page.keyboard.press("ArrowLeft")
    assert position(page) == (2, 4)
    assert_clean(page, watch)


def test_workers_and_strangers_have_no_queue(page: Any, watch: Watch, live_server: Any) -> None:
    project_id, _name, _work = project_with_submitted_work(live_server.base_url)
    login(page, "worker1", next_path="/work")
    response = page.goto(f"/inspect/projects/{project_id}")
    assert response is not None and response.status == 404
    page.context.clear_cookies()
    login(page, "sleeptech", next_path="/work")  # a worker of another institution
    response = page.goto(f"/inspect/projects/{project_id}")
    assert response is not None and response.status == 404
    assert_clean(page, watch)
