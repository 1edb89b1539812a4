"""C-02: failed-login limits per (account, IP) and per IP, shared through the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from datadam.access import login, throttle
from datadam.errors import NotAuthenticated, TooMany
from datadam.settings import Settings
from datadam.storage.db import Database
from datadam.storage.types import utcnow
from tests.access.helpers import PASSWORD, make_user

IP = "198.51.100.4"
WRONG = "wrong password"


def _attempt(
    db: Database,
    settings: Settings,
    *,
    email: str = "ana@example.org",
    password: str = WRONG,
    ip: str = IP,
) -> None:
    login.login(db, email=email, password=password, ip=ip, settings=settings)


def _fail(db: Database, settings: Settings, times: int, **kw: str) -> None:
    for _ in range(times):
        with pytest.raises(NotAuthenticated):
            _attempt(db, settings, **kw)


def test_ten_failures_lock_the_pair_even_for_the_right_password(
    db: Database, settings: Settings
) -> None:
    make_user(db, settings)
    with time_machine.travel(utcnow(), tick=False) as clock:
        _fail(db, settings, throttle.MAX_PER_ACCOUNT)
        clock.shift(timedelta(minutes=1))
        with pytest.raises(TooMany) as caught:
            _attempt(db, settings, password=PASSWORD)
        assert caught.value.code == "too_many_attempts"
        assert caught.value.retry_after == 14 * 60
        # Another network is not locked out by someone guessing from this one.
        _attempt(db, settings, password=PASSWORD, ip="192.0.2.1")
        clock.shift(throttle.WINDOW)
        _attempt(db, settings, password=PASSWORD)


def test_unknown_emails_are_counted_like_known_ones(db: Database, settings: Settings) -> None:
    _fail(db, settings, throttle.MAX_PER_ACCOUNT, email="ghost@example.org")
    with pytest.raises(TooMany):
        _attempt(db, settings, email="ghost@example.org")


def test_per_ip_cap_across_accounts(db: Database, settings: Settings) -> None:
    make_user(db, settings)
    with time_machine.travel(utcnow(), tick=False) as clock:
        for n in range(throttle.MAX_PER_IP):
            _fail(db, settings, 1, email=f"guess{n}@example.org")
        with pytest.raises(TooMany) as caught:
            _attempt(db, settings, password=PASSWORD)
        assert caught.value.code == "too_many_attempts"
        assert 0 < caught.value.retry_after <= throttle.WINDOW.total_seconds()
        clock.shift(throttle.WINDOW + timedelta(seconds=1))
        _attempt(db, settings, password=PASSWORD)


def test_success_clears_the_pair(db: Database, settings: Settings) -> None:
    make_user(db, settings)
    _fail(db, settings, throttle.MAX_PER_ACCOUNT - 1)
    _attempt(db, settings, password=PASSWORD)
    _fail(db, settings, throttle.MAX_PER_ACCOUNT - 1)
    _attempt(db, settings, password=PASSWORD)


def test_counts_live_in_the_database(db: Database, settings: Settings) -> None:
    """A second server process sees the same counts: they are rows, not process memory."""
    from datadam.storage.db import open_database

    _fail(db, settings, throttle.MAX_PER_ACCOUNT)
    other = open_database(str(db.engine.url.render_as_string(hide_password=False)))
    try:
        with pytest.raises(TooMany):
            _attempt(other, settings)
    finally:
        other.dispose()
