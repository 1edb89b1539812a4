"""Fixtures of the security tests: the two-tenant world (see `support.py`)."""

from __future__ import annotations

import pytest

from tests.security.support import SecurityWorld, build_security_world


@pytest.fixture
def sworld(world) -> SecurityWorld:  # type: ignore[no-untyped-def]
    return build_security_world(world)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """Here the client returns server errors as 500 responses, so a test can report them
    (and a known defect can be pinned) instead of stopping at the first exception."""
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
