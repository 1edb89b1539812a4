"""Failed-login limits, counted in the database so that every server process sees one count.

Two limits apply within a sliding `WINDOW`:

* `MAX_PER_ACCOUNT` failures for one (e-mail, IP) pair lock that pair: a password guesser is
  stopped, while the owner can still log in from another network;
* `MAX_PER_IP` failures from one IP across all e-mails stop credential stuffing.

While a limit holds, even the right password is refused with the same answer, so the lock is
not an oracle. Unknown e-mails count like known ones. Two processes racing may each let one
extra attempt through; the bound stays within a few attempts of the limit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from datadam.errors import TooMany
from datadam.storage.tables import LoginAttempt
from datadam.storage.types import utcnow

WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT = 10
MAX_PER_IP = 50


def normalise_email(email: str) -> str:
    return email.strip().lower()[:254]


def check_login_allowed(session: Session, *, email: str, ip: str) -> None:
    """Raise TooMany(too_many_attempts) while either limit holds; Retry-After until it lifts."""
    now = utcnow()
    since = now - WINDOW
    email = normalise_email(email)
    by_account = LoginAttempt.email == email, LoginAttempt.ip == ip
    waits = [
        _wait_for(session, now, since, MAX_PER_ACCOUNT, *by_account),
        _wait_for(session, now, since, MAX_PER_IP, LoginAttempt.ip == ip),
    ]
    wait = max(waits)
    if wait > 0:
        raise TooMany(
            "Too many failed logins; wait before trying again.",
            retry_after=wait,
            code="too_many_attempts",
        )


def _wait_for(session: Session, now: datetime, since: datetime, limit: int, *where: object) -> int:
    """Seconds until fewer than `limit` failures remain in the window (0 when already so)."""
    count = session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at > since, *where)  # type: ignore[arg-type]
    )
    if not count or count < limit:
        return 0
    # The lock lifts when the limit-th most recent failure leaves the window.
    pivot = session.scalar(
        select(LoginAttempt.at)
        .where(LoginAttempt.at > since, *where)  # type: ignore[arg-type]
        .order_by(LoginAttempt.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    if pivot is None:  # pragma: no cover - rows vanished between the two queries
        return 0
    return max(1, ceil((pivot + WINDOW - now).total_seconds()))


def record_failure(session: Session, *, email: str, ip: str) -> None:
    session.add(LoginAttempt(email=normalise_email(email), ip=ip, at=utcnow()))


def clear_failures(session: Session, *, email: str, ip: str) -> None:
    """After a successful login the pair starts afresh; other pairs keep their counts."""
    session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.email == normalise_email(email), LoginAttempt.ip == ip
        )
    )


def prune(session: Session) -> int:
    """Delete failures older than the window (housekeeping); returns how many went."""
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at <= utcnow() - WINDOW))
    return int(getattr(result, "rowcount", 0) or 0)
