"""C-04 over real TLS: the session cookie is Secure, HttpOnly and SameSite=Lax, and HSTS is
sent, when served over HTTPS directly (uvicorn with a trustme certificate on 127.0.0.1) or
behind a trusted proxy that says `X-Forwarded-Proto: https`."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
import trustme

from tests.factories import PASSWORD
from tests.security_proc import rawhttp
from tests.security_proc.conftest import START_TIMEOUT, Seeded
from tests.serverproc import TEST_SECRET, ServerProcess, free_port

pytestmark = pytest.mark.slow

LOGIN = "/api/v1/auth/login"


@dataclass
class TlsServer:
    port: int
    client_context: ssl.SSLContext


def _wait_for_tls(port: int, context: ssl.SSLContext, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode}")
        try:
            if rawhttp.request(port, "GET", "/api/v1/health", tls=context).status == 200:
                return
        except (OSError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError("the HTTPS server did not become healthy")


@pytest.fixture(scope="module")
def tls_server(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    """uvicorn serving the app factory with TLS; the database is already migrated."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    key_file, cert_file = folder / "key.pem", folder / "cert.pem"
    cert.private_key_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    context = ssl.create_default_context()
    ca.configure_trust(context)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATADAM_")}
    env.update(
        {
            "DATADAM_ENV": "test",
            "DATADAM_PASSWORD_PROFILE": "cheapest",
            "DATADAM_DATABASE_URL": seeded.database_url,
            "DATADAM_DATA_DIR": str(seeded.data_dir),
            "DATADAM_SECRET_KEY": TEST_SECRET,
        }
    )
    command = [sys.executable, "-m", "uvicorn", "--factory", "datadam.web.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--ssl-keyfile", str(key_file), "--ssl-certfile", str(cert_file)]
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    try:
        _wait_for_tls(port, context, proc)
        yield TlsServer(port, context)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _login(
    port: int,
    email: str,
    *,
    headers: dict[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
) -> rawhttp.RawResponse:
    response = rawhttp.request(
        port,
        "POST",
        LOGIN,
        headers={"Content-Type": "application/json", **(headers or {})},
        body=orjson.dumps({"email": email, "password": PASSWORD}),
        tls=tls,
    )
    assert response.status == 200, response.body
    return response


def _session_cookie(response: rawhttp.RawResponse) -> list[str]:
    """The attributes of the session cookie, lower-cased, without its value."""
    cookies = [c for c in response.all("set-cookie") if c.startswith("datadam_session=")]
    assert len(cookies) == 1, response.all("set-cookie")
    return [part.strip().lower() for part in cookies[0].split(";")[1:]]


def _assert_secure_session(response: rawhttp.RawResponse) -> None:
    attributes = _session_cookie(response)
    assert "secure" in attributes
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    hsts = response.header("strict-transport-security") or ""
    assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 15_552_000


def test_session_cookie_over_https_is_secure(tls_server: TlsServer, seeded: Seeded) -> None:
    response = _login(tls_server.port, seeded.manager.email, tls=tls_server.client_context)
    _assert_secure_session(response)


def test_session_cookie_behind_a_trusted_proxy_is_secure(
    server: ServerProcess, seeded: Seeded
) -> None:
    """The shared server runs with DATADAM_TRUST_PROXY=true; plain HTTP to it stays plain."""
    proxied = _login(server.port, seeded.manager.email, headers={"X-Forwarded-Proto": "https"})
    _assert_secure_session(proxied)
    direct = _login(server.port, seeded.manager.email)
    attributes = _session_cookie(direct)
    assert "secure" not in attributes  # the browser would never send it back over HTTP
    assert "httponly" in attributes and "samesite=lax" in attributes
    assert direct.header("strict-transport-security") is None
