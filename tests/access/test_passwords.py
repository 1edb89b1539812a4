"""C-01: argon2id storage, parameters, password rules and bounded hashing."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import PasswordHasher

from datadam.access import passwords
from datadam.errors import InputError
from datadam.settings import Settings


@pytest.fixture
def cheap() -> Settings:
    return Settings(env="test", password_profile="cheapest")


def test_hash_is_argon2id_and_verifies(cheap: Settings) -> None:
    digest = passwords.hash_password("a long enough secret", settings=cheap)
    assert digest.startswith("$argon2id$")
    assert "a long enough secret" not in digest
    assert passwords.verify_password(digest, "a long enough secret", settings=cheap).ok
    assert not passwords.verify_password(digest, "another secret!", settings=cheap).ok


def test_production_parameters_are_at_least_rfc9106_low_memory() -> None:
    real = Settings(env="production", password_profile="rfc9106")
    hasher = passwords.hasher_for(real)
    assert hasher.time_cost >= 3
    assert hasher.memory_cost >= 65536
    assert hasher.parallelism >= 4
    assert hasher.hash_len >= 32 and hasher.salt_len >= 16
    digest = passwords.hash_password("the one real-profile hash", settings=real)
    assert digest.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


@pytest.mark.parametrize("env", ["production", "development"])
def test_cheapest_profile_is_refused_outside_tests(env: str) -> None:
    weak = Settings(env=env, password_profile="cheapest")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="DATADAM_PASSWORD_PROFILE"):
        passwords.check_password_profile(weak)
    with pytest.raises(ValueError):
        passwords.hash_password("a long enough secret", settings=weak)


def test_create_app_refuses_cheapest_outside_tests(tmp_path) -> None:
    from datadam.storage.db import open_database
    from datadam.web.app import create_app

    weak = Settings(env="production", password_profile="cheapest", data_dir=tmp_path)
    db = open_database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with pytest.raises(ValueError, match="cheapest"):
            create_app(weak, db)
    finally:
        db.dispose()


def test_too_long_is_refused_fast_without_hashing(
    cheap: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(PasswordHasher, "hash", lambda *a, **k: calls.append("hash"))
    monkeypatch.setattr(PasswordHasher, "verify", lambda *a, **k: calls.append("verify"))
    huge = "x" * 1_000_000
    started = time.perf_counter()
    for call in (
        lambda: passwords.hash_password(huge, settings=cheap),
        lambda: passwords.verify_password("$argon2id$...", huge, settings=cheap),
    ):
        with pytest.raises(InputError) as caught:
            call()
        assert caught.value.code == "password_too_long"
    assert time.perf_counter() - started < 0.05
    assert calls == []


def test_length_limit_counts_utf8_bytes(cheap: Settings) -> None:
    assert passwords.hash_password("é" * 512, settings=cheap).startswith("$argon2id$")  # 1024 B
    with pytest.raises(InputError) as caught:
        passwords.hash_password("é" * 512 + "x", settings=cheap)
    assert caught.value.code == "password_too_long"


def test_lone_surrogates_do_not_crash(cheap: Settings) -> None:
    digest = passwords.hash_password("abc\ud800defgh", settings=cheap)
    assert passwords.verify_password(digest, "abc\ud800defgh", settings=cheap).ok


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short", "password_too_short"),
        ("1234567", "password_too_short"),
        ("password123", "password_too_common"),
        ("Password123", "password_too_common"),
        ("QWERTYUIOP", "password_too_common"),
        ("12345678", "password_too_common"),
    ],
)
def test_rules_name_the_rule(cheap: Settings, password: str, code: str) -> None:
    with pytest.raises(InputError) as caught:
        passwords.hash_password(password, settings=cheap)
    assert caught.value.code == code
    assert caught.value.field == "password"


def test_common_list_is_shipped() -> None:
    common = passwords.common_passwords()
    assert len(common) >= 200
    assert all(entry == entry.lower() for entry in common)


def test_unknown_account_still_verifies_once(
    cheap: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    passwords.verify_password(None, "warm up the dummy", settings=cheap)
    calls = []
    original = PasswordHasher.verify
    monkeypatch.setattr(
        PasswordHasher, "verify", lambda self, *a: calls.append(1) or original(self, *a)
    )
    assert passwords.verify_password(None, "anything at all", settings=cheap).ok is False
    assert len(calls) == 1


def test_outdated_parameters_need_rehash(cheap: Settings) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=8)
    stored = old.hash("a long enough secret")
    check = passwords.verify_password(stored, "a long enough secret", settings=cheap)
    assert check == passwords.PasswordCheck(ok=True, needs_rehash=True)
    fresh = passwords.hash_password("a long enough secret", settings=cheap)
    assert (
        passwords.verify_password(fresh, "a long enough secret", settings=cheap).needs_rehash
        is False
    )


def test_corrupt_stored_hash_is_a_failed_check(cheap: Settings) -> None:
    assert (
        passwords.verify_password("not a hash", "a long enough secret", settings=cheap).ok is False
    )


def test_at_most_two_hashes_run_at_once(cheap: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    running = 0
    peak = 0
    lock = threading.Lock()

    def slow_hash(self: PasswordHasher, secret: bytes) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.03)
        with lock:
            running -= 1
        return "$argon2id$fake"

    monkeypatch.setattr(PasswordHasher, "hash", slow_hash)
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda i: passwords.hash_password(f"secret number {i}", settings=cheap), range(8)
            )
        )
    assert peak == passwords.MAX_CONCURRENT_HASHES == 2
