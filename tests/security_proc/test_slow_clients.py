"""C-19: a slow-loris client (request head at 1 byte/s) must be cut off by the server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security_proc import rawhttp
from tests.security_proc.conftest import START_TIMEOUT
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.slow

DISCONNECT_WITHIN = 10.0  # seconds; uvicorn's keep-alive timeout is 5 s


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server on an empty SQLite database (`serve` migrates it); no data needed here."""
    data_dir: Path = tmp_path_factory.mktemp("slowloris")
    proc = ServerProcess(database_url=f"sqlite:///{data_dir / 'datadam.db'}", data_dir=data_dir)
    proc.start(timeout=START_TIMEOUT)
    try:
        yield proc
    finally:
        proc.stop()


def _trickle(port: int, payload: bytes, seconds: float) -> bool:
    """Send `payload` one byte per second; True when the server hangs up within `seconds`."""
    conn = rawhttp.connect(port, timeout=5)
    start = time.monotonic()
    try:
        for byte in payload:
            try:
                conn.sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                return True
            if rawhttp.is_closed(conn, 1.0):
                return True
            if time.monotonic() - start > seconds:
                return False
        return rawhttp.is_closed(conn, seconds)
    finally:
        conn.close()


def test_a_normal_request_is_served(bare_server: ServerProcess) -> None:
    """The probe below is meaningful: the same bytes sent at once get an answer."""
    response = rawhttp.request(bare_server.port, "GET", "/api/v1/health")
    assert response.status == 200


def test_slow_loris_request_head_is_disconnected(bare_server: ServerProcess) -> None:
    head = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100
    assert _trickle(bare_server.port, head, DISCONNECT_WITHIN)
