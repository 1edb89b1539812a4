"""Screenshots of the labeling page for each widget (1280×800) into docs/screenshots/.

Run `python -m tests.media.widget_screenshots [--lang ko|en]`: starts a throwaway demo server,
logs in as the demo worker of each project, and shoots the real labeling page after a few
keyboard actions. multichoice and text, which no demo project uses, get a small project of
their own.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser.screenshots import OUT, browser_context, shoot  # noqa: E402
from tests.browser.support import (  # noqa: E402
    launch_chromium,
    login,
    new_project,
    start_demo_server,
)


def _label_page(page: Any, handle: str, project_name: str) -> None:
    login(page, handle, next_path="/work")
    card = page.locator("li.project-card", has_text=project_name)
    project_id = card.get_attribute("data-project-id")
    page.goto(f"/work/projects/{project_id}")
    page.locator("main button.primary[type=submit]").first.click()
    page.wait_for_url("**/work/assignments/**", wait_until="commit")
    page.wait_for_selector("body[data-ready='1']")


def widget_shots(browser: Any, base_url: str, out: Path, lang: str) -> list[Path]:
    taken = []
    with browser_context(browser, base_url, lang) as ctx:
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        _label_page(page, "worker1", "Korean sentiment")
        page.keyboard.press("1")
        taken.append(shoot(page, out / "widget-choice.png"))
    with browser_context(browser, base_url, lang) as ctx:
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        _label_page(page, "worker1", "Named entities")
        for key, times in (("Shift+ArrowRight", 12), ("p", 1), ("ArrowRight", 8)):
            for _ in range(times):
                page.keyboard.press(key)
        for key, times in (("Shift+ArrowRight", 17), ("o", 1), ("ArrowRight", 4)):
            for _ in range(times):
                page.keyboard.press(key)
        for _ in range(4):
            page.keyboard.press("Shift+ArrowRight")
        taken.append(shoot(page, out / "widget-spans.png"))
    with browser_context(browser, base_url, lang) as ctx:
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        _label_page(page, "worker1", "Street objects")
        page.wait_for_selector(".shapes-svg image[width]", state="attached")
        page.keyboard.press("Tab")
        page.locator(".shapes-stage").scroll_into_view_if_needed()
        taken.append(shoot(page, out / "widget-shapes.png"))
    with browser_context(browser, base_url, lang) as ctx:
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        _label_page(page, "worker1", "Voice transcription")
        page.keyboard.press("End")
        page.keyboard.type(" (확인)")
        taken.append(shoot(page, out / "widget-transcription.png"))
    with browser_context(browser, base_url, lang) as ctx:
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        _label_page(page, "sleeptech", "Sleep staging")
        page.wait_for_selector(".epoch-stage[data-page='0']", state="attached")
        for key in ("w", "w", "Enter", "Enter", "1"):
            page.keyboard.press(key)
        page.wait_for_timeout(300)
        page.locator(".widget-epochs").scroll_into_view_if_needed()
        taken.append(shoot(page, out / "widget-epochs.png"))
    controls = [
        {
            "name": "topics",
            "type": "multichoice",
            "label": "Which topics does the article cover? (주제)",
            "labels": ["politics", "economy", "science", "sport", "culture"],
            "min": 1,
            "max": 3,
        },
        {"name": "comment", "type": "text", "label": "Comment (의견)", "max_length": 2000},
    ]
    article = {
        "text": "연구진은 새 배터리 소재로 충전 시간을 절반으로 줄였다고 발표했다.",
        "suggestions": {"topics": ["science"], "comment": "모델 초안: 과학 기사입니다."},
    }
    new_project(
        base_url,
        name="Article topics (기사 주제)",
        schema={"version": 1, "controls": controls},
        rows=[article],
    )
    with browser_context(browser, base_url, lang) as ctx:
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        _label_page(page, "worker1", "Article topics")
        page.keyboard.press("2")
        taken.append(shoot(page, out / "widget-multichoice-text.png"))
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--lang", default="ko")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = start_demo_server(Path(tmp) / "data", with_xss_project=False)
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                for path in widget_shots(browser, server.base_url, args.out, args.lang):
                    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
