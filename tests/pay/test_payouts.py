"""Payout requests: never more than the balance, decided once, only by the payer's admins."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from datadam.domain.enums import Role
from datadam.errors import Conflict, NotAllowed, NotFound
from datadam.pay.ledger import LedgerError, balance_of, worker_account
from datadam.pay.payouts import (
    approve_payout,
    balances_of,
    decline_payout,
    list_org_requests,
    request_payout,
)
from datadam.pay.verify import verify_ledger
from datadam.storage.tables import LedgerEntry
from tests.factories import labeling_team
from tests.pay.helpers import post, simple_postings


def _owed(world, db, amount=10_000):  # type: ignore[no-untyped-def]
    _inst, vendor, manager, crew, _project = labeling_team(world, workers=1, items=1)
    worker = crew[0]
    admin = world.person((vendor, Role.ADMIN))
    (posting,) = simple_postings(1, amount=amount)
    post(
        db,
        [
            posting.__class__(
                **{
                    **posting.__dict__,
                    "credit_account": worker_account(worker.user_id, vendor),
                    "debit_account": f"org:{vendor}:earnings",
                    "worker_id": worker.user_id,
                    "organization_id": vendor,
                }
            )
        ],
    )
    return vendor, manager, worker, admin


def test_request_then_approval_posts_one_payout(world, db) -> None:  # type: ignore[no-untyped-def]
    vendor, _manager, worker, admin = _owed(world, db)
    with db.write() as session:
        request = request_payout(
            session, world.actor(worker), organization_id=vendor, amount_minor=4_000
        )
        request_id = request.id
    with db.read() as session:
        (balance,) = balances_of(session, worker.user_id)
    assert (balance.balance_minor, balance.requested_minor, balance.available_minor) == (
        10_000,
        4_000,
        6_000,
    )
    with db.write() as session:
        approved = approve_payout(session, world.actor(admin), request_id)
        assert approved.status == "approved" and approved.ledger_seq == 2
    with db.read() as session:
        assert balance_of(session, worker_account(worker.user_id, vendor), "KRW") == 6_000
        assert verify_ledger(session, None).ok
    with pytest.raises(Conflict), db.write() as session:
        approve_payout(session, world.actor(admin), request_id)


def test_requests_never_exceed_what_is_available(world, db) -> None:  # type: ignore[no-untyped-def]
    vendor, _manager, worker, _admin = _owed(world, db)
    actor = world.actor(worker)
    with db.write() as session:
        request_payout(session, actor, organization_id=vendor, amount_minor=7_000)
    with pytest.raises(LedgerError) as refused, db.write() as session:
        request_payout(session, actor, organization_id=vendor, amount_minor=3_001)
    assert refused.value.code == "payout_too_large"
    with pytest.raises(NotFound), db.write() as session:
        request_payout(session, actor, organization_id=vendor + 999, amount_minor=1)


def test_only_the_payers_admins_decide_and_see_bank_details(world, db) -> None:  # type: ignore[no-untyped-def]
    vendor, manager, worker, admin = _owed(world, db)
    with db.write() as session:
        request_id = request_payout(
            session, world.actor(worker), organization_id=vendor, amount_minor=100
        ).id
    for outsider in (manager, worker):
        with pytest.raises(NotFound), db.write() as session:
            approve_payout(session, world.actor(outsider), request_id)
        with pytest.raises(NotAllowed), db.read() as session:
            list_org_requests(session, world.actor(outsider), vendor)
    with db.read() as session:
        (row,) = list_org_requests(session, world.actor(admin), vendor)
    assert row["worker"] == worker.pseudonym and "bank_account" in row["profile"]
    with db.write() as session:
        assert decline_payout(session, world.actor(admin), request_id, note="no").status == (
            "declined"
        )


def test_two_admins_approving_at_once_pay_once(world, db) -> None:  # type: ignore[no-untyped-def]
    vendor, _manager, worker, admin = _owed(world, db)
    second_admin = world.person((vendor, Role.ADMIN))
    with db.write() as session:
        request_id = request_payout(
            session, world.actor(worker), organization_id=vendor, amount_minor=9_000
        ).id
    actors = [world.actor(admin), world.actor(second_admin)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(i: int) -> None:
        barrier.wait()
        try:
            with db.write() as session:
                approve_payout(session, actors[i], request_id)
            outcomes.append("approved")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["approved", "conflict"]
    with db.read() as session:
        payouts = session.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "payout")
        ).scalar_one()
        assert payouts == 1
        assert balance_of(session, worker_account(worker.user_id, vendor), "KRW") == 1_000


def test_a_worker_cannot_request_for_money_owed_to_someone_else(world, db) -> None:  # type: ignore[no-untyped-def]
    vendor, _manager, _worker, _admin = _owed(world, db)
    stranger = world.person((vendor, Role.WORKER))
    with pytest.raises(NotFound), db.write() as session:
        request_payout(session, world.actor(stranger), organization_id=vendor, amount_minor=1)


def test_an_admin_who_is_also_the_worker_cannot_approve_their_own_payout(world, db) -> None:  # type: ignore[no-untyped-def]
    vendor, _manager, worker, _admin = _owed(world, db)
    with db.write() as session:
        from datadam.access import people

        people.add_membership(
            session, user_id=worker.user_id, organization_id=vendor, role=Role.ADMIN
        )
    actor = world.actor(worker)
    with db.write() as session:
        request_id = request_payout(session, actor, organization_id=vendor, amount_minor=10).id
    with pytest.raises(NotAllowed), db.write() as session:
        approve_payout(session, actor, request_id)
