"""C-13 in the browser: uploaded media opened directly never runs script. A PNG carrying HTML
after its image data shows as an image; an EDF whose header holds an HTML payload is served
as an attachment; SVG and HTML uploads are refused."""

from __future__ import annotations

import io
import json
import random
import struct
import uuid
import zlib
from typing import Any

import pytest
from PIL import Image

from tests.browser.support import Watch, api_session, login, new_project
from tests.media.builders import edf_bytes

pytestmark = pytest.mark.browser

PAYLOAD = b"<html><body><script>alert(document.domain)</script><img src=x onerror=alert(2)>"
SANDBOX = "sandbox; default-src 'none'"


def png_with_html() -> bytes:
    """A valid PNG with an HTML payload in a tEXt chunk after IDAT (past the 512-byte sniff)."""
    noise = random.Random(13).randbytes(200 * 150 * 3)  # incompressible: IDAT > 512 bytes
    buffer = io.BytesIO()
    Image.frombytes("RGB", (200, 150), noise).save(buffer, "PNG")
    png = buffer.getvalue()
    body = b"Comment\x00" + PAYLOAD
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF)
    at = png.rindex(b"IEND") - 4
    data = png[:at] + chunk + png[at:]
    assert data.index(b"<script") > 512
    return data


def upload(client: Any, csrf: str, project_id: int, name: str, data: bytes, mime: str) -> Any:
    return client.post(
        f"/api/v1/projects/{project_id}/media",
        headers={"X-CSRF-Token": csrf},
        files={"file": (name, data, mime)},
    )


def assert_inert_headers(headers: dict[str, str], content_type: str) -> None:
    assert headers["content-type"] == content_type
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == SANDBOX


def test_uploaded_media_never_runs_script(page: Any, watch: Watch, live_server: Any) -> None:
    base = live_server.base_url
    project_id = new_project(
        base,
        name=f"Media {uuid.uuid4().hex[:6]}",
        schema={"version": 1, "controls": [{"name": "comment", "type": "text"}]},
        rows=[],
        vendor=None,
        activate=False,
    )
    client, csrf = api_session(base, "manager")
    try:
        for name, data, mime in [
            (
                "evil.svg",
                b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
                "image/svg+xml",
            ),
            ("evil.html", PAYLOAD, "text/html"),
            ("evil.png", b"\xef\xbb\xbf  " + PAYLOAD, "image/png"),  # HTML named as an image
        ]:
            refused = upload(client, csrf, project_id, name, data, mime)
            assert refused.status_code in (415, 422), (name, refused.status_code)
            assert refused.json()["error"]["code"] == "unsupported_media_type", name
        [image] = upload(client, csrf, project_id, "a.png", png_with_html(), "image/png").json()[
            "media"
        ]
        edf = edf_bytes(header={"local patient identification": "<img src=x onerror=alert(3)>"})
        [signal] = upload(client, csrf, project_id, "n.edf", edf, "text/html").json()["media"]
        rows = [
            {"text": "image", "image": image["key"], "width": 200, "height": 150},
            {"text": "signal", "signal": {"media": signal["key"], "n_epochs": 1}},
        ]
        body = "".join(json.dumps(r) + "\n" for r in rows)
        client.post(
            f"/api/v1/projects/{project_id}/imports",
            headers={"X-CSRF-Token": csrf},
            files={"file": ("items.jsonl", body.encode(), "application/x-ndjson")},
        ).raise_for_status()
        items = client.get(f"/api/v1/projects/{project_id}/items").json()["items"]
        ids = {i["payload"]["text"]: i["id"] for i in items}
    finally:
        client.close()

    login(page, "manager", next_path="/manage")
    image_url = f"/api/v1/items/{ids['image']}/media?source=image"
    response = page.goto(image_url)
    assert response is not None and response.status == 200
    assert_inert_headers(response.headers, "image/png")
    assert page.evaluate("document.contentType") == "image/png"  # shown as an image, not HTML
    assert page.evaluate("document.querySelectorAll('script').length") == 0

    signal_url = f"/api/v1/items/{ids['signal']}/media?source=signal"
    served = page.request.get(signal_url, headers={"Accept": "text/html"})
    assert served.status == 200 and served.body() == edf
    assert_inert_headers(served.headers, "application/octet-stream")
    assert served.headers["content-disposition"].startswith("attachment;")
    with page.expect_download() as download:
        try:
            page.goto(signal_url)
        except Exception as exc:  # Chromium aborts the navigation: it became a download
            assert "Download is starting" in str(exc) or "ERR_ABORTED" in str(exc)
    assert download.value.suggested_filename.endswith(".edf")
    assert page.url.endswith(image_url)  # the image page stayed; no HTML document opened
    page.wait_for_timeout(200)
    assert watch.dialogs == []
