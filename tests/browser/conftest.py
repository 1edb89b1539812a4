"""Browser tests: one real `datadam` server on a free loopback port with the demo data, and one
headless Debian chromium for the whole session. Every test gets a fresh browser context.

Each page load is instrumented: dialogs (alert/confirm/prompt) and CSP violations are recorded
so tests can assert that none happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.support import CHROMIUM_PATH, Watch, launch_chromium, start_demo_server
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.browser


# Package scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, which would break later tests that start their own loop.
@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_demo_server(tmp_path_factory.mktemp("browser-data"))
    yield server
    server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(
            f"no chromium at {CHROMIUM_PATH}: apt-get install -y chromium fonts-noto-cjk "
            "(.ci/run does this)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def context(browser: Any, live_server: ServerProcess, watch: Watch) -> Iterator[Any]:
    ctx = browser.new_context(
        base_url=live_server.base_url,
        viewport={"width": 1280, "height": 800},
        locale="en-US",
    )
    watch.attach(ctx)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def api(live_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.base_url, timeout=10) as client:
        yield client
