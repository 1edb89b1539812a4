"""C-02 across processes: failed-login counts live in the database, so a guesser spreading
attempts over two server processes is stopped after the same 10 failures."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator

import orjson
import psutil
import pytest

from datadam.access.throttle import MAX_PER_ACCOUNT
from datadam.domain.enums import OrgKind, Role
from tests.factories import PASSWORD
from tests.security_proc import rawhttp
from tests.security_proc.conftest import START_TIMEOUT, Seeded, world_on
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.slow

LOGIN = "/api/v1/auth/login"


@pytest.fixture(scope="module")
def two_workers(seeded: Seeded) -> Iterator[ServerProcess]:
    proc = ServerProcess(
        database_url=seeded.database_url, data_dir=seeded.data_dir / "two-workers", workers=2
    )
    proc.start(timeout=START_TIMEOUT)
    try:
        yield proc
    finally:
        proc.stop()


def _workers(server: ServerProcess) -> list[psutil.Process]:
    """The processes listening on the server's port (not the supervisor or helpers)."""
    found = []
    for child in psutil.Process(server.pid).children(recursive=True):
        try:
            connections = child.net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr.port == server.port for c in connections):
            found.append(child)
    return found


def _owner(candidates: list[psutil.Process], local_port: int, timeout: float) -> int | None:
    """The pid among `candidates` that accepted our connection from `local_port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in candidates:
            with contextlib.suppress(psutil.NoSuchProcess):
                if any(
                    c.raddr and c.raddr.port == local_port
                    for c in process.net_connections(kind="tcp")
                ):
                    return process.pid
        time.sleep(0.01)
    return None


def _one_connection_per_worker(server: ServerProcess) -> list[rawhttp.Connection]:
    """Two keep-alive connections, each accepted by a different server process.

    Idle workers share one listening socket and the kernel tends to wake the same one every
    time, so the first worker is paused (SIGSTOP) while the second connection is made. The
    pause stays far below uvicorn's 5 s worker health check; if the supervisor replaced the
    paused worker anyway (a very loaded machine), try again.
    """
    for _ in range(5):
        workers = _workers(server)
        first = rawhttp.connect(server.port)
        first_pid = _owner(workers, first.sock.getsockname()[1], timeout=10)
        others = [w for w in workers if w.pid != first_pid]
        if first_pid is None or not others:
            first.close()
            continue
        os.kill(first_pid, signal.SIGSTOP)
        try:
            second = rawhttp.connect(server.port)
            second_pid = _owner(others, second.sock.getsockname()[1], timeout=2)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(first_pid, signal.SIGCONT)
        if second_pid is not None and psutil.pid_exists(first_pid):
            return [first, second]
        first.close()
        second.close()
        time.sleep(1)
    raise AssertionError("could not get connections on two different server processes")


def _login(conn: rawhttp.Connection, email: str, password: str) -> rawhttp.RawResponse:
    return rawhttp.exchange(
        conn,
        "POST",
        LOGIN,
        headers={"Content-Type": "application/json"},
        body=orjson.dumps({"email": email, "password": password}),
    )


def test_failed_logins_are_counted_across_two_server_processes(
    two_workers: ServerProcess, seeded: Seeded
) -> None:
    world = world_on(seeded.database_url, seeded.data_dir)
    try:
        victim = world.person((world.org(OrgKind.INSTITUTION), Role.MANAGER))
    finally:
        world.db.dispose()
    connections = _one_connection_per_worker(two_workers)
    try:
        answers = [
            _login(connections[i % 2], victim.email, f"wrong guess {i}")
            for i in range(MAX_PER_ACCOUNT + 1)
        ]
        right = _login(connections[1], victim.email, PASSWORD)
        other_worker = _login(connections[0], victim.email, PASSWORD)
    finally:
        for conn in connections:
            conn.close()
    assert [a.status for a in answers[:MAX_PER_ACCOUNT]] == [401] * MAX_PER_ACCOUNT
    locked = answers[MAX_PER_ACCOUNT]
    assert locked.status == 429, locked.body
    assert locked.code == "too_many_attempts"
    assert int(locked.header("retry-after") or 0) > 0
    for response in (right, other_worker):  # no oracle: the right password is refused too
        assert response.status == 429, response.body
        assert response.code == "too_many_attempts"
        assert response.header("retry-after")
        assert not response.all("set-cookie")
