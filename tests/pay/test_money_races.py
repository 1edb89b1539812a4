"""C-33: concurrent money operations keep one set of top-ups and one linear chain."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from datadam.pay.keys import load_or_create_platform_key
from datadam.pay.period import close_period
from datadam.pay.rates import set_project_pay
from datadam.pay.verify import verify_ledger
from datadam.storage.tables import LedgerCheckpoint, LedgerEntry
from tests.factories import labeling_team
from tests.pay.helpers import AFTER_PERIOD, PERIOD, WORK_START, do_item, post, simple_postings


def _in_threads(n: int, work) -> list[BaseException]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_two_closes_of_one_period_at_once_post_one_set_of_top_ups(world, db, settings) -> None:  # type: ignore[no-untyped-def]
    _inst, _vendor, manager, crew, project = labeling_team(world, workers=4, items=8)
    with db.write() as session:
        set_project_pay(
            session,
            world.actor(manager),
            project,
            piece_rate_minor=10,
            hourly_rate_minor=0,
            now=WORK_START - timedelta(days=1),
        )
    for n, person in enumerate(crew):
        do_item(
            db, world.actor(person), project, start=WORK_START + timedelta(hours=n), seconds=300
        )
    key = load_or_create_platform_key(settings.data_dir)
    summaries: list[dict] = []  # type: ignore[type-arg]

    def close(_i: int) -> None:
        with db.write() as session:
            summaries.append(close_period(session, key, PERIOD, now=AFTER_PERIOD))

    assert _in_threads(2, close) == []
    assert sorted(s["entries_posted"] for s in summaries) == [0, 8]
    with db.read() as session:
        kinds = session.execute(
            select(LedgerEntry.kind, func.count()).group_by(LedgerEntry.kind)
        ).all()
        checkpoints = session.execute(select(func.count()).select_from(LedgerCheckpoint)).scalar()
        assert verify_ledger(session, key.public).ok
    assert dict(kinds) == {"earning": 4, "top_up": 4} and checkpoints == 1


def test_eight_writers_append_one_linear_chain(db, settings) -> None:  # type: ignore[no-untyped-def]
    per_thread = 60

    def append(i: int) -> None:
        for batch in range(per_thread // 3):
            post(db, simple_postings(3, prefix=f"t{i}-{batch}"))

    assert _in_threads(8, append) == []
    key = load_or_create_platform_key(settings.data_dir)
    with db.read() as session:
        seqs = session.execute(select(LedgerEntry.seq).order_by(LedgerEntry.seq)).scalars().all()
        prevs = session.execute(select(LedgerEntry.prev_hash)).scalars().all()
        report = verify_ledger(session, key.public)
    assert seqs == list(range(1, 8 * per_thread + 1))
    assert len(set(prevs)) == len(prevs)
    assert report.ok, report.problem
