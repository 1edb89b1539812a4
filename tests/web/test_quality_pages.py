"""The quality page and API: the demo project's report renders and validates; a worker sees
their own gold accuracy and why their work was rejected."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import func, select

from datadam.access.authn import create_token
from datadam.demo import DEMO_DOMAIN, seed_demo
from datadam.domain.enums import OrgKind, Role
from datadam.quality import demo as demo_quality
from datadam.quality import metrics, report
from datadam.quality.worker import worker_quality
from datadam.storage.tables import (
    Annotation,
    GoldResult,
    InspectionVerdict,
    Project,
    RejectionReason,
    User,
)
from datadam.storage.types import utcnow
from tests.web.quality_support import answer_items

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "quality-report.schema.json").read_text("utf-8")
)


@pytest.fixture(autouse=True)
def _fresh_caches():
    metrics.clear_cache()
    report.clear_kept_reports()
    yield
    report.clear_kept_reports()


def _token(db, email: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with db.write() as session:
        user_id = session.execute(select(User.id).where(User.email == email)).scalar_one()
        _row, raw = create_token(session, user_id, name="test", expires_in=timedelta(hours=1))
    return {"Authorization": f"Bearer {raw}"}


def test_demo_project_report_renders_and_validates(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    metrics.clear_cache()
    seed_demo(db, settings)

    def sentiment_labels() -> tuple[int, int]:
        with db.read() as session:
            project = session.execute(
                select(Project).where(Project.name == "감정 분류 (Korean sentiment)")
            ).scalar_one()
            count = session.execute(
                select(func.count())
                .select_from(Annotation)
                .where(Annotation.project_id == project.id)
            ).scalar_one()
        return project.id, count

    project_id, labels = sentiment_labels()
    seed_demo(db, settings)  # idempotent: no second round of labels
    assert sentiment_labels() == (project_id, labels)
    assert labels >= len(demo_quality.WORKERS) * demo_quality.MAX_TASKS  # the demo's labels
    manager = _token(db, f"manager@{DEMO_DOMAIN}")
    data = client.get(f"/api/v1/projects/{project_id}/quality/report", headers=manager)
    assert data.status_code == 200, data.text
    body = data.json()
    jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(body)
    verdicts = {c["key"]: c["verdict"] for c in body["characteristics"]}
    assert verdicts["syntactic_accuracy"] == "pass"
    assert verdicts["conformance"] in ("pass", "fail")  # the demo plans 18 items
    assert set(verdicts) >= {"completeness", "validity", "readiness", "usefulness"}
    manage_page = client.get(f"/manage/projects/{project_id}", headers=manager)
    assert f'href="/quality/projects/{project_id}"' in manage_page.text
    page = client.get(f"/quality/projects/{project_id}", headers=manager)
    assert page.status_code == 200
    assert 'id="characteristics"' in page.text and 'data-verdict="pass"' in page.text
    assert 'id="quality-workers"' in page.text and "w_" in page.text
    live = client.get(f"/api/v1/projects/{project_id}/quality/metrics", headers=manager).json()
    assert live["project"]["annotations"] == labels
    assert all(w["worker"].startswith("w_") and "worker_id" not in w for w in live["workers"])
    errors = client.get(f"/api/v1/projects/{project_id}/quality/errors.csv", headers=manager)
    assert errors.status_code == 200
    assert errors.text.splitlines() == ["kind,item_id,annotation_id,worker,field,message"]


def test_worker_sees_own_gold_accuracy_and_rejection_reasons(world, db) -> None:  # type: ignore[no-untyped-def]
    inst = world.org(OrgKind.INSTITUTION)
    vendor = world.org(OrgKind.VENDOR)
    inspector = world.person((inst, Role.INSPECTOR))
    worker, other = (world.person((vendor, Role.WORKER)) for _ in range(2))
    project = world.project(inst, vendors=(vendor,))
    world.texts(project, 3)
    ids = answer_items(db, project, worker.user_id, ["positive", "negative", "neutral"])
    answer_items(db, project, other.user_id, ["positive", "positive", "positive"])
    with db.write() as session:
        session.add(
            RejectionReason(project_id=project, code="wrong_label", label="The label is wrong")
        )
        for n, (annotation_id, item_id) in enumerate(ids[:2]):
            session.add(
                GoldResult(
                    annotation_id=annotation_id,
                    project_id=project,
                    worker_id=worker.user_id,
                    item_id=item_id,
                    score=float(n == 0),
                    correct=n == 0,
                    at=utcnow(),
                )
            )
        annotation_id, item_id = ids[2]
        session.add(
            InspectionVerdict(
                project_id=project,
                annotation_id=annotation_id,
                item_id=item_id,
                worker_id=worker.user_id,
                inspector_id=inspector.user_id,
                outcome="reject",
                reason_code="wrong_label",
                comment="this one reads as negative",
            )
        )
    with db.read() as session:
        mine = worker_quality(session, project, worker.user_id)
        theirs = worker_quality(session, project, other.user_id)
    assert mine.gold["trials"] == 2 and mine.gold["successes"] == 1
    assert 0 < mine.gold["ci_low"] < 0.5 < mine.gold["ci_high"] < 1
    assert (mine.inspected, mine.accepted) == (1, 0)
    assert [(r.reason, r.comment, r.outcome) for r in mine.rejections] == [
        ("The label is wrong", "this one reads as negative", "reject")
    ]
    assert theirs.gold["trials"] == 0 and theirs.rejections == ()
