"""Screenshots of pages at 1280×800 in Korean and English, for docs/screenshots/.

Run `python -m tests.browser.screenshots` (starts a throwaway demo server). Other page
owners can reuse `shoot()` and `browser_context()` for their own pages, e.g. one shot per
labeling widget.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser.support import launch_chromium, login, start_demo_server  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}


@contextmanager
def browser_context(browser: Any, base_url: str, lang: str) -> Iterator[Any]:
    """A fresh context whose pages show in `lang` (the language cookie is preset)."""
    host = base_url.split("//", 1)[1].split(":")[0]
    ctx = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale=lang)
    ctx.add_cookies([{"name": "datadam_lang", "value": lang, "domain": host, "path": "/"}])
    try:
        yield ctx
    finally:
        ctx.close()


def shoot(page: Any, path: Path) -> Path:
    """Screenshot the viewport once fonts are ready and the page's script is done."""
    page.evaluate("document.fonts.ready.then(() => true)")
    if page.query_selector("#boot"):
        page.wait_for_selector("body[data-ready='1']")
    page.mouse.move(0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return path


def worker_shots(browser: Any, base_url: str, out: Path, handle: str = "worker1") -> list[Path]:
    """The worker home and the labeling page (sentiment project) in Korean and English."""
    taken = []
    for lang in ("ko", "en"):
        with browser_context(browser, base_url, lang) as ctx:
            page = ctx.new_page()
            login(page, handle, next_path="/work")
            taken.append(shoot(page, out / f"worker-home-{lang}.png"))
            card = page.locator("li.project-card", has_text="Korean sentiment")
            with page.expect_navigation():
                card.locator("button, a.button").first.click()
            page.wait_for_selector("body[data-ready='1']")
            page.keyboard.press("1")
            taken.append(shoot(page, out / f"worker-label-{lang}.png"))
    return taken


#: (file name, demo login, path, selector to wait for) of the promise pages, in Korean.
PROMISE_PAGES = [
    ("program-dashboard", "officer", "/program", "canvas"),
    ("program-scorecards", "officer", "/program/scorecards", "table"),
    ("program-audit", "auditor", "/program/audit", "table"),
    ("worker-pay", "worker1", "/work/pay", "main"),
]


def promise_shots(browser: Any, base_url: str, out: Path) -> list[Path]:
    """The program office's dashboard, scorecards and audit trail, the quality report of the
    Korean sentiment project, and the worker's pay page, as the demo data shows them."""
    taken = []
    with browser_context(browser, base_url, "ko") as ctx:
        page = ctx.new_page()
        for name, handle, path, ready in PROMISE_PAGES:
            ctx.clear_cookies()
            ctx.add_cookies([{"name": "datadam_lang", "value": "ko", "url": base_url}])
            login(page, handle, next_path=path)
            page.wait_for_selector(ready)
            page.wait_for_timeout(600)  # chart animation
            taken.append(shoot(page, out / f"{name}.png"))
        ctx.clear_cookies()
        ctx.add_cookies([{"name": "datadam_lang", "value": "ko", "url": base_url}])
        login(page, "manager", next_path="/manage")
        page.locator("a", has_text="Korean sentiment").first.click()
        page.wait_for_selector("#quality-report-link")
        page.locator("#quality-report-link").click()
        page.wait_for_selector("canvas")
        page.wait_for_timeout(600)
        taken.append(shoot(page, out / "quality-report.png"))
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = start_demo_server(Path(tmp) / "data", with_xss_project=False)
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                shots = worker_shots(browser, server.base_url, args.out)
                shots += promise_shots(browser, server.base_url, args.out)
                for path in shots:
                    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
