"""The quality agency's auditor reads the program dashboard, the scorecards and the audit trail
on the demo data, with the charts drawn, and can change nothing: no form on those pages, and
writes sent anyway are refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.support import Watch, login
from tests.browser.test_manager_project import assert_clean

pytestmark = pytest.mark.browser

# True when the canvas has at least one painted (non-transparent) pixel.
PAINTED = """(id) => {
  const canvas = document.getElementById(id);
  if (!canvas || canvas.dataset.ready !== "true" || !canvas.width || !canvas.height) return false;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
  return false;
}"""


def charts_drawn(page: Any, *ids: str) -> None:
    for canvas in ids:
        page.wait_for_selector(f"#{canvas}[data-ready=true]")
        assert page.evaluate(PAINTED, canvas), f"{canvas} is blank on {page.url}"


def no_forms_in_main(page: Any) -> None:
    assert page.locator("main form[method=post]").count() == 0, page.url


def test_auditor_reads_dashboard_scorecards_and_trail(page: Any, watch: Watch) -> None:
    login(page, "auditor")
    assert page.url.endswith("/program")
    charts_drawn(page, "labels-chart", "pay-chart", "quality-chart")
    assert int(page.locator("[data-stat=labels]").inner_text()) > 0
    no_forms_in_main(page)
    assert_clean(page, watch)

    page.get_by_role("link", name="Review sentiment for the program report").click()
    page.wait_for_url("**/program/projects/*")
    charts_drawn(page, "labels-chart", "pay-chart")
    assert int(page.locator("[data-stat=labels]").inner_text()) > 0
    no_forms_in_main(page)

    page.goto("/program/scorecards")
    period = page.locator("#period option").nth(1).get_attribute("value")
    page.select_option("#period", period)
    with page.expect_navigation():
        page.get_by_role("button", name="Show period").click()
    charts_drawn(page, "ranking-chart")
    rows = page.locator("#scorecards tbody tr")
    assert rows.count() >= 4
    assert "Data Makers" in page.locator("#scorecards").inner_text()
    csv = page.request.get(page.locator("#scorecards-csv").get_attribute("href"))
    assert csv.status == 200 and "share_hours_at_minimum" in csv.text()
    no_forms_in_main(page)

    page.goto("/program/audit")
    assert page.locator("#audit-events tbody tr").count() == 50
    page.fill("#f-action", "pay.")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    actions = page.locator("#audit-events [data-action]").all_inner_texts()
    assert actions and all(a.startswith("pay.") for a in actions)
    exported = page.request.get(page.locator("#export-jsonl").get_attribute("href"))
    assert exported.status == 200 and '"pay.close_period"' in exported.text()
    page.goto("/program/audit")
    with page.expect_navigation():
        page.locator("#older-events").click()
    assert page.locator("#audit-events tbody tr").count() > 0
    page.locator("#verify-link").click()
    page.wait_for_selector("#chain-ok")
    assert_clean(page, watch)


def test_auditor_writes_are_refused(page: Any) -> None:
    login(page, "auditor", next_path="/program/audit")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    headers = {"X-CSRF-Token": token}
    before = page.request.get("/api/v1/audit/verify").json()["events"]
    refused = [
        page.request.put("/api/v1/talent/me", headers=headers, data={"fields": ["language"]}),
        page.request.post("/talent/fields", headers=headers, form={"field": "language"}),
        page.request.post(
            "/api/v1/talent/offers",
            headers=headers,
            data={"organization_id": 1, "candidate": "t_0", "field": "language", "title": "x"},
        ),
        page.request.put(
            "/api/v1/minimum-wages",
            headers=headers,
            data={
                "country": "KR",
                "effective_from": "2030-01-01",
                "hourly_minor": 1,
                "currency": "KRW",
            },
        ),
    ]
    assert [r.status for r in refused] == [403, 403, 403, 403]
    assert page.request.get("/api/v1/audit/verify").json()["events"] == before
