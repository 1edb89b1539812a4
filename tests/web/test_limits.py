"""C-19: oversized and malformed request bodies: 413 or 422, never a 500, never read in full."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from datadam.web.app import create_app
from datadam.web.limits import RequestLimits, json_problem

LOGIN = "/api/v1/auth/login"
LIMIT = 64 * 1024


@pytest.fixture
def small(settings, db):  # type: ignore[no-untyped-def]
    """The app with a 64 KiB body limit and an 8 MiB upload limit."""
    tight = settings.model_copy(update={"max_body_bytes": LIMIT, "max_upload_bytes": 128 * LIMIT})
    with TestClient(create_app(tight, db)) as client:
        yield client


def _code(response) -> str:  # type: ignore[no-untyped-def]
    return response.json()["error"]["code"]


def _call(app: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, int]:
    """Run one request through an ASGI app; returns (status, how many body chunks were read)."""
    read = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read < len(chunks):
            read += 1
            return {
                "type": "http.request",
                "body": chunks[read - 1],
                "more_body": read < len(chunks),
            }
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/upload",
        "raw_path": b"/upload",
        "query_string": b"",
        "headers": headers,
        "scheme": "http",
        "server": ("t", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    asyncio.run(app(scope, receive, send))
    return status, read


def _form_app() -> Any:
    inner = FastAPI()

    @inner.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        form = await request.form(max_fields=10**6, max_part_size=10**9)
        sizes = {}
        for key, value in form.multi_items():
            sizes[key] = len(value) if isinstance(value, str) else len(await value.read())
        await form.close()
        return {"fields": len(sizes), "bytes": sum(sizes.values())}

    return RequestLimits(inner, max_body_bytes=LIMIT, max_upload_bytes=64 * LIMIT)


def test_declared_oversize_is_refused_before_reading() -> None:
    app = _form_app()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(LIMIT + 1).encode())]
    assert _call(app, headers, [b"{}"]) == (413, 0)


def test_bad_content_length_is_400() -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"-5")]
    assert _call(_form_app(), headers, [b"{}"]) == (400, 0)


def test_oversize_over_http(small) -> None:  # type: ignore[no-untyped-def]
    response = small.post(
        LOGIN, content=b"x" * (LIMIT + 1), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and _code(response) == "payload_too_large"


def test_chunked_body_is_cut_at_the_limit(small) -> None:  # type: ignore[no-untyped-def]
    sent = 0

    def body():  # type: ignore[no-untyped-def]
        nonlocal sent
        for _ in range(100):
            sent += 1
            yield b" " * 4096

    response = small.post(LOGIN, content=body(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and _code(response) == "payload_too_large"


def _multipart(fields: list[tuple[str, bytes, str | None]], boundary: str = "b0undary") -> bytes:
    out = []
    for name, value, filename in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
        )
    return b"".join(out) + f"--{boundary}--\r\n".encode()


MULTIPART = [(b"content-type", b"multipart/form-data; boundary=b0undary")]


def test_ten_thousand_multipart_fields_are_413() -> None:
    body = _multipart([(f"f{i}", b"x", None) for i in range(10_000)])
    status, _ = _call(
        _form_app(), MULTIPART, [body[i : i + 8192] for i in range(0, len(body), 8192)]
    )
    assert status == 413


def test_a_huge_text_field_is_413_but_a_file_may_be_large() -> None:
    big = b"y" * (2 * 1024 * 1024)
    text_body = _multipart([("note", big, None)])
    chunks = [text_body[i : i + 65536] for i in range(0, len(text_body), 65536)]
    status, read = _call(_form_app(), MULTIPART, chunks)
    assert status == 413 and read < len(chunks)
    file_body = _multipart([("file", big, "items.jsonl"), ("note", b"hello", None)])
    chunks = [file_body[i : i + 65536] for i in range(0, len(file_body), 65536)]
    assert _call(_form_app(), MULTIPART, chunks)[0] == 200


def test_urlencoded_limits() -> None:
    urlencoded = [(b"content-type", b"application/x-www-form-urlencoded")]
    many = "&".join(f"f{i}=1" for i in range(10_000)).encode()
    assert _call(_form_app(), urlencoded, [many])[0] == 413
    huge = b"note=" + b"z" * (LIMIT + 1)
    assert _call(_form_app(), urlencoded, [huge[:LIMIT], huge[LIMIT:]])[0] == 413
    assert _call(_form_app(), urlencoded, [b"a=1&b=2"])[0] == 200


def test_multipart_limits_on_the_import_route(small, world) -> None:  # type: ignore[no-untyped-def]
    from datadam.domain.enums import OrgKind, Role

    org = world.org(OrgKind.INSTITUTION)
    manager = world.person((org, Role.MANAGER))
    project = world.project(org)
    url = f"/api/v1/projects/{project}/imports"
    many = small.post(
        url,
        data={f"f{i}": "x" for i in range(10_000)},
        files={"file": ("items.jsonl", b'{"text": "a"}\n')},
        headers=manager.headers,
    )
    assert many.status_code == 413, many.text
    assert "fields" in many.json()["error"]["message"]
    text = small.post(
        url, files={"note": (None, b"t" * (2 * 1024 * 1024))}, headers=manager.headers
    )
    assert text.status_code == 413, text.text
    assert "form field" in text.json()["error"]["message"]
    rows = b"".join(json.dumps({"text": f"row {i}"}).encode() + b"\n" for i in range(5000))
    assert len(rows) > LIMIT  # a legitimate file bigger than the JSON limit still goes in
    ok = small.post(url, files={"file": ("items.jsonl", rows)}, headers=manager.headers)
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"email": "a@b.c", "password": NaN}',
        b'{"email": "a@b.c", "password": Infinity}',
        b'{"amount": -Infinity}',
        b'{"email": "a@b.c", "email": "d@e.f", "password": "x"}',
        b'{"n": ' + b"9" * 1_000_000 + b"}",
        b'{"email": "\xff\xfe", "password": "x"}',
        b'{"email": ',
    ],
    ids=["deep-array", "deep-object", "nan", "inf", "neg-inf", "dup", "bigint", "utf8", "cut"],
)
def test_malformed_json_is_422_invalid_json(client, body: bytes) -> None:  # type: ignore[no-untyped-def]
    response = client.post(LOGIN, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert _code(response) == "invalid_json"


def test_json_problem_gives_the_position() -> None:
    message = json_problem(b'{\n  "a": tru\n}')
    assert message is not None and "line 2" in message
    assert json_problem(b'{"a": [1, 2, {"b": "[[[[[[[[[[[[[[[[[[[["}]}', max_depth=3) is None
    assert json_problem(b"[" * 5 + b"]" * 5, max_depth=4) is not None


def test_moderate_nesting_passes_to_validation(client) -> None:  # type: ignore[no-untyped-def]
    nested = {"email": "a@b.c", "password": "x", "extra": [[[[[[["deep enough"]]]]]]]}
    response = client.post(LOGIN, json=nested)
    assert response.status_code == 422 and _code(response) == "unknown_field"
