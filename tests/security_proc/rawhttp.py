"""A tiny HTTP/1.1 client over raw sockets, for requests no polite client would send.

It can declare a length and send nothing, stream a body for as long as the server keeps
reading, and notice a response that arrives while the body is still going out.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    sent: int = 0  # body bytes the client managed to send before the answer came
    seconds: float = 0.0

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name.lower()]

    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def code(self) -> str:
        return str(self.json()["error"]["code"])


@dataclass
class Connection:
    sock: socket.socket
    buffer: bytearray = field(default_factory=bytearray)

    def close(self) -> None:
        self.sock.close()


def connect(port: int, *, tls: ssl.SSLContext | None = None, timeout: float = 10.0) -> Connection:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls is not None:
        sock = tls.wrap_socket(sock, server_hostname="localhost")
    return Connection(sock)


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def request(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    tls: ssl.SSLContext | None = None,
    timeout: float = 10.0,
) -> RawResponse:
    """One request on a fresh connection, with a truthful Content-Length."""
    conn = connect(port, tls=tls, timeout=timeout)
    try:
        return exchange(conn, method, path, headers=headers, body=body)
    finally:
        conn.close()


def exchange(
    conn: Connection,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> RawResponse:
    """One request on an open (keep-alive) connection."""
    all_headers = {"Content-Length": str(len(body)), **(headers or {})}
    started = time.monotonic()
    conn.sock.sendall(head(method, path, all_headers) + body)
    response = read_response(conn)
    response.sent = len(body)
    response.seconds = time.monotonic() - started
    return response


def stream(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    chunks: Iterable[bytes],
    chunked: bool = False,
    timeout: float = 20.0,
) -> RawResponse:
    """Send `chunks` as the body until they run out or the server answers, whichever first.

    With `chunked`, the body goes out in chunked transfer encoding (no length declared);
    otherwise the caller declares `Content-Length` in `headers`.
    """
    conn = connect(port, timeout=timeout)
    started = time.monotonic()
    sent = 0
    if chunked:
        headers = {**headers, "Transfer-Encoding": "chunked"}
    try:
        conn.sock.sendall(head(method, path, headers))
        try:
            for chunk in chunks:
                if _readable(conn.sock):
                    break
                frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk
                conn.sock.sendall(frame)
                sent += len(chunk)
            else:
                if chunked:
                    conn.sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and stopped reading; the answer is in our buffer
        response = read_response(conn)
    finally:
        conn.close()
    response.sent = sent
    response.seconds = time.monotonic() - started
    return response


def _readable(sock: socket.socket) -> bool:
    return bool(select.select([sock], [], [], 0)[0])


def _fill(conn: Connection) -> bool:
    data = conn.sock.recv(65536)
    if not data:
        return False
    conn.buffer += data
    return True


def read_response(conn: Connection) -> RawResponse:
    while b"\r\n\r\n" not in conn.buffer:
        if not _fill(conn):
            raise ConnectionError(f"closed before a response: {bytes(conn.buffer[:200])!r}")
    end = conn.buffer.index(b"\r\n\r\n")
    lines = bytes(conn.buffer[:end]).decode("latin-1").split("\r\n")
    del conn.buffer[: end + 4]
    status = int(lines[0].split(" ")[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    response = RawResponse(status, headers, b"")
    if (length := response.header("content-length")) is not None:
        while len(conn.buffer) < int(length):
            if not _fill(conn):
                break
        response.body = bytes(conn.buffer[: int(length)])
        del conn.buffer[: int(length)]
    elif "chunked" in (response.header("transfer-encoding") or ""):
        response.body = _read_chunked(conn)
    return response


def _read_chunked(conn: Connection) -> bytes:
    out = bytearray()
    while True:
        while b"\r\n" not in conn.buffer:
            if not _fill(conn):
                return bytes(out)
        line_end = conn.buffer.index(b"\r\n")
        size = int(bytes(conn.buffer[:line_end]).split(b";")[0], 16)
        del conn.buffer[: line_end + 2]
        while len(conn.buffer) < size + 2:
            if not _fill(conn):
                return bytes(out)
        out += conn.buffer[:size]
        del conn.buffer[: size + 2]
        if size == 0:
            return bytes(out)


def is_closed(conn: Connection, wait: float) -> bool:
    """Whether the server closes the connection within `wait` seconds."""
    ready = select.select([conn.sock], [], [], wait)[0]
    if not ready:
        return False
    try:
        return conn.sock.recv(1) == b""
    except ConnectionResetError:
        return True
