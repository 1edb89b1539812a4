"""Labeling page timings in headless chromium against a local demo server; prints JSON.

* `label_page_interactive_ms`: navigation start → the page's `dd:interactive` mark (widgets
  mounted, draft restored, first control focused). Target < 300 ms.
* `next_item_after_submit_ms`: the `dd:submit` mark (Ctrl+Enter) → `dd:shown` (the next item
  is mounted and focused), including the submit and next-task requests. Target < 100 ms.
  `next_item_breakdown_median_ms` splits it into the submit request, the next-task request
  and the page's own work (rendering the next item).

Run: `python bench/ui_timings.py [--rounds 15]`. Localhost timings: network latency of a real
deployment adds about two round trips to the second figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser.support import launch_chromium, login, start_demo_server  # noqa: E402

SENTIMENT = "Korean sentiment"


def _summary(values: list[float], target: float) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 1),
        "p90": round(ordered[max(0, int(len(ordered) * 0.9) - 1)], 1),
        "max": round(ordered[-1], 1),
        "n": len(ordered),
        "target": target,
        "ok": statistics.median(ordered) < target,
    }


def _mark(page: Any, name: str) -> float:
    return float(
        page.evaluate(
            "(n) => { const e = performance.getEntriesByName(n); "
            "return e.length ? e[e.length - 1].startTime : -1; }",
            name,
        )
    )


def measure(base_url: str, rounds: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    interactive: list[float] = []
    next_item: list[float] = []
    parts: dict[str, list[float]] = {"submit_request": [], "next_request": [], "render": []}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
        page = ctx.new_page()
        login(page, "worker1", next_path="/work")
        card = page.locator("li.project-card", has_text=SENTIMENT)
        with page.expect_navigation():
            card.locator("button, a.button").first.click()
        page.wait_for_selector("body[data-ready='1']")
        label_url = page.url
        # Warm-up: module and font caches as a worker has them after the first item.
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        for _ in range(rounds):
            page.goto(label_url)
            page.wait_for_selector("body[data-ready='1']")
            interactive.append(_mark(page, "dd:interactive"))
        for _ in range(rounds):
            before = page.get_attribute("body", "data-assignment-id")
            page.keyboard.press("1")
            page.keyboard.press("Control+Enter")
            page.wait_for_selector(f"body[data-assignment-id]:not([data-assignment-id='{before}'])")
            marks = {
                n: _mark(page, f"dd:{n}") for n in ("submit", "submitted", "next-received", "shown")
            }
            next_item.append(marks["shown"] - marks["submit"])
            parts["submit_request"].append(marks["submitted"] - marks["submit"])
            parts["next_request"].append(marks["next-received"] - marks["submitted"])
            parts["render"].append(marks["shown"] - marks["next-received"])
        browser.close()
    return {
        "label_page_interactive_ms": _summary(interactive, 300),
        "next_item_after_submit_ms": _summary(next_item, 100),
        "next_item_breakdown_median_ms": {
            k: round(statistics.median(v), 1) for k, v in parts.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=12, help="Samples per figure (≤ 17).")
    parser.add_argument("--base-url", help="Use a running server (with the demo data).")
    args = parser.parse_args()
    rounds = max(3, min(args.rounds, 17))  # the demo project has 18 items for worker1
    if args.base_url:
        figures = measure(args.base_url, rounds)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            server = start_demo_server(Path(tmp) / "data", with_xss_project=False)
            try:
                figures = measure(server.base_url, rounds)
            finally:
                server.stop()
    print(json.dumps({"bench": "ui_timings", "backend": "sqlite", **figures}, indent=2))


if __name__ == "__main__":
    main()
