"""C-19: oversized and malformed HTTP requests against a real server, over raw sockets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psutil
import pytest

from tests.security_proc import rawhttp
from tests.security_proc.conftest import UPLOAD_LIMIT, Seeded
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
JSON_LIMIT = 4 * MIB  # the default DATADAM_MAX_BODY_BYTES
LOGIN = "/api/v1/auth/login"
BOUNDARY = "datadamsecproc"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED = {"Content-Type": "application/x-www-form-urlencoded"}


def _imports(seeded: Seeded) -> str:
    return f"/api/v1/projects/{seeded.project}/imports"


def _repeat(chunk: bytes, total: int) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        piece = chunk[: total - sent]
        sent += len(piece)
        yield piece


def _text_part(name: str, size: int) -> Iterator[bytes]:
    yield (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
    yield from _repeat(b"t" * MIB, size)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _headers_only(port: int, path: str, headers: dict[str, str]) -> rawhttp.RawResponse:
    """Send only the request head; the answer must come without a byte of the body."""
    conn = rawhttp.connect(port, timeout=10)
    try:
        conn.sock.sendall(rawhttp.head("POST", path, headers))
        return rawhttp.read_response(conn)
    finally:
        conn.close()


def test_declared_length_over_the_limit_is_413_before_the_body(server: ServerProcess) -> None:
    """The server answers a truthful, too-large Content-Length without waiting for the body."""
    response = _headers_only(
        server.port,
        LOGIN,
        {"Content-Type": "application/json", "Content-Length": str(JSON_LIMIT + 1)},
    )
    assert response.status == 413
    assert response.code == "payload_too_large"
    assert str(JSON_LIMIT) in response.json()["error"]["message"]


def test_chunked_body_past_the_limit_is_cut_off(server: ServerProcess) -> None:
    response = rawhttp.stream(
        server.port,
        "POST",
        LOGIN,
        headers={"Content-Type": "application/json"},
        chunks=_repeat(b" " * (256 * 1024), 40 * MIB),
        chunked=True,
    )
    assert response.status == 413
    assert response.code == "payload_too_large"
    assert response.sent < 12 * MIB  # stopped near the 4 MiB limit, not at 40 MiB


def test_ten_thousand_multipart_fields_are_413_fast(server: ServerProcess, seeded: Seeded) -> None:
    body = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n'.encode()
        for i in range(10_000)
    )
    body += f"--{BOUNDARY}--\r\n".encode()
    response = rawhttp.request(
        server.port,
        "POST",
        _imports(seeded),
        headers={"Content-Type": MULTIPART, **seeded.manager.headers},
        body=body,
    )
    assert response.status == 413, response.body
    assert "at most 1000 fields" in response.json()["error"]["message"]
    assert response.seconds < 5.0


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_one_50_mib_multipart_text_field_is_413(
    server: ServerProcess, seeded: Seeded, chunked: bool
) -> None:
    parts = list(_text_part("note", 50 * MIB))  # a 1 MiB buffer repeated, not 50 MiB held
    total = sum(len(p) for p in parts)
    headers = {"Content-Type": MULTIPART, **seeded.manager.headers}
    if not chunked:
        headers["Content-Length"] = str(total)
    response = rawhttp.stream(
        server.port, "POST", _imports(seeded), headers=headers, chunks=parts, chunked=chunked
    )
    assert response.status == 413, response.body
    assert "form field may be at most" in response.json()["error"]["message"]
    assert response.sent < 20 * MIB


def test_urlencoded_forms_have_the_same_limits(server: ServerProcess) -> None:
    """FW-2: the field count and body size limits hold for x-www-form-urlencoded too."""
    many = "&".join(f"f{i}=1" for i in range(10_000)).encode()
    response = rawhttp.request(server.port, "POST", "/login", headers=URLENCODED, body=many)
    assert response.status == 413
    assert "at most 1000 fields" in response.json()["error"]["message"]
    declared = _headers_only(server.port, "/login", {**URLENCODED, "Content-Length": str(50 * MIB)})
    assert declared.status == 413  # refused on the declared length alone
    assert declared.code == "payload_too_large"


def test_one_huge_urlencoded_field_is_413(server: ServerProcess) -> None:
    chunked = rawhttp.stream(
        server.port,
        "POST",
        "/login",
        headers=URLENCODED,
        chunks=[b"note=", *_repeat(b"z" * MIB, 50 * MIB)],
        chunked=True,
    )
    assert chunked.sent < 12 * MIB
    assert chunked.status == 413
    assert chunked.code == "payload_too_large"


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"n": ' + b"9" * 1_000_000 + b"}",
        b'{"email": "a@b.c", "password": NaN}',
        b'{"email": "a@b.c", "password": Infinity}',
        b'{"email": "a@b.c", "email": "d@e.f", "password": "x"}',
        b'{"email": "\xff\xfe", "password": "x"}',
    ],
    ids=["deep", "bigint", "nan", "infinity", "duplicate-key", "invalid-utf8"],
)
def test_malformed_json_is_422_invalid_json(server: ServerProcess, body: bytes) -> None:
    response = rawhttp.request(
        server.port, "POST", LOGIN, headers={"Content-Type": "application/json"}, body=body
    )
    assert response.status == 422, response.body[:300]
    assert response.code == "invalid_json"


def test_server_rss_stays_bounded_under_four_oversized_requests(
    server: ServerProcess, seeded: Seeded
) -> None:
    """4 clients each push 50 MiB (text field, chunked JSON, chunked urlencoded, chunked file)."""
    process = psutil.Process(server.pid)
    before = process.memory_info().rss
    peak = before
    headers = {"Content-Type": MULTIPART, **seeded.manager.headers}
    attacks = [
        ("POST", _imports(seeded), headers, list(_text_part("note", 50 * MIB))),
        ("POST", LOGIN, {"Content-Type": "application/json"}, list(_repeat(b" " * MIB, 50 * MIB))),
        (
            "POST",
            "/login",
            URLENCODED,
            [b"a=", *_repeat(b"z" * MIB, 50 * MIB)],
        ),
        (
            "POST",
            _imports(seeded),
            headers,
            [
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="big.jsonl"\r\n\r\n'.encode(),
                *_repeat(b"x" * MIB, UPLOAD_LIMIT + 8 * MIB),
            ],
        ),
    ]
    statuses: list[int] = []

    def attack(method: str, path: str, attack_headers: dict[str, str], parts: list[bytes]) -> None:
        response = rawhttp.stream(
            server.port, method, path, headers=attack_headers, chunks=parts, chunked=True
        )
        statuses.append(response.status)

    threads = [threading.Thread(target=attack, args=a) for a in attacks]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        peak = max(peak, process.memory_info().rss)
        time.sleep(0.02)
    for thread in threads:
        thread.join()
    assert len(statuses) == 4
    assert all(status == 413 for status in statuses), statuses
    assert peak - before < 100 * MIB, f"RSS grew by {(peak - before) // MIB} MiB"


def test_a_legitimate_20_mb_import_succeeds(server: ServerProcess, seeded: Seeded) -> None:
    """FW-1's regression: a file part far above Starlette's 1 MiB text-part default goes in."""
    row = b'{"text": "%06d ' + b"w" * 2000 + b'"}\n'
    rows = b"".join(row.replace(b"%06d", f"{i:06d}".encode()) for i in range(10_000))
    assert len(rows) > 20_000_000
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.jsonl"\r\n'
        f"Content-Type: application/x-ndjson\r\n\r\n".encode()
        + rows
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    response = rawhttp.request(
        server.port,
        "POST",
        _imports(seeded),
        headers={"Content-Type": MULTIPART, **seeded.manager.headers},
        body=body,
        timeout=60,
    )
    assert response.status == 201, response.body[:300]
    assert response.json()["imported"] == 10_000
