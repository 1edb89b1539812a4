"""A per-user cap on concurrent jobs (imports, exports), so one account cannot flood the server.

A job-creating route takes a slot before it reads the upload or starts streaming and gives it
back when the work ends, however it ends; a user already running `max_per_user` jobs gets
429 `job_quota` with `Retry-After` (CO-1: an open task queue is a denial of service).

**Per process.** Counts live in this process's memory, so with N server processes a user may
run up to N × `max_per_user` jobs. That is deliberate: what a job exhausts is this process's
threads, memory and temp disk, and a database count would need a row for every export (which
has none) and would be left stale by a crash. A cluster-wide cap belongs to a job table with
leases, not here.
"""

from __future__ import annotations

import threading
from types import TracebackType

from starlette.requests import Request

from datadam.errors import TooMany

MAX_JOBS_PER_USER = 2
RETRY_AFTER_SECONDS = 10
_CREATE_LOCK = threading.Lock()


class JobQuota:
    """Counts running jobs per user id; thread-safe (sync routes run in a thread pool)."""

    def __init__(
        self, max_per_user: int = MAX_JOBS_PER_USER, *, retry_after: int = RETRY_AFTER_SECONDS
    ) -> None:
        self.max_per_user = max_per_user
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._running: dict[int, int] = {}

    def acquire(self, user_id: int) -> JobSlot:
        """A slot for one job of `user_id`, or TooMany(job_quota) when all are taken."""
        with self._lock:
            running = self._running.get(user_id, 0)
            if running >= self.max_per_user:
                raise TooMany(
                    f"You already have {running} jobs running (the limit is "
                    f"{self.max_per_user}); wait for one to finish.",
                    retry_after=self.retry_after,
                    code="job_quota",
                )
            self._running[user_id] = running + 1
        return JobSlot(self, user_id)

    def running(self, user_id: int) -> int:
        with self._lock:
            return self._running.get(user_id, 0)

    def _release(self, user_id: int) -> None:
        with self._lock:
            left = self._running.get(user_id, 0) - 1
            if left > 0:
                self._running[user_id] = left
            else:
                self._running.pop(user_id, None)


class JobSlot:
    """One taken slot. `release()` may be called any number of times; only the first counts."""

    def __init__(self, quota: JobQuota, user_id: int) -> None:
        self._quota = quota
        self._user_id = user_id
        self._lock = threading.Lock()
        self._held = True

    def release(self) -> None:
        with self._lock:
            if not self._held:
                return
            self._held = False
        self._quota._release(self._user_id)

    def __enter__(self) -> JobSlot:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.release()


def job_quota(request: Request) -> JobQuota:
    """The application's quota, created on first use (tests may set `app.state.job_quota`)."""
    state = request.app.state
    quota: JobQuota | None = getattr(state, "job_quota", None)
    if quota is None:
        with _CREATE_LOCK:
            quota = getattr(state, "job_quota", None)
            if quota is None:
                settings = getattr(state, "settings", None)
                limit = getattr(settings, "max_jobs_per_user", MAX_JOBS_PER_USER)
                quota = JobQuota(limit)
                state.job_quota = quota
    return quota
