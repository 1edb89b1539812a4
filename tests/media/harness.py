"""A bare page that mounts widget modules by the shell contract, for the browser tests of
tests/browser/test_widgets_*.py and bench/signal_render.py.

The page is served by Playwright's request interception at a path of the real server's origin,
with the app's strict CSP, so `/static` modules, media and signal endpoints are the real ones
and the session cookie applies. `window.__handles[name]` is each mounted widget's handle.
"""

from __future__ import annotations

import json
from typing import Any

from datadam.web.security import CSP

PATH = "/__widget_harness__"

HARNESS_JS = """
const boot = JSON.parse(document.getElementById("boot").textContent);
const strings = boot.strings || {};
const t = (msgid, ...args) => {
  let text = Object.prototype.hasOwnProperty.call(strings, msgid) ? strings[msgid] : msgid;
  for (const arg of args) text = text.replace("%s", String(arg));
  return text;
};
window.__changes = [];
window.__handles = {};
const suggestions = (boot.payload && boot.payload.suggestions) || {};
for (const control of boot.schema.controls) {
  const holder = document.createElement("div");
  holder.className = "control-holder";
  holder.dataset.control = control.name;
  document.getElementById("controls").append(holder);
  const module = await import(`/static/js/widgets/${control.type}.js`);
  const suggestion = control.name in suggestions ? suggestions[control.name] : null;
  const value = boot.values && control.name in boot.values ? boot.values[control.name] : suggestion;
  window.__handles[control.name] = module.mount(holder, {
    control, payload: boot.payload, value, suggestion, t, item_id: boot.item_id,
    onChange: () => window.__changes.push(control.name),
  });
}
const first = Object.values(window.__handles)[0];
if (first) first.focus();
window.__ready = true;
document.querySelector("main.harness").dataset.ready = "1";
document.body.dataset.ready = "1";
"""


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no `<`, `>` or `&` can close it."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def harness_html(boot: dict[str, Any]) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>widget harness</title>'
        '<link rel="stylesheet" href="/static/css/app.css"></head>'
        '<body><main class="harness"><div id="controls"></div></main>'
        f'<script type="application/json" id="boot">{_script_json(boot)}</script>'
        f'<script type="module" src="{PATH}.js"></script></body></html>'
    )


def open_harness(
    page: Any,
    *,
    controls: list[dict[str, Any]],
    payload: dict[str, Any],
    item_id: int | None = None,
    values: dict[str, Any] | None = None,
    strings: dict[str, str] | None = None,
) -> None:
    """Show `controls` mounted on `payload` in `page` (an item id enables media loading)."""
    boot = {
        "item_id": item_id,
        "payload": payload,
        "schema": {"version": 1, "controls": controls},
        "values": values or {},
        "strings": strings or {},
    }
    html = harness_html(boot)
    headers = {"content-type": "text/html; charset=utf-8", "content-security-policy": CSP}
    page.route(f"**{PATH}", lambda route: route.fulfill(status=200, body=html, headers=headers))
    page.route(
        f"**{PATH}.js",
        lambda route: route.fulfill(status=200, body=HARNESS_JS, content_type="text/javascript"),
    )
    page.goto(PATH)
    page.wait_for_selector("main.harness[data-ready='1']", state="attached")


def value(page: Any, name: str) -> Any:
    return page.evaluate("(name) => window.__handles[name].getValue()", name)


def demo_items(api_client: Any, project_name: str) -> tuple[int, list[dict[str, Any]]]:
    """(project id, items) of a demo project, read through the API by a logged-in client."""
    projects = api_client.get("/api/v1/projects", params={"limit": 200}).json()["items"]
    project = next(p for p in projects if p["name"] == project_name)
    items = api_client.get(f"/api/v1/projects/{project['id']}/items", params={"limit": 50})
    items.raise_for_status()
    return project["id"], items.json()["items"]
