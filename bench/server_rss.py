"""Server memory with a big project: peak RSS of `datadam serve` while serving the worker loop
and list calls on a project of `--items` items (default 1,000,000). Target: < 300 MB.

    .venv/bin/python bench/server_rss.py --db sqlite --items 1000000 --seconds 20
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import httpx  # noqa: E402
import psutil  # noqa: E402
from tests.factories import World  # noqa: E402
from tests.serverproc import ServerProcess  # noqa: E402

from _common import PG_DEFAULT, bench_database, emit, machine, write_items  # noqa: E402
from _loadgen import run_in_process  # noqa: E402
from datadam.domain.enums import OrgKind, Role  # noqa: E402
from datadam.importing.service import import_file  # noqa: E402


def _rss_mb(pid: int) -> float:
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def _lister(base_url: str, token: str, project: int, stop: threading.Event, out: dict) -> None:  # type: ignore[type-arg]
    """Page through items and annotations with the largest page size, over and over."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        while not stop.is_set():
            for what in ("items", "annotations"):
                cursor = None
                for _ in range(20):
                    params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
                    page = client.get(f"/api/v1/projects/{project}/{what}", params=params)
                    out[page.status_code] = out.get(page.status_code, 0) + 1
                    if page.status_code != 200:
                        break
                    cursor = page.json().get("next_cursor")
                    if not cursor or stop.is_set():
                        break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with bench_database(args.db, args.pg_url) as bench:
        world = World(bench.db, bench.settings)
        inst = world.org(OrgKind.INSTITUTION)
        vendor = world.org(OrgKind.VENDOR)
        manager = world.person((inst, Role.MANAGER))
        crew = [world.person((vendor, Role.WORKER)) for _ in range(args.workers)]
        project = world.project(inst, overlap=3, vendors=(vendor,))
        items = write_items(bench.data_dir / "items.jsonl", args.items)
        import_file(bench.db, project_id=project, path=items)
        items.unlink()
        with ServerProcess(database_url=bench.url, data_dir=bench.data_dir / "srv") as server:
            idle = _rss_mb(server.pid)
            peak = idle
            stop = threading.Event()
            statuses: dict[int, int] = {}
            lister = threading.Thread(
                target=_lister, args=(server.base_url, manager.token, project, stop, statuses)
            )
            lister.start()

            def sample() -> None:
                nonlocal peak
                while not stop.is_set():
                    peak = max(peak, _rss_mb(server.pid))
                    time.sleep(0.1)

            sampler = threading.Thread(target=sample)
            sampler.start()
            load = run_in_process(
                server.port, [p.token for p in crew], project, seconds=args.seconds
            )
            stop.set()
            lister.join()
            sampler.join()
        emit(
            {
                "bench": "server_rss",
                "db": args.db,
                "items": args.items,
                "idle_rss_mb": round(idle, 1),
                "peak_rss_mb": round(peak, 1),
                "pairs_per_s": load["pairs_per_s"],
                "list_responses": statuses,
                "load_1m": machine()["load_1m"],
            }
        )


if __name__ == "__main__":
    main()
