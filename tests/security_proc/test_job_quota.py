"""C-05 / C-45: import and export need a login and count against a per-user job quota.

In-process tests pin the quota's rules; the subprocess test shows that a refused upload is
answered before its body is read (a paused upload holds its slot, the next one gets 429).
"""

from __future__ import annotations

import select
import socket
import time

import pytest

from datadam.domain.enums import OrgKind, Role
from datadam.web.quota import MAX_JOBS_PER_USER, JobQuota
from tests.security_proc import rawhttp
from tests.security_proc.conftest import Seeded
from tests.serverproc import ServerProcess

ROW = b'{"text": "one"}\n'


def _upload(content: bytes = ROW) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("items.jsonl", content, "application/x-ndjson")}


@pytest.fixture
def team(world):  # type: ignore[no-untyped-def]
    org = world.org(OrgKind.INSTITUTION)
    manager = world.person((org, Role.MANAGER))
    other = world.person((org, Role.MANAGER))
    project = world.project(org)
    world.texts(project, 3)
    return manager, other, project


def test_import_and_export_need_a_login(client, team) -> None:  # type: ignore[no-untyped-def]
    _manager, _other, project = team
    imported = client.post(f"/api/v1/projects/{project}/imports", files=_upload())
    assert imported.status_code == 401
    exported = client.get(f"/api/v1/projects/{project}/export")
    assert exported.status_code == 401


def test_a_user_at_the_quota_gets_429_job_quota(app, client, team) -> None:  # type: ignore[no-untyped-def]
    manager, other, project = team
    quota = JobQuota(max_per_user=1, retry_after=7)
    app.state.job_quota = quota
    held = quota.acquire(manager.user_id)
    url = f"/api/v1/projects/{project}/imports"
    refused = client.post(url, files=_upload(), headers=manager.headers)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "job_quota"
    assert refused.headers["retry-after"] == "7"
    export = client.get(f"/api/v1/projects/{project}/export", headers=manager.headers)
    assert export.status_code == 429
    assert export.json()["error"]["code"] == "job_quota"
    # another user is not held back by this one's jobs
    assert client.post(url, files=_upload(b'{"text": "two"}\n'), headers=other.headers).is_success
    held.release()
    assert client.post(url, files=_upload(), headers=manager.headers).status_code == 201
    assert quota.running(manager.user_id) == 0


def test_finished_and_failed_jobs_give_their_slot_back(app, client, team) -> None:  # type: ignore[no-untyped-def]
    manager, _other, project = team
    quota = JobQuota(max_per_user=1)
    app.state.job_quota = quota
    for _ in range(3):  # each would be refused if the previous one had kept its slot
        export = client.get(f"/api/v1/projects/{project}/export", headers=manager.headers)
        assert export.status_code == 200
        assert len(export.text.splitlines()) == 3
        bad = client.post(
            f"/api/v1/projects/{project}/imports",
            files=_upload(b"not json\n"),
            headers=manager.headers,
        )
        assert bad.status_code == 422
        missing = client.post(
            f"/api/v1/projects/{project}/imports",
            files={"other": ("x.jsonl", ROW, "application/x-ndjson")},
            headers=manager.headers,
        )
        assert missing.status_code == 422
        assert missing.json()["error"]["field"] == "file"
    assert quota.running(manager.user_id) == 0


def test_slots_are_counted_per_user_and_released_once() -> None:
    quota = JobQuota(max_per_user=2)
    first, second = quota.acquire(1), quota.acquire(1)
    with pytest.raises(Exception, match="limit is 2") as caught:
        quota.acquire(1)
    assert getattr(caught.value, "code", None) == "job_quota"
    quota.acquire(2).release()
    first.release()
    first.release()  # a second release must not free someone else's slot
    assert quota.running(1) == 1
    with second:
        assert quota.running(1) == 1
    assert quota.running(1) == 0


BOUNDARY = "quotaboundary"
PART = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\n\r\n'
).encode()
TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()
ROW_BYTES = 40  # each paused upload's one row, padded to this size


def _row(tag: str) -> bytes:
    return f'{{"text": "paused {tag}"}}'.encode().ljust(ROW_BYTES - 1) + b"\n"


def _start_paused(port: int, url: str, headers: dict[str, str]) -> socket.socket:
    """An upload whose head and first part header went out; its row has not."""
    conn = rawhttp.connect(port, timeout=10)
    conn.sock.sendall(rawhttp.head("POST", url, headers) + PART)
    return conn.sock


def _answered(sock: socket.socket) -> bool:
    return bool(select.select([sock], [], [], 0)[0])


@pytest.mark.slow
def test_paused_uploads_hold_slots_and_the_next_is_refused_before_its_body(
    server: ServerProcess, seeded: Seeded
) -> None:
    """A user with MAX_JOBS_PER_USER uploads in flight is refused at once, body unread."""
    url = f"/api/v1/projects/{seeded.project}/imports"
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(len(PART) + ROW_BYTES + len(TAIL)),
        **seeded.other_manager.headers,
    }
    paused = [_start_paused(server.port, url, headers) for _ in range(MAX_JOBS_PER_USER)]
    try:
        refused = None
        deadline = time.monotonic() + 30
        while refused is None and time.monotonic() < deadline:
            # The server is asynchronous: a probe may overtake a paused upload and take its
            # slot (that upload is then refused). Restart refused uploads, then probe again;
            # a probe that got a slot gives it back when it hangs up.
            for i, sock in enumerate(paused):
                if _answered(sock):
                    sock.close()
                    paused[i] = _start_paused(server.port, url, headers)
            time.sleep(0.3)
            try:
                refused = _head_only(server.port, url, headers, timeout=1.5)
            except TimeoutError:
                continue
        assert refused is not None, "the paused uploads never held their slots"
        assert refused.status == 429, refused.body
        assert refused.code == "job_quota"
        assert int(refused.header("retry-after") or 0) > 0
        anonymous = _head_only(
            server.port, url, {k: v for k, v in headers.items() if k != "Authorization"}
        )
        assert anonymous.status == 401
        finished = []
        for i, sock in enumerate(paused):
            sock.sendall(_row(str(i)) + TAIL)
            finished.append(rawhttp.read_response(rawhttp.Connection(sock)))
        assert [r.status for r in finished] == [201] * MAX_JOBS_PER_USER, finished[0].body
        again = rawhttp.request(
            server.port,
            "POST",
            url,
            headers={k: v for k, v in headers.items() if k != "Content-Length"},
            body=PART + _row("again") + TAIL,
        )
        assert again.status == 201, again.body
    finally:
        for sock in paused:
            sock.close()


def _head_only(
    port: int, path: str, headers: dict[str, str], timeout: float = 10.0
) -> rawhttp.RawResponse:
    conn = rawhttp.connect(port, timeout=timeout)
    try:
        conn.sock.sendall(rawhttp.head("POST", path, headers))
        return rawhttp.read_response(conn)
    finally:
        conn.close()
