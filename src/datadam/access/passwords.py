"""Password rules and argon2id hashing.

Production uses argon2-cffi's default parameters, which are RFC 9106's low-memory profile
(t=3, m=64 MiB, p=4). The test suite may choose `password_profile="cheapest"`; any other
environment refuses it at start-up, so a mis-set variable cannot weaken stored hashes.

Hashing is expensive on purpose, so at most `MAX_CONCURRENT_HASHES` run at once: a burst of
logins queues instead of exhausting memory (64 MiB each) and the CPU. Passwords longer than
`MAX_PASSWORD_BYTES` are refused before any hashing, which bounds the cost of one attempt.
"""

from __future__ import annotations

import secrets
import threading
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from datadam.errors import InputError
from datadam.settings import Settings

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 1024
MAX_CONCURRENT_HASHES = 2

_hash_slots = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)


class PasswordCheck(NamedTuple):
    """The outcome of a verification: `needs_rehash` means the stored parameters are outdated."""

    ok: bool
    needs_rehash: bool


def check_password_profile(settings: Settings) -> None:
    """Refuse the test-only hashing profile anywhere but in tests (called at start-up)."""
    if settings.password_profile == "cheapest" and settings.env != "test":  # noqa: S105
        raise ValueError(
            "DATADAM_PASSWORD_PROFILE=cheapest is only allowed with DATADAM_ENV=test; "
            "it would store passwords with trivially crackable hashes"
        )


def hasher_for(settings: Settings) -> PasswordHasher:
    check_password_profile(settings)
    return _hasher(settings.password_profile)


@lru_cache
def _hasher(profile: str) -> PasswordHasher:
    if profile == "cheapest":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


@lru_cache
def _dummy_hash(profile: str) -> str:
    """A hash of a random secret, verified when the e-mail is unknown (equal timing)."""
    with _hash_slots:
        return _hasher(profile).hash(secrets.token_bytes(16))


def _encode(password: str) -> bytes:
    # JSON may carry lone surrogates ("\ud800"); plain .encode() would raise on them.
    return password.encode("utf-8", "surrogatepass")


def check_length(password: str) -> bytes:
    """The cheap guard run before any hashing, also at login; returns the encoded password."""
    raw = _encode(password)
    if len(raw) > MAX_PASSWORD_BYTES:
        raise InputError(
            f"Passwords may be at most {MAX_PASSWORD_BYTES} bytes long.",
            field="password",
            code="password_too_long",
        )
    return raw


def check_new_password(password: str, *, field: str = "password") -> bytes:
    """The rules a new password must meet: length, and not one of the most common passwords."""
    try:
        raw = check_length(password)
    except InputError as exc:
        exc.field = field
        raise
    if len(password) < MIN_PASSWORD_CHARS:
        raise InputError(
            f"Passwords need at least {MIN_PASSWORD_CHARS} characters.",
            field=field,
            code="password_too_short",
        )
    if password.strip().lower() in common_passwords():
        raise InputError(
            "This password is on the list of the most common passwords; choose another.",
            field=field,
            code="password_too_common",
        )
    return raw


@lru_cache
def common_passwords() -> frozenset[str]:
    text = resources.files("datadam.access").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def hash_password(password: str, *, settings: Settings) -> str:
    """Check the rules for a new password, then hash it with argon2id."""
    raw = check_new_password(password)
    hasher = hasher_for(settings)
    with _hash_slots:
        return hasher.hash(raw)


def verify_password(stored_hash: str | None, password: str, *, settings: Settings) -> PasswordCheck:
    """Compare a password with a stored hash; exactly one argon2 verification either way.

    `stored_hash=None` (unknown account) verifies against a dummy hash and always fails, so
    the response time does not tell whether the e-mail is registered.
    """
    raw = check_length(password)
    hasher = hasher_for(settings)
    target = stored_hash or _dummy_hash(settings.password_profile)
    with _hash_slots:
        try:
            hasher.verify(target, raw)
        except (VerificationError, InvalidHashError):
            return PasswordCheck(ok=False, needs_rehash=False)
    if stored_hash is None:
        return PasswordCheck(ok=False, needs_rehash=False)
    return PasswordCheck(ok=True, needs_rehash=hasher.check_needs_rehash(stored_hash))


def rehash(password: str, *, settings: Settings) -> str:
    """Hash an already accepted password with the current parameters (no rule checks)."""
    raw = check_length(password)
    hasher = hasher_for(settings)
    with _hash_slots:
        return hasher.hash(raw)
