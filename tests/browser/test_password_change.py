"""Changing the password in one browser logs out the same person's other browser, keeps the
changing session, and only the new password logs in afterwards."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.support import DEMO_PASSWORD, Watch, demo_email, login

pytestmark = pytest.mark.browser

HANDLE = "auditor"  # no other browser test logs in as the auditor
NEW_PASSWORD = "a fresh passphrase for 2026"


def api_login(base_url: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        return client.post(
            "/api/v1/auth/login", json={"email": demo_email(HANDLE), "password": password}
        )


def test_password_change_logs_out_the_other_browser(
    browser: Any, live_server: Any, watch: Watch
) -> None:
    base = live_server.base_url
    contexts = [browser.new_context(base_url=base, locale="en-US") for _ in range(2)]
    try:
        here, elsewhere = (ctx.new_page() for ctx in contexts)
        for page in (here, elsewhere):
            watch.attach(page.context)
            login(page, HANDLE, next_path="/account/password")
        assert elsewhere.context.request.get("/api/v1/me").status == 200

        here.fill("#current_password", DEMO_PASSWORD)
        here.fill("#new_password", NEW_PASSWORD)
        here.fill("#new_password_again", NEW_PASSWORD)
        with here.expect_navigation():
            here.click("form[action='/account/password'] button[type=submit]")
        assert here.locator(".notice-ok[role=status]").is_visible(), here.inner_text("main")

        # The other browser's session is gone: the API says 401 and pages go to the login.
        assert elsewhere.context.request.get("/api/v1/me").status == 401
        elsewhere.goto("/account/password")
        assert "/login" in elsewhere.url
        # This browser stays logged in.
        assert here.context.request.get("/api/v1/me").status == 200
        assert api_login(base, DEMO_PASSWORD).status_code == 401
        assert api_login(base, NEW_PASSWORD).status_code == 200
        assert watch.dialogs == []
    finally:
        for ctx in contexts:
            ctx.close()
        restore(base)


def restore(base_url: str) -> None:
    """Put the demo password back so the session server stays usable."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        response = client.post(
            "/api/v1/auth/login", json={"email": demo_email(HANDLE), "password": NEW_PASSWORD}
        )
        if response.status_code != 200:
            return  # the change never happened
        client.post(
            "/api/v1/me/password",
            headers={"X-CSRF-Token": response.json()["csrf_token"]},
            json={"current_password": NEW_PASSWORD, "new_password": DEMO_PASSWORD},
        ).raise_for_status()
