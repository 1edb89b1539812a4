"""Named crash points for crash-safety tests: `DATADAM_FAULT=<point>:<n>` kills the process
with SIGKILL the n-th time execution passes `<point>`. Unset in normal operation (a no-op)."""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def crash_point(name: str) -> None:
    spec = os.environ.get("DATADAM_FAULT")
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
