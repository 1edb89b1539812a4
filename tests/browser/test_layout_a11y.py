"""The labeling page and the manager's project page at tablet (768 px) and desktop (1280 px)
widths: no horizontal scrolling, every interactive control has an accessible name, and every
keyboard focus stop is visibly marked (outline or box-shadow)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.support import Watch, api_session, login, new_project

pytestmark = pytest.mark.browser

SCHEMA = {
    "version": 1,
    "title": "Layout check",
    "controls": [
        {"name": "tone", "type": "choice", "source": "text", "labels": ["calm", "angry", "mixed"]},
        {"name": "places", "type": "spans", "source": "text", "labels": ["PLACE", "PERSON"]},
        {"name": "comment", "type": "text"},
    ],
}
LONG = "부산에서 서울까지 가는 기차는 아침 일곱 시에 출발합니다. " * 6

# The accessible name, after the order of accname 1.2 that matters for our markup:
# aria-labelledby, aria-label, <label>s, contents (buttons, links), value, title.
UNNAMED = """() => {
  const text = (e) => (e.textContent || "").replace(/\\s+/g, " ").trim();
  function name(e) {
    const ids = e.getAttribute("aria-labelledby");
    if (ids) {
      const n = ids.split(/\\s+/).map((id) => document.getElementById(id)).filter(Boolean)
        .map(text).join(" ").trim();
      if (n) return n;
    }
    const aria = (e.getAttribute("aria-label") || "").trim();
    if (aria) return aria;
    if (e.labels && e.labels.length) {
      const n = [...e.labels].map(text).join(" ").trim();
      if (n) return n;
    }
    const role = e.getAttribute("role");
    const named = ["BUTTON", "A", "SUMMARY"].includes(e.tagName);
    if (named || ["button", "link", "tab"].includes(role)) {
      const n = text(e) || [...e.querySelectorAll("img[alt]")].map((i) => i.alt).join(" ").trim();
      if (n) return n;
    }
    if (e.tagName === "INPUT" && ["submit", "button", "reset"].includes(e.type) && e.value) {
      return e.value;
    }
    return (e.getAttribute("title") || "").trim();
  }
  const controls = "a[href], button, input:not([type=hidden]), select, textarea, summary, "
    + "audio[controls], [tabindex]:not([tabindex='-1']), [role=button], [role=checkbox], "
    + "[role=radio], [role=textbox], [role=application], [contenteditable=true]";
  return [...document.querySelectorAll(controls)]
    .filter((e) => e.checkVisibility({ visibilityProperty: true }))
    .filter((e) => !name(e))
    .map((e) => e.outerHTML.slice(0, 160));
}"""

# The focused element, and whether its focus shows (on itself or on the label wrapping it).
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const marked = (x) => {
    if (!x) return false;
    const s = getComputedStyle(x);
    return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
  };
  const where = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + e.className;
  return { where: where + " " + (e.textContent || "").trim().slice(0, 30),
           visible: marked(e) || marked(e.closest("label")) };
}"""


@pytest.fixture(scope="module")
def layout_project(live_server: Any) -> Iterator[int]:
    rows = [{"text": f"{n}. {LONG}"} for n in range(4)]  # distinct: identical rows merge
    yield new_project(
        live_server.base_url, name=f"Layout {uuid.uuid4().hex[:6]}", schema=SCHEMA, rows=rows
    )


def check_page(page: Any, what: str) -> None:
    overflow = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth, document.body.scrollWidth]"
    )
    assert overflow[0] <= overflow[1] and overflow[2] <= overflow[1], (what, overflow)
    assert page.evaluate(UNNAMED) == [], what
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.mouse.click(1, 1)  # start tabbing from the top of the page
    stops: dict[str, bool] = {}
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is not None:
            stops.setdefault(focused["where"], focused["visible"])
    assert len(stops) >= 8, (what, stops)
    assert [where for where, ok in stops.items() if not ok] == [], what


@pytest.mark.parametrize("width", [768, 1280])
def test_layout_names_and_focus(
    browser: Any, live_server: Any, watch: Watch, layout_project: int, width: int
) -> None:
    base = live_server.base_url
    client, _ = api_session(base, "manager")
    projects = client.get("/api/v1/projects", params={"limit": 200}).json()["items"]
    client.close()
    sentiment = next(p["id"] for p in projects if p["name"] == "감정 분류 (Korean sentiment)")
    for handle, path, what in [
        # One worker per width: each starts afresh on the project's start page.
        (
            "worker1" if width == 768 else "worker2",
            f"/work/projects/{layout_project}",
            "labeling page",
        ),
        ("manager", f"/manage/projects/{sentiment}", "manager project page"),
    ]:
        ctx = browser.new_context(
            base_url=base, viewport={"width": width, "height": 900}, locale="ko-KR"
        )
        watch.attach(ctx)
        try:
            page = ctx.new_page()
            login(page, handle, next_path=path)
            if what == "labeling page":
                with page.expect_navigation():
                    page.locator("form[action$='/start'] button").click()
                page.wait_for_selector("body[data-ready='1']")
            else:
                page.wait_for_load_state("networkidle")
            check_page(page, f"{what} at {width} px")
            assert watch.violations(page) == []
        finally:
            ctx.close()
    assert watch.dialogs == []
