"""A lean HTTP/1.1 keep-alive load generator for the worker loop (next-task + submit).

It speaks just enough HTTP over asyncio streams that the generator costs a few tens of
microseconds per request, so that on a small machine it measures the server, not itself.
It runs in its own process (see `run_in_process`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from typing import Any

import orjson

RESULT = b'{"result": {"sentiment": "positive"}, "client_submission_id": "%s"}'


class Connection:
    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        ).encode()
        self.writer.write(head + self.auth + b"\r\n" + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = 0
        for line in raw.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        data = await self.reader.readexactly(length) if length else b""
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _worker(
    conn: Connection, project_id: int, stop_at: float, measure_from: float, out: dict[str, Any]
) -> None:
    await conn.open()
    n = 0
    try:
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            status, data = await conn.post(f"/api/v1/projects/{project_id}/tasks/next", b"{}")
            t1 = time.perf_counter()
            if status == 204:
                out["exhausted"] = True
                return
            if status != 200:
                out["errors"].append((status, data[:200].decode(errors="replace")))
                await asyncio.sleep(0.01)
                continue
            assignment = orjson.loads(data)["assignment_id"]
            n += 1
            key = b"k%d-%d" % (assignment, n)
            status, data = await conn.post(f"/api/v1/assignments/{assignment}/submit", RESULT % key)
            t2 = time.perf_counter()
            if status != 200:
                out["errors"].append((status, data[:200].decode(errors="replace")))
                continue
            out["pairs_total"] += 1
            if t0 >= measure_from and t2 <= stop_at:
                out["next"].append(t1 - t0)
                out["submit"].append(t2 - t1)
    finally:
        conn.close()


async def _run(
    port: int, tokens: list[str], project_id: int, seconds: float, warmup: float
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "next": [],
        "submit": [],
        "errors": [],
        "exhausted": False,
        "pairs_total": 0,
    }
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    conns = [Connection("127.0.0.1", port, t) for t in tokens]
    await asyncio.gather(*(_worker(c, project_id, stop_at, measure_from, out) for c in conns))
    out["seconds"] = seconds
    return out


def _child(args: tuple[Any, ...], queue: Any) -> None:
    queue.put(asyncio.run(_run(*args)))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_in_process(
    port: int, tokens: list[str], project_id: int, *, seconds: float, warmup: float = 1.0
) -> dict[str, Any]:
    """Run the load in a separate process; returns pairs/s and latency percentiles (ms)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=((port, tokens, project_id, seconds, warmup), queue))
    proc.start()
    raw = queue.get(timeout=seconds + warmup + 120)
    proc.join()
    pairs = len(raw["submit"])
    ms = 1000.0
    return {
        "workers": len(tokens),
        "pairs": pairs,
        "pairs_total": raw["pairs_total"],
        "pairs_per_s": round(pairs / raw["seconds"], 1),
        "next_p50_ms": round(percentile(raw["next"], 0.50) * ms, 2),
        "next_p95_ms": round(percentile(raw["next"], 0.95) * ms, 2),
        "submit_p50_ms": round(percentile(raw["submit"], 0.50) * ms, 2),
        "submit_p95_ms": round(percentile(raw["submit"], 0.95) * ms, 2),
        "errors": len(raw["errors"]),
        "first_errors": raw["errors"][:3],
        "exhausted": raw["exhausted"],
    }
