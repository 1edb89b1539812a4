"""Demo pay: last month closed for the demo workers, topped up to the minimum, once."""

from __future__ import annotations

from sqlalchemy import func, select

from datadam.access import people
from datadam.domain.enums import OrgKind, Role
from datadam.pay.demo_pay import PROJECT, WORKERS, seed_pay_demo
from datadam.pay.keys import load_or_create_platform_key
from datadam.pay.verify import verify_ledger
from datadam.storage.tables import LedgerEntry, PayoutRequest, Project, ProjectAccess


def test_demo_pay_closes_last_month_once(db, settings) -> None:  # type: ignore[no-untyped-def]
    with db.write() as session:
        inst = people.create_organization(
            session, slug="inst-demo", name="Inst", kind=OrgKind.INSTITUTION
        )
        vendor = people.create_organization(
            session, slug="vendor-demo", name="V", kind=OrgKind.VENDOR
        )
        for handle in WORKERS:
            user = people.create_user(
                session, email=f"{handle}@demo.test", display_name=handle, password_hash="x"
            )
            people.add_membership(
                session, user_id=user.id, organization_id=vendor.id, role=Role.WORKER
            )
        project = Project(owner_org_id=inst.id, name=PROJECT, schema={}, status="active")
        session.add(project)
        session.flush()
        session.add(ProjectAccess(project_id=project.id, organization_id=vendor.id))
    period = seed_pay_demo(db, settings, domain="demo.test")
    assert period is not None
    assert seed_pay_demo(db, settings, domain="demo.test") is None
    with db.read() as session:
        kinds = dict(
            session.execute(select(LedgerEntry.kind, func.count()).group_by(LedgerEntry.kind)).all()
        )
        assert kinds == {"earning": 9, "top_up": 3}  # training pays below the minimum
        assert session.execute(select(func.count()).select_from(PayoutRequest)).scalar_one() == 1
        key = load_or_create_platform_key(settings.data_dir)
        assert verify_ledger(session, key.public).ok
