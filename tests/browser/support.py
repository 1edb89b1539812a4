"""Helpers for browser tests, screenshots and UI timings (importable without pytest)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.serverproc import DATADAM_BIN, TEST_SECRET, ServerProcess

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_PASSWORD = "demo-datadam-2026"
XSS_PROJECT = "XSS <img src=x onerror=alert(1)> 검사"
XSS_TEXTS = [
    "<img src=x onerror=alert(1)> 이미지",
    "<script>alert(1)</script> 스크립트",
    '"><svg onload=alert(1)> </script><script>alert(1)//',
]
XSS_LABELS = ["<b>굵게</b>", "{{7*7}}", "평범"]

# Recorded in every page before its own scripts run (test instrumentation only).
INSTRUMENT = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI,
                               sample: e.sample});
});
"""


def demo_email(handle: str) -> str:
    return f"{handle}@demo.datadam.org"


@dataclass
class Watch:
    """Dialogs and CSP violations seen by every page of a context."""

    dialogs: list[str] = field(default_factory=list)
    pages: list[Any] = field(default_factory=list)

    def attach(self, context: Any) -> None:
        context.add_init_script(INSTRUMENT)
        context.on("page", self._on_page)

    def _on_page(self, page: Any) -> None:
        self.pages.append(page)

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)

    def violations(self, page: Any) -> list[dict[str, Any]]:
        return list(page.evaluate("window.__cspViolations || []"))


def login(page: Any, handle: str, *, next_path: str = "/") -> None:
    """Log in through the login form."""
    page.goto(f"/login?next={next_path}")
    page.fill("#email", demo_email(handle))
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit].primary")


def api_session(base_url: str, handle: str) -> tuple[httpx.Client, str]:
    """An httpx client logged in as a demo person, and its CSRF token."""
    client = httpx.Client(base_url=base_url, timeout=10)
    response = client.post(
        "/api/v1/auth/login", json={"email": demo_email(handle), "password": DEMO_PASSWORD}
    )
    response.raise_for_status()
    return client, response.json()["csrf_token"]


def new_project(
    base_url: str,
    *,
    name: str,
    schema: dict[str, Any],
    rows: list[dict[str, Any]],
    vendor: str | None = "crowd-works",
    activate: bool = True,
) -> int:
    """A project of the demo institution with `rows` imported, open to `vendor`'s workers."""
    client, csrf = api_session(base_url, "manager")
    headers = {"X-CSRF-Token": csrf}
    try:
        me = client.get("/api/v1/me").json()
        orgs = {m["organization"]["slug"]: m["organization"]["id"] for m in me["memberships"]}
        created = client.post(
            "/api/v1/projects",
            headers=headers,
            json={
                "owner_org_id": orgs["hangul-institute"],
                "name": name,
                "labeling_schema": schema,
            },
        )
        created.raise_for_status()
        project_id = int(created.json()["id"])
        if vendor is not None:
            officer, _ = api_session(base_url, "officer")  # the program office sees every org
            every = officer.get("/api/v1/organizations").json()
            officer.close()
            vendor_id = next(o["id"] for o in every if o["slug"] == vendor)
            client.post(
                f"/api/v1/projects/{project_id}/vendors",
                headers=headers,
                json={"organization_id": vendor_id},
            ).raise_for_status()
        if rows:
            body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            imported = client.post(
                f"/api/v1/projects/{project_id}/imports",
                headers=headers,
                files={"file": ("items.jsonl", body.encode(), "application/x-ndjson")},
            )
            if imported.status_code != 201:
                raise RuntimeError(f"import refused: {imported.text}")
        if activate:
            client.patch(
                f"/api/v1/projects/{project_id}", headers=headers, json={"status": "active"}
            ).raise_for_status()
    finally:
        client.close()
    return project_id


def seed_xss_project(base_url: str) -> int:
    """A project whose name, instructions, labels and items carry XSS payloads (C-12)."""
    client, csrf = api_session(base_url, "manager")
    headers = {"X-CSRF-Token": csrf}
    try:
        me = client.get("/api/v1/me").json()
        orgs = {m["organization"]["slug"]: m["organization"]["id"] for m in me["memberships"]}
        schema = {
            "version": 1,
            "title": "<script>alert(1)</script>",
            "controls": [
                {
                    "name": "verdict",
                    "type": "choice",
                    "label": "<img src=x onerror=alert(1)> 답",
                    "labels": XSS_LABELS,
                    "hotkeys": ["1", "2", "3"],
                }
            ],
        }
        created = client.post(
            "/api/v1/projects",
            headers=headers,
            json={
                "owner_org_id": orgs["hangul-institute"],
                "name": XSS_PROJECT,
                "labeling_schema": schema,
                "instructions": "<script>alert(1)</script> 안내 <img src=x onerror=alert(1)>",
            },
        )
        created.raise_for_status()
        project_id = int(created.json()["id"])
        officer, _ = api_session(base_url, "officer")  # the program office sees every org
        every = officer.get("/api/v1/organizations").json()
        officer.close()
        label_partners = next(o["id"] for o in every if o["slug"] == "label-partners")
        client.post(
            f"/api/v1/projects/{project_id}/vendors",
            headers=headers,
            json={"organization_id": label_partners},
        ).raise_for_status()
        body = "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in XSS_TEXTS) + "\n"
        imported = client.post(
            f"/api/v1/projects/{project_id}/imports",
            headers=headers,
            files={"file": ("xss.jsonl", body.encode(), "application/x-ndjson")},
        )
        if imported.status_code != 201:
            raise RuntimeError(f"import refused: {imported.text}")
        client.patch(
            f"/api/v1/projects/{project_id}", headers=headers, json={"status": "active"}
        ).raise_for_status()
    finally:
        client.close()
    return project_id


def start_demo_server(data_dir: Path, *, with_xss_project: bool = True) -> ServerProcess:
    """`datadam demo --no-serve` into a fresh SQLite data dir, then `datadam serve` on a free
    loopback port (returns once healthy). The caller stops it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{data_dir / 'datadam.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATADAM_")}
    env.update(
        DATADAM_ENV="test",
        DATADAM_PASSWORD_PROFILE="cheapest",
        DATADAM_DATA_DIR=str(data_dir),
        DATADAM_DATABASE_URL=database_url,
        DATADAM_SECRET_KEY=TEST_SECRET,
    )
    subprocess.run(
        [str(DATADAM_BIN), "demo", "--no-serve"],
        env=env,
        cwd=data_dir,
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = ServerProcess(database_url=database_url, data_dir=data_dir).start()
    if with_xss_project:
        try:
            seed_xss_project(server.base_url)
        except BaseException:
            server.stop()  # a failed set-up must not leave a server behind
            raise
    return server


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
