"""Demo data for the accountability pages: a program year's worth of paid, trained and
inspected work, so the dashboard, scorecards and audit trail have something to show.

A separate institution and vendor with their own crowd (who never log in) label a review
project over the last ~75 days at a piece rate too low for the slower workers, so the
closed periods carry top-ups; some work is inspected (rejections, appeals), some items are
gold, some workers trained, and a few joined the talent pool and got offers. The existing
demo people and projects are left exactly as they were. Idempotent: once the project has
labels, nothing more is added.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.access import people
from datadam.access.authn import actor_for
from datadam.accountability import talent
from datadam.audit import record_event
from datadam.domain.enums import OrgKind, Role
from datadam.pay import rates
from datadam.pay.keys import platform_key_for
from datadam.pay.period import close_period, period_bounds
from datadam.pay.worktime import record_worked_time
from datadam.settings import Settings
from datadam.storage.db import Database
from datadam.storage.tables import (
    Annotation,
    Assignment,
    GoldAnswer,
    InspectionVerdict,
    Item,
    Organization,
    Project,
    ProjectAccess,
    User,
)
from datadam.storage.types import utcnow

INSTITUTION = ("jeju-data-institute", "Jeju Data Institute (제주데이터연구원)")
VENDOR = ("data-makers", "Data Makers (데이터메이커스)")
FAIR_VENDOR = ("fair-labels", "Fair Labels (공정라벨)")
PROJECT = "Review sentiment for the program report (리뷰 감정 평가)"
LABELS = ["긍정", "부정", "중립"]
SCHEMA = {
    "version": 1,
    "title": "Review sentiment",
    "controls": [{"name": "sentiment", "type": "choice", "source": "text", "labels": LABELS}],
}
CROWD = 12  # 1-8 work for Data Makers, 9-12 for Fair Labels
# seconds per item: Data Makers' slower half earns less than the minimum before top-ups
SPEEDS = [30, 34, 40, 46, 80, 92, 104, 120, 26, 28, 31, 33]
TRAINED = range(4, 8)
ITEMS = 150
DAYS = 75
PIECE_RATE = 130  # KRW per item: 30 s items earn 15,600 KRW/h, 120 s items 3,900 KRW/h


def seed_accountability_demo(db: Database, settings: Settings) -> None:
    """Create the accountability demo data once (see the module doc)."""
    with db.write() as session:
        project = _ensure_world(session)
        if session.execute(
            select(Annotation.id).where(Annotation.project_id == project.id).limit(1)
        ).first():
            return
        _import_items(session, project)
    with db.write() as session:
        project = session.execute(select(Project).where(Project.name == PROJECT)).scalar_one()
        _label(session, project, settings.resolved_secret_key())
    key = platform_key_for(settings.data_dir)
    now = utcnow()
    for period in _ended_periods(now):
        closed_on = min(now, period_bounds(period)[1] + timedelta(days=3))  # paid promptly
        with db.write() as session:
            close_period(session, key, period, now=closed_on)


def _ensure_world(session: Session) -> Project:
    orgs: dict[str, int] = {}
    for (slug, name), kind in (
        (INSTITUTION, OrgKind.INSTITUTION),
        (VENDOR, OrgKind.VENDOR),
        (FAIR_VENDOR, OrgKind.VENDOR),
    ):
        org = session.execute(select(Organization).where(Organization.slug == slug)).scalar()
        if org is None:
            org = people.create_organization(session, slug=slug, name=name, kind=kind)
        orgs[slug] = org.id
    project = session.execute(select(Project).where(Project.name == PROJECT)).scalar()
    if project is not None:
        return project
    template = session.execute(select(User.password_hash).order_by(User.id).limit(1)).scalar()
    for n in range(1, CROWD + 1):
        email = f"crowd{n}@demo.datadam.org"
        if session.execute(select(User.id).where(User.email == email)).first():
            continue
        user = people.create_user(
            session,
            email=email,
            display_name=f"Crowd worker {n} (크라우드 {n})",
            password_hash=template or "!",
            locale="ko",
        )
        people.add_membership(
            session,
            user_id=user.id,
            organization_id=orgs[(VENDOR if n <= 8 else FAIR_VENDOR)[0]],
            role=Role.WORKER,
        )
    manager = session.execute(
        select(User).where(User.email == "crowd-manager@demo.datadam.org")
    ).scalar()
    if manager is None:
        manager = people.create_user(
            session,
            email="crowd-manager@demo.datadam.org",
            display_name="Ko Yu-na (고유나)",
            password_hash=template or "!",
            locale="ko",
        )
        for role in (Role.ADMIN, Role.MANAGER):
            people.add_membership(
                session, user_id=manager.id, organization_id=orgs[INSTITUTION[0]], role=role
            )
    project = Project(
        owner_org_id=orgs[INSTITUTION[0]],
        name=PROJECT,
        schema=SCHEMA,
        field="language",
        modality="text",
        overlap=2,
        instructions="리뷰를 읽고 감정을 고르세요. Read the review and pick its sentiment.",
        status="active",
        created_by=manager.id,
    )
    session.add(project)
    session.flush()
    for vendor in (VENDOR, FAIR_VENDOR):
        session.add(ProjectAccess(project_id=project.id, organization_id=orgs[vendor[0]]))
    record_event(
        session,
        actor_id=manager.id,
        action="project.create",
        object_type="project",
        object_id=project.id,
        organization_id=project.owner_org_id,
        project_id=project.id,
        after={"name": PROJECT, "via": "demo"},
    )
    return project


def _import_items(session: Session, project: Project) -> None:
    import hashlib
    import json

    rng = random.Random(11)
    words = ["배송", "가격", "품질", "직원", "포장", "맛", "화면", "소리"]
    moods = ["정말 좋았어요", "별로였어요", "그저 그랬어요", "최고예요", "실망했어요"]
    for i in range(ITEMS):
        payload = {"text": f"{rng.choice(words)}이(가) {rng.choice(moods)}. (#{i + 1})"}
        digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()
        session.add(Item(project_id=project.id, payload=payload, content_hash=digest))
    session.flush()


def _ended_periods(now: datetime) -> list[str]:
    first = now - timedelta(days=DAYS)
    periods = []
    year, month = first.year, first.month
    while (year, month) < (now.year, now.month):
        periods.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return periods


def _label(session: Session, project: Project, secret: str) -> None:
    rng = random.Random(7)
    now = utcnow()
    start = now - timedelta(days=DAYS)
    manager = session.execute(
        select(User).where(User.email == "crowd-manager@demo.datadam.org")
    ).scalar_one()
    manager_actor = actor_for(session, manager, via="session")
    rates.set_project_pay(
        session,
        manager_actor,
        project.id,
        piece_rate_minor=PIECE_RATE,
        hourly_rate_minor=0,
        now=start - timedelta(days=1),
    )
    crowd = list(
        session.execute(
            select(User)
            .where(User.email.like("crowd%@demo.datadam.org"), User.email.notlike("crowd-%"))
            .order_by(User.id)
        ).scalars()
    )
    items = list(
        session.execute(
            select(Item).where(Item.project_id == project.id).order_by(Item.id)
        ).scalars()
    )
    truth = {item.id: rng.choice(LABELS) for item in items}
    annotations: list[Annotation] = []
    for index, item in enumerate(items):
        day = start + timedelta(days=DAYS * index / len(items), hours=9)
        for worker_index in rng.sample(range(len(crowd)), 2):
            worker = crowd[worker_index]
            seconds = SPEEDS[worker_index] * rng.uniform(0.8, 1.2)
            leased = day + timedelta(minutes=rng.randint(0, 480))
            submitted = leased + timedelta(seconds=seconds)
            careful = worker_index < 4
            answer = (
                truth[item.id]
                if rng.random() < (0.92 if careful else 0.75)
                else (rng.choice(LABELS))
            )
            assignment = Assignment(
                project_id=project.id,
                item_id=item.id,
                worker_id=worker.id,
                status="submitted",
                leased_at=leased,
                expires_at=leased + timedelta(seconds=project.lease_seconds),
                finished_at=submitted,
            )
            session.add(assignment)
            session.flush()
            annotation = Annotation(
                project_id=project.id,
                item_id=item.id,
                assignment_id=assignment.id,
                worker_id=worker.id,
                result={"sentiment": answer},
                schema_version=project.schema_version,
                client_submission_id=f"demo-{assignment.id}",
                started_at=leased,
                submitted_at=submitted,
                active_seconds=seconds,
            )
            session.add(annotation)
            annotations.append(annotation)
            item.n_taken += 1
            item.n_done += 1
    session.flush()
    _inspect(session, project, manager, annotations, rng)
    for item in items[::15]:
        session.add(
            GoldAnswer(
                item_id=item.id,
                project_id=project.id,
                answer={"sentiment": truth[item.id]},
                explanation="demo gold question",
                purpose="gold",
                created_by=manager.id,
            )
        )
    for n in TRAINED:
        worker = crowd[n]
        for week in range(0, DAYS, 21):  # the slower half is trained every three weeks
            record_worked_time(
                session,
                worker_id=worker.id,
                project_id=project.id,
                source="training" if n % 3 else "qualification",
                duration=timedelta(minutes=6 + 2 * (n % 4)),
                work_ref=f"demo-training:{project.id}:{worker.id}:{week}",
                now=start + timedelta(days=week, hours=8),
            )
    _talent(session, project, manager, crowd, secret)
    session.flush()


def _inspect(
    session: Session,
    project: Project,
    manager: User,
    annotations: list[Annotation],
    rng: random.Random,
) -> None:
    for annotation in annotations[::3]:
        roll = rng.random()
        outcome = "accept" if roll < 0.8 else ("correct" if roll < 0.87 else "reject")
        appeal = "none"
        if outcome == "reject":
            appeal = rng.choice(["none", "upheld", "denied"])
        at = annotation.submitted_at + timedelta(hours=rng.randint(2, 30))
        session.add(
            InspectionVerdict(
                project_id=project.id,
                annotation_id=annotation.id,
                item_id=annotation.item_id,
                worker_id=annotation.worker_id,
                inspector_id=manager.id,
                stage=1,
                version=1,
                outcome=outcome,
                reason_code="wrong_label" if outcome == "reject" else None,
                bad_faith=False,
                comment="",
                at=at,
                appeal_status=appeal,
                appeal_text="I read it again; my label fits." if appeal != "none" else None,
                appeal_resolved_by=manager.id if appeal in ("upheld", "denied") else None,
                appeal_resolved_at=at + timedelta(days=1) if appeal != "none" else None,
            )
        )


def _talent(
    session: Session, project: Project, manager: User, crowd: list[User], secret: str
) -> None:
    hirer = actor_for(session, manager, via="session")
    for worker in crowd[:3]:
        talent.set_fields(session, actor_for(session, worker, via="session"), ["language"])
    offers: list[Any] = []
    for worker in crowd[:2]:
        offers.append(
            talent.send_offer(
                session,
                hirer,
                secret=secret,
                organization_id=project.owner_org_id,
                candidate=talent.pool_pseudonym(secret, worker.id),
                field="language",
                title="Language data specialist (언어 데이터 전문가)",
                message="Full-time, Jeju or remote.",
            )
        )
    talent.respond(session, actor_for(session, crowd[0], via="session"), offers[0].id, accept=True)
    talent.record_hire(session, hirer, offers[0].id)
