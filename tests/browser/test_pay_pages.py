"""Pay in a real browser: a worker's earnings and effective hourly wage from the demo's
closed month, a manager's below-minimum warning with the piece rate that would meet it, and
vendor A's workers kept apart from vendor B's."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from datadam.pay.demo_pay import previous_period
from datadam.storage.types import utcnow
from tests.browser.support import Watch, api_session, login, new_project

pytestmark = pytest.mark.browser

SCHEMA = {
    "version": 1,
    "controls": [{"name": "tone", "type": "choice", "labels": ["calm", "angry"]}],
}
DEMO_BANK_ACCOUNT = "000-00-0000001"  # worker1's, seeded by datadam.pay.demo_pay


def assert_clean(page: Any, watch: Watch) -> None:
    assert watch.dialogs == []
    assert watch.violations(page) == []


def test_worker_sees_earnings_and_effective_hourly_wage(page: Any, watch: Watch) -> None:
    period, _start = previous_period(utcnow())
    login(page, "worker1", next_path="/work")
    page.click("nav a[href='/work/pay']")
    page.select_option("#period", period)
    with page.expect_navigation():
        page.click("form[action='/work/pay'] button[type=submit]")
    assert page.locator("#period-title").inner_text().endswith(period)
    assert page.locator("#hours-worked").inner_text() == "2.16"  # 130 minutes of demo work
    assert page.locator("#earnings").inner_text().startswith("₩")
    effective = page.locator("#effective-hourly").inner_text()
    assert effective.startswith("₩") and effective != page.locator("#minimum-hourly").inner_text()
    assert page.locator("#below-minimum").is_visible()  # training paid below the minimum
    assert page.locator("#top-up").inner_text() != "₩0"
    assert page.locator("#earnings-by-day tbody tr").count() == 4
    with page.expect_download() as download:
        page.click(f"a[href='/work/pay/{period}/statement.csv']")
    assert download.value.suggested_filename == f"pay-statement-{period}.csv"
    assert_clean(page, watch)


def test_manager_sees_below_minimum_warning_with_a_suggested_rate(
    page: Any, watch: Watch, live_server: Any
) -> None:
    base = live_server.base_url
    project_id = new_project(
        base, name=f"Pay {uuid.uuid4().hex[:6]}", schema=SCHEMA, rows=[{"text": "a"}]
    )
    manager, manager_csrf = api_session(base, "manager")
    terms = {"piece_rate_minor": 0, "hourly_rate_minor": 0, "currency": "KRW", "country": "KR"}
    manager.put(
        f"/api/v1/projects/{project_id}/pay", headers={"X-CSRF-Token": manager_csrf}, json=terms
    ).raise_for_status()
    manager.close()
    worker, csrf = api_session(base, "worker2")
    task = worker.post(f"/api/v1/projects/{project_id}/tasks/next", headers={"X-CSRF-Token": csrf})
    assert task.status_code == 200, task.text
    worker.post(
        f"/api/v1/assignments/{task.json()['assignment_id']}/submit",
        headers={"X-CSRF-Token": csrf},
        json={"result": {"tone": "calm"}, "client_submission_id": uuid.uuid4().hex},
    ).raise_for_status()
    worker.close()

    login(page, "manager", next_path=f"/manage/projects/{project_id}")
    warning = page.locator("#pay-below-minimum")
    assert warning.is_visible()
    assert "₩" in warning.inner_text()  # the suggested piece rate, as money
    assert page.locator("#pay-median").inner_text() == "₩0"
    assert page.locator("#pay-below-count").inner_text() == "1 / 1"
    assert "Yoon" not in page.content() and "윤수빈" not in page.content()  # names stay private
    assert_clean(page, watch)


def test_worker_of_one_vendor_sees_nothing_of_another_vendors_workers(
    page: Any, watch: Watch, live_server: Any
) -> None:
    other, _ = api_session(live_server.base_url, "worker1")  # crowd-works
    other_id = other.get("/api/v1/me").json()["user"]["id"]
    other.close()
    login(page, "worker3", next_path="/work/pay")  # label-partners
    assert "강지우" not in page.content() and DEMO_BANK_ACCOUNT not in page.content()
    profile = page.request.get(f"/api/v1/workers/{other_id}/profile")
    assert profile.status == 404 and DEMO_BANK_ACCOUNT not in profile.text()
    page.goto("/payouts")
    assert DEMO_BANK_ACCOUNT not in page.content() and "강지우" not in page.content()
    vendors = page.request.get("/api/v1/organizations")
    for org in vendors.json() if vendors.ok else []:
        listed = page.request.get(f"/api/v1/organizations/{org['id']}/payout-requests")
        assert listed.status in (403, 404) and DEMO_BANK_ACCOUNT not in listed.text()
    own = page.request.get("/api/v1/me/profile")
    assert own.ok and DEMO_BANK_ACCOUNT not in own.text()
    assert_clean(page, watch)


def test_vendor_admin_sees_payout_details_of_its_own_workers(page: Any, watch: Watch) -> None:
    login(page, "vendor", next_path="/payouts")
    assert DEMO_BANK_ACCOUNT in page.content()
    assert page.locator("tr[data-request-id] form[action$='/approve']").count() >= 1
    assert_clean(page, watch)
