"""C-43 with a real attacker page: a page on another loopback port (same site, other origin)
posts a form to a datadam page route and fetches the JSON submit/skip routes with the victim's
cookies. Every request is refused or blocked, and the victim's session and task are intact."""

from __future__ import annotations

import functools
import http.server
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import DEMO_PASSWORD, Watch, api_session, login, new_project

pytestmark = pytest.mark.browser

ATTACK = """<!doctype html><html><head><meta charset="utf-8"><title>win a prize</title></head>
<body>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe>
<form id="logout" method="post" action="{base}/logout" target="sink1"></form>
<form id="password" method="post" action="{base}/account/password" target="sink2">
  <input name="current_password" value="{password}">
  <input name="new_password" value="attacker chose this 2026">
  <input name="new_password_again" value="attacker chose this 2026">
</form>
<script>
const results = {{}};
const api = "{base}/api/v1/assignments/{assignment}";
const body = JSON.stringify({{result: {{tone: "angry"}}, client_submission_id: "csrf-1"}});
async function attempt(name, url, init) {{
  try {{
    const r = await fetch(url, Object.assign({{method: "POST", credentials: "include"}}, init));
    results[name] = "sent:" + r.type + ":" + r.status;
  }} catch (e) {{
    results[name] = "blocked";
  }}
}}
document.getElementById("logout").submit();
document.getElementById("password").submit();
Promise.all([
  attempt("submit-simple", api + "/submit", {{mode: "no-cors", body,
    headers: {{"Content-Type": "text/plain"}}}}),
  attempt("skip-simple", api + "/skip", {{mode: "no-cors", body: '{{"reason": "x"}}',
    headers: {{"Content-Type": "text/plain"}}}}),
  attempt("submit-empty", api + "/submit", {{mode: "no-cors"}}),
  attempt("skip-empty", api + "/skip", {{mode: "no-cors"}}),
  attempt("submit-json", api + "/submit", {{body,
    headers: {{"Content-Type": "application/json"}}}}),
  attempt("skip-json", api + "/skip", {{body: '{{"reason": "x"}}',
    headers: {{"Content-Type": "application/json"}}}}),
]).then(() => {{ window.__results = results; }});
</script></body></html>"""


@pytest.fixture
def attacker(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static file server on another 127.0.0.1 port, serving `tmp_path`."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()


def test_attacker_page_on_another_port_changes_nothing(
    page: Any, watch: Watch, live_server: Any, attacker: tuple[str, Path]
) -> None:
    base = live_server.base_url
    schema = {
        "version": 1,
        "controls": [{"name": "tone", "type": "choice", "labels": ["calm", "angry"]}],
    }
    project_id = new_project(
        base, name=f"CSRF {uuid.uuid4().hex[:6]}", schema=schema, rows=[{"text": "a"}]
    )
    victim, csrf = api_session(base, "worker2")
    task = victim.post(f"/api/v1/projects/{project_id}/tasks/next", headers={"X-CSRF-Token": csrf})
    assert task.status_code == 200, task.text
    assignment = task.json()["assignment_id"]

    login(page, "worker2", next_path="/work")  # the victim's browser session
    origin, folder = attacker
    assert origin.split(":")[-1] != base.split(":")[-1]  # another port of the same host
    (folder / "win.html").write_text(
        ATTACK.format(base=base, assignment=assignment, password=DEMO_PASSWORD), "utf-8"
    )
    reached: list[tuple[str, bool, int]] = []

    def record(response: Any) -> None:
        # Statuses only: Chromium keeps no body of an opaque (no-cors) response.
        if response.url.startswith(base) and response.request.method == "POST":
            path = response.url.removeprefix(base).split("?")[0]
            reached.append((path, response.request.post_data is not None, response.status))

    page.on("response", record)
    page.goto(f"{origin}/win.html")
    results = page.wait_for_function("window.__results").json_value()

    # Simple requests reach the server and are refused: with a text/plain body for its type
    # (415), without a body for the missing CSRF token (403). JSON ones die at the preflight.
    assert results["submit-json"] == results["skip-json"] == "blocked"
    for name in ("submit-simple", "skip-simple", "submit-empty", "skip-empty"):
        assert results[name] == "sent:opaque:0", name
    page.wait_for_timeout(300)  # let the framed form posts finish
    api = f"/api/v1/assignments/{assignment}"
    assert sorted(reached) == [
        ("/account/password", True, 403),
        (f"{api}/skip", False, 403),
        (f"{api}/skip", True, 415),
        (f"{api}/submit", False, 403),
        (f"{api}/submit", True, 415),
        ("/logout", False, 403),
    ]
    assert watch.dialogs == []

    # Nothing changed: the victim's browser is still logged in, the password is the old one,
    # and the task is still the victim's open task (a submit or skip would have closed it).
    assert page.context.request.get(f"{base}/api/v1/me").status == 200
    again = victim.post(f"/api/v1/projects/{project_id}/tasks/next", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 200 and again.json()["assignment_id"] == assignment
    victim.close()
    fresh, _ = api_session(base, "worker2")  # raises if the password had changed
    fresh.close()
