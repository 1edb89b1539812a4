"""Demo inspection: the Korean sentiment project is inspected in two stages (the vendor's
inspectors, then the institution's); the vendor's admin has judged the first few answers, one
of them returned to its worker with a reason, so each role finds something to look at.

Idempotent: a project that already has inspection stages gets nothing new.
"""

from __future__ import annotations

from sqlalchemy import select

from datadam.access.authn import actor_for
from datadam.errors import DatadamError
from datadam.inspection import config, workflow
from datadam.projects.service import get_project_for
from datadam.storage.db import Database
from datadam.storage.tables import Annotation, InspectionStage, Project, User

PROJECT = "감정 분류 (Korean sentiment)"
COMMENT = "가이드라인 3절을 다시 읽어 주세요: 전체적인 평가를 기준으로 고릅니다."
STAGES = [
    {"name": "1차 검수 (수행사)", "inspector_side": "vendor", "mode": "all"},
    {"name": "2차 검수 (기관)", "inspector_side": "owner", "mode": "all"},
]


def seed_inspection_demo(db: Database, *, domain: str) -> None:
    with db.write() as session:
        project = session.execute(select(Project).where(Project.name == PROJECT)).scalars().first()
        manager = session.execute(
            select(User).where(User.email == f"manager@{domain}")
        ).scalar_one_or_none()
        vendor = session.execute(
            select(User).where(User.email == f"vendor@{domain}")
        ).scalar_one_or_none()
        if project is None or manager is None or vendor is None:
            return
        done = session.execute(
            select(InspectionStage.id).where(InspectionStage.project_id == project.id)
        ).first()
        if done is not None:
            return
        boss = actor_for(session, manager, via="demo")
        config.set_stages(session, get_project_for(session, boss, project.id), boss, STAGES)
        judge = actor_for(session, vendor, via="demo")
        view = get_project_for(session, judge, project.id)
        work = session.execute(
            select(Annotation.id)
            .where(Annotation.project_id == project.id, Annotation.worker_id != vendor.id)
            .order_by(Annotation.id)
            .limit(4)
        ).scalars()
        for n, annotation_id in enumerate(work):
            try:
                if n == 0:
                    workflow.record_verdict(
                        session,
                        view,
                        judge,
                        annotation_id,
                        outcome="reject",
                        reason_code="guideline",
                        comment=COMMENT,
                    )
                else:
                    workflow.record_verdict(session, view, judge, annotation_id, outcome="accept")
            except DatadamError:
                continue  # e.g. work on a gold item by a crew outside the vendor: left waiting
