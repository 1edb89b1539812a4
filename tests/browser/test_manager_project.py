"""The project manager in a real browser: a new project through the schema editor (an error
first, then the fix), imports (a refused file lists its lines; a good one shows counts), the
project page with its chart and per-worker counts, the export, and a vendor manager kept out."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.support import Watch, api_session, login

pytestmark = pytest.mark.browser

LABELS = ["calm", "angry", "mixed"]
BAD_SCHEMA = json.dumps(
    {
        "version": 1,
        "title": "Tone",
        "controls": [{"name": "tone", "type": "choice", "source": "text", "labels": []}],
    }
)
GOOD_SCHEMA = """version: 1
title: Tone
controls:
  - name: tone
    type: choice
    source: text
    labels: [calm, angry, mixed]
    hotkeys: ["1", "2", "3"]
"""
BAD_FILE = b'{"text": "fine"}\n{"txt": "typo"}\n{"text": "also fine"}\n{"body": "wrong key"}\n'
GOOD_ROWS = [
    "The tea was warm and the room was quiet.",
    "Why does the bus never come on time?!",
    "Great service, terrible parking.",
    "회의는 예정대로 3시에 시작합니다.",
]


def assert_clean(page: Any, watch: Watch) -> None:
    assert watch.dialogs == [], f"a dialog opened: {watch.dialogs}"
    assert watch.violations(page) == [], f"CSP violations on {page.url}"


def label_as(base_url: str, handle: str, project_id: int, count: int) -> list[tuple[int, str]]:
    """Submit `count` labels as a demo worker through the API; returns (item id, label)."""
    client, csrf = api_session(base_url, handle)
    headers = {"X-CSRF-Token": csrf}
    done = []
    try:
        for n in range(count):
            task = client.post(f"/api/v1/projects/{project_id}/tasks/next", headers=headers)
            assert task.status_code == 200, task.text
            body = task.json()
            label = LABELS[n % len(LABELS)]
            submitted = client.post(
                f"/api/v1/assignments/{body['assignment_id']}/submit",
                headers=headers,
                json={"result": {"tone": label}, "client_submission_id": uuid.uuid4().hex},
            )
            assert submitted.status_code == 200, submitted.text
            done.append((body["item_id"], label))
    finally:
        client.close()
    return done


def upload(page: Any, name: str, content: bytes) -> None:
    page.set_input_files(
        "#import-file",
        files=[{"name": name, "mimeType": "application/x-ndjson", "buffer": content}],
    )
    page.click("#import-button")


def test_manager_builds_a_project_from_schema_to_export(
    page: Any, watch: Watch, live_server: Any, tmp_path: Path
) -> None:
    login(page, "manager", next_path="/manage/projects/new")
    name = f"Tone of voice {uuid.uuid4().hex[:6]}"
    page.fill("#name", name)
    page.fill("#overlap", "2")

    # An empty label list: the live check names the field while typing ...
    page.fill("#schema", BAD_SCHEMA)
    live_error = page.wait_for_selector("[data-schema-error]")
    assert "controls[0].labels" in live_error.inner_text()
    assert page.get_attribute("#schema", "aria-invalid") == "true"
    # ... and so does the server when the form is sent anyway; nothing is created.
    with page.expect_navigation():
        page.click("#project-form button[type=submit]")
    assert page.url.endswith("/manage/projects/new")
    assert "controls[0].labels" in page.inner_text("[data-schema-error]")
    assert page.input_value("#name") == name

    # The fix (in YAML) turns the status green and previews the choice widget.
    page.fill("#schema", GOOD_SCHEMA)
    page.wait_for_selector(".field-ok")
    preview = page.wait_for_selector(".preview-control[data-control=tone]")
    for label in LABELS:
        assert label in preview.inner_text()
    with page.expect_navigation():
        page.click("#project-form button[type=submit]")
    assert "/manage/projects/" in page.url
    project_id = int(page.url.rstrip("/").split("/")[-1])
    assert name in page.inner_text("h1")

    # A file with two bad lines is refused whole, and both lines are named.
    upload(page, "bad.jsonl", BAD_FILE)
    problems = page.wait_for_selector("#import-errors").inner_text()
    assert "line 2" in problems and "line 4" in problems
    # A good file shows what was imported.
    good = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in GOOD_ROWS)
    upload(page, "good.jsonl", good.encode())
    done = page.wait_for_selector("#import-done").inner_text()
    assert "4" in done
    assert page.query_selector("#import-errors") is None

    # Give a vendor access with the form, then its workers label through the API.
    page.select_option("#vendor-org", label="Crowd Works Co. (크라우드웍스)")
    with page.expect_navigation():
        page.click("#vendors .row-form button[type=submit]")
    assert "Crowd Works" in page.inner_text("#granted-vendors")
    submitted = label_as(live_server.base_url, "worker1", project_id, 4)
    submitted += label_as(live_server.base_url, "worker2", project_id, 2)

    page.reload()
    page.wait_for_selector("#progress-chart[data-ready=true]")
    assert page.inner_text("[data-stat=items]") == "4"
    assert page.inner_text("[data-stat=labels]") == "6"
    assert page.inner_text("[data-stat=workers]") == "2"
    rows = page.query_selector_all("#worker-counts tbody tr")
    counts = [int(r.query_selector("td.num").inner_text()) for r in rows]
    assert counts == [4, 2]
    shown_workers = {r.query_selector("[data-worker]").inner_text() for r in rows}
    assert all(w.startswith("w_") for w in shown_workers)
    page_text = page.inner_text("main")
    assert "demo.datadam.org" not in page_text.split("People of")[0]  # no e-mails in stats

    # The export holds every label, under the same pseudonyms as the page.
    with page.expect_download() as download_info:
        page.click("#export-link")
    target = tmp_path / "export.jsonl"
    download_info.value.save_as(target)
    lines = [json.loads(line) for line in target.read_text().splitlines() if line.strip()]
    assert len(lines) == 4
    exported = sorted(
        (line["item_id"], a["result"]["tone"]) for line in lines for a in line["annotations"]
    )
    assert exported == sorted(submitted)
    assert {a["worker"] for line in lines for a in line["annotations"]} == shown_workers
    assert_clean(page, watch)


def _project_id(base_url: str, name: str) -> int:
    client, _csrf = api_session(base_url, "manager")
    try:
        projects = client.get("/api/v1/projects", params={"limit": 500}).json()["items"]
    finally:
        client.close()
    return next(p["id"] for p in projects if p["name"] == name)


def test_vendor_manager_cannot_open_a_manage_page(
    page: Any, watch: Watch, live_server: Any
) -> None:
    granted = _project_id(live_server.base_url, "감정 분류 (Korean sentiment)")
    foreign = _project_id(live_server.base_url, "Sleep staging (수면 단계 판독)")
    login(page, "vendor", next_path="/work")
    for project_id in (granted, foreign, 999_999):
        response = page.goto(f"/manage/projects/{project_id}")
        assert response is not None and response.status == 404, project_id
        assert page.query_selector("#import-form") is None
    # The vendor's own forms cannot reach the project either (404 after a valid token).
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    refused = page.request.post(
        f"/manage/projects/{granted}/vendors", form={"csrf_token": token, "organization_id": "1"}
    )
    assert refused.status == 404
    no_token = page.request.post(f"/manage/projects/{granted}/vendors", form={"x": "1"})
    assert no_token.status == 403
    assert_clean(page, watch)


def test_manage_pages_show_payloads_as_text(page: Any, watch: Watch, live_server: Any) -> None:
    """The XSS project's name and an import error echoing a payload stay text (C-12)."""
    from tests.browser.support import XSS_PROJECT

    project_id = _project_id(live_server.base_url, XSS_PROJECT)
    login(page, "manager", next_path=f"/manage/projects/{project_id}")
    assert XSS_PROJECT in page.inner_text("h1")
    upload(page, "<img src=x onerror=alert(1)>.jsonl", b'{"text": 1}\n[<script>alert(1)</script>\n')
    page.wait_for_selector("#import-errors")
    injected = page.evaluate(
        """() => document.querySelectorAll(
             'main img, main svg, main iframe, script:not([src]):not([type="application/json"])'
           ).length"""
    )
    assert injected == 0
    assert_clean(page, watch)
    with httpx.Client(base_url=live_server.base_url) as anonymous:
        assert anonymous.get(f"/manage/projects/{project_id}").status_code == 303


