"""A Jepsen-style history of the worker loop, and an offline checker over history plus database.

Every client operation is recorded with its invocation and completion times and an outcome:
`ok` (the server acknowledged it), `fail` (the server refused it, definitely not applied) or
`info` (no answer: the connection broke, so it may or may not have been applied). The checker
then asserts the assignment invariants against the final database:

* every acknowledged submission is stored, with the acknowledged annotation id, exactly once;
* every stored annotation comes from a submission some client attempted (no phantoms);
* no item has more annotations than its overlap, nor two by one worker;
* no request was answered with a 5xx other than 503, nor leaked "database is locked".
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text

from datadam.storage.db import Database

RESULT = {"sentiment": "positive"}


@dataclass
class Op:
    process: int
    kind: str  # "next" or "submit"
    start: float
    end: float = 0.0
    outcome: str = "info"  # ok | fail | info
    status: int | None = None
    assignment_id: int | None = None
    item_id: int | None = None
    key: str | None = None
    annotation_id: int | None = None
    error: str | None = None


@dataclass
class History:
    ops: list[Op] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, process: int, kind: str, **ids: Any) -> Op:
        op = Op(process, kind, time.monotonic(), **ids)
        with self._lock:
            self.ops.append(op)
        return op

    @staticmethod
    def complete(op: Op, outcome: str, **values: Any) -> None:
        op.end = time.monotonic()
        op.outcome = outcome
        for name, value in values.items():
            setattr(op, name, value)

    def of(self, kind: str, outcome: str | None = None) -> list[Op]:
        return [o for o in self.ops if o.kind == kind and (outcome is None or o.outcome == outcome)]


@dataclass(frozen=True)
class Stored:
    id: int
    item_id: int
    worker_id: int
    key: str


def stored_annotations(db: Database, project_id: int) -> list[Stored]:
    with db.engine.connect() as conn:
        return [
            Stored(r.id, r.item_id, r.worker_id, r.client_submission_id)
            for r in conn.execute(
                text(
                    "SELECT id, item_id, worker_id, client_submission_id FROM annotation "
                    "WHERE project_id = :p ORDER BY id"
                ),
                {"p": project_id},
            )
        ]


def check(
    history: History,
    stored: list[Stored],
    *,
    workers: dict[int, int],
    overlap: int,
    item_ids: list[int],
    complete: bool,
) -> list[str]:
    """Problems found (empty when every invariant holds). `workers` maps process -> user id."""
    problems: list[str] = []
    by_key = {(s.worker_id, s.key): s for s in stored}
    if len(by_key) != len(stored):
        problems.append("one submission key stored twice")
    pairs = Counter((s.item_id, s.worker_id) for s in stored)
    problems += [f"item {i} labeled twice by worker {w}" for (i, w), n in pairs.items() if n > 1]
    per_item = Counter(s.item_id for s in stored)
    problems += [f"item {i} has {n} > {overlap} labels" for i, n in per_item.items() if n > overlap]
    if complete:
        problems += [
            f"item {i} has {per_item.get(i, 0)} labels, wanted {overlap}"
            for i in item_ids
            if per_item.get(i, 0) != overlap
        ]
    attempted: set[tuple[int, str]] = set()
    for op in history.of("submit"):
        worker = workers[op.process]
        assert op.key is not None
        attempted.add((worker, op.key))
        if op.outcome != "ok":
            continue
        row = by_key.get((worker, op.key))
        if row is None:
            problems.append(f"acknowledged submission {op.key} of worker {worker} is lost")
        elif row.id != op.annotation_id or row.item_id != op.item_id:
            problems.append(f"submission {op.key} acknowledged as {op.annotation_id}, stored {row}")
    problems += [f"phantom annotation {s}" for s in stored if (s.worker_id, s.key) not in attempted]
    leased: dict[tuple[int, int], set[int]] = defaultdict(set)
    for op in history.of("next", "ok"):
        if op.item_id is not None and op.assignment_id is not None:
            leased[(workers[op.process], op.item_id)].add(op.assignment_id)
    problems += [
        f"worker {w} got item {i} twice: {a}" for (w, i), a in leased.items() if len(a) > 1
    ]
    for op in history.ops:
        if op.status is not None and op.status >= 500 and op.status != 503:
            problems.append(f"{op.kind} answered {op.status}: {op.error}")
        if op.error and "database is locked" in op.error:
            problems.append(f"{op.kind} leaked a lock error: {op.error}")
    return problems


class WorkerClient:
    """One crowdworker's loop over HTTP: ask, label, submit, until no task is left.

    With `retry`, a broken connection is recorded as `info` and the same request is sent again
    (the same `client_submission_id` for a submit) until the server answers: what a browser
    with an offline queue does while the server restarts.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        process: int,
        history: History,
        retry: bool = False,
        stop: threading.Event | None = None,
    ) -> None:
        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30.0
        )
        self.process = process
        self.history = history
        self.retry = retry
        self.stop = stop or threading.Event()
        self.submitted = 0

    def _post(self, op: Op, url: str, body: dict[str, Any]) -> httpx.Response | None:
        try:
            response = self.client.post(url, json=body)
        except httpx.TransportError as exc:
            self.history.complete(op, "info", error=type(exc).__name__)
            if not self.retry:
                raise
            time.sleep(0.05)
            return None
        return response

    def run(self, project_id: int, *, limit: int | None = None) -> None:
        pending: tuple[int, int, str] | None = None  # assignment, item, key
        while not self.stop.is_set():
            if pending is not None:
                assignment, item, key = pending
                op = self.history.invoke(
                    self.process, "submit", assignment_id=assignment, item_id=item, key=key
                )
                body = {"result": RESULT, "client_submission_id": key}
                response = self._post(op, f"/api/v1/assignments/{assignment}/submit", body)
                if response is None:
                    continue
                if response.status_code == 200:
                    self.history.complete(
                        op, "ok", status=200, annotation_id=response.json()["annotation_id"]
                    )
                    pending = None
                    self.submitted += 1
                    if limit is not None and self.submitted >= limit:
                        return
                    continue
                self.history.complete(op, "fail", status=response.status_code, error=response.text)
                if response.status_code == 503:
                    time.sleep(0.05)
                    continue
                raise AssertionError(f"submit refused: {response.status_code} {response.text}")
            op = self.history.invoke(self.process, "next")
            response = self._post(op, f"/api/v1/projects/{project_id}/tasks/next", {})
            if response is None:
                continue
            if response.status_code == 204:
                self.history.complete(op, "ok", status=204)
                return
            if response.status_code != 200:
                self.history.complete(op, "fail", status=response.status_code, error=response.text)
                if response.status_code == 503:
                    time.sleep(0.05)
                    continue
                raise AssertionError(f"next refused: {response.status_code} {response.text}")
            task = response.json()
            self.history.complete(
                op,
                "ok",
                status=200,
                assignment_id=task["assignment_id"],
                item_id=task["item_id"],
            )
            pending = (
                task["assignment_id"],
                task["item_id"],
                f"p{self.process}-a{task['assignment_id']}",
            )

    def close(self) -> None:
        self.client.close()