def test_manager_and_inspector_pages_are_korean_throughout(
    page: Any, watch: Watch, live_server: Any
) -> None:
    """The demo manager and inspector use Korean: no English message is left on their pages."""
    from datadam.i18n import translations
    from datadam.i18n.catalog import collect_msgids
    from tests.browser.test_worker_pages import _visible_strings

    korean = translations("ko")
    english_only = {m for m in collect_msgids() if korean.gettext(m) != m}
    sentiment = _project_id(live_server.base_url, "감정 분류 (Korean sentiment)")
    seen: dict[str, list[str]] = {}
    login(page, "manager", next_path="/manage")
    for path in ("/manage", "/manage/projects/new", f"/manage/projects/{sentiment}"):
        page.goto(path)
        page.wait_for_selector("#schema-status p, main h1")
        seen[path] = _visible_strings(page)
    assert page.get_attribute("html", "lang") == "ko"
    page.context.clear_cookies()
    login(page, "inspector", next_path="/inspect")
    seen["/inspect"] = _visible_strings(page)
    for where, strings in seen.items():
        untranslated = sorted({s for s in strings if s in english_only})
        assert not untranslated, f"{where}: English left in the Korean UI: {untranslated}"
    assert_clean(page, watch)


def test_schema_preview_and_inspector_show_payloads_as_text(
    page: Any, watch: Watch, live_server: Any
) -> None:
    """C-12 on the editor's live preview and on the inspector's read-only answer."""
    from tests.browser.support import XSS_LABELS, XSS_PROJECT, XSS_TEXTS

    project_id = _project_id(live_server.base_url, XSS_PROJECT)
    client, csrf = api_session(live_server.base_url, "worker3")
    try:
        task = client.post(
            f"/api/v1/projects/{project_id}/tasks/next", headers={"X-CSRF-Token": csrf}
        )
        if task.status_code == 200:
            client.post(
                f"/api/v1/assignments/{task.json()['assignment_id']}/submit",
                headers={"X-CSRF-Token": csrf},
                json={"result": {"verdict": XSS_LABELS[0]}, "client_submission_id": "xss-1"},
            ).raise_for_status()
    finally:
        client.close()
    injected_js = """() => document.querySelectorAll(
        'main img, main svg, main iframe, main b, script:not([src]):not([type="application/json"])'
      ).length"""

    login(page, "inspector", next_path=f"/inspect/projects/{project_id}")
    page.wait_for_selector(".preview-control[data-control=verdict]")
    assert any(text in page.inner_text("#payload-view") for text in XSS_TEXTS)
    answer = page.inner_text("#answer-view")
    assert all(label in answer for label in XSS_LABELS)
    assert page.evaluate(injected_js) == 0

    page.context.clear_cookies()
    login(page, "manager", next_path="/manage/projects/new")
    schema = {
        "version": 1,
        "title": "</script><script>alert(1)//",
        "controls": [
            {
                "name": "verdict",
                "type": "choice",
                "source": "text",
                "label": "<img src=x onerror=alert(1)>",
                "labels": XSS_LABELS,
            }
        ],
    }
    page.click(".sample-item summary")
    page.fill("#sample-payload", json.dumps({"text": XSS_TEXTS[0]}))
    page.fill("#schema", json.dumps(schema))
    page.wait_for_selector(".field-ok")
    preview = page.wait_for_selector(".preview-control[data-control=verdict]").inner_text()
    assert "<img src=x onerror=alert(1)>" in preview and XSS_LABELS[0] in preview
    assert XSS_TEXTS[0] in page.inner_text("#preview-item")
    page.fill("#schema", '{"version": 1, "title": "<b>x</b>", "controls": "<b>y</b>"}')
    assert "controls" in page.wait_for_selector("[data-schema-error]").inner_text()
    assert page.evaluate(injected_js) == 0
    assert_clean(page, watch)
