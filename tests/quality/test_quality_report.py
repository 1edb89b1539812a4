"""The quality report: characteristics against the plan, the CSV error list, the JSON Schema."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from quality_helpers import START, insert_answers, item_ids, simulate
from tests.factories import CHOICE_SCHEMA

from datadam.domain.enums import OrgKind, Role
from datadam.quality import metrics, plan, report
from datadam.schema import example_schema

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "quality-report.schema.json").read_text("utf-8")
)
SECRET = "t" * 48


@pytest.fixture(autouse=True)
def _fresh_cache():
    metrics.clear_cache()
    report.clear_kept_reports()
    yield
    metrics.clear_cache()
    report.clear_kept_reports()


def _validate(data: dict) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(data)


def _by_key(data: dict) -> dict[str, dict]:
    return {c["key"]: c for c in data["characteristics"]}


def test_broken_annotations_are_each_listed_in_the_csv(world) -> None:  # type: ignore[no-untyped-def]
    inst = world.org(OrgKind.INSTITUTION)
    vendor = world.org(OrgKind.VENDOR)
    a, b = (world.person((vendor, Role.WORKER)).user_id for _ in range(2))
    project = world.project(inst, overlap=2, vendors=(vendor,))
    world.texts(project, 10)
    ids = item_ids(world.db, project)
    good = [(i, a, {"sentiment": "positive"}, START) for i in ids]
    broken_results = [
        {"sentiment": "angry"},
        {"sentiment": 5},
        {},
        {"sentiment": "neutral", "mood": "x"},
        "not an object",
    ]
    broken = [(ids[n], b, r, START + timedelta(minutes=n)) for n, r in enumerate(broken_results)]
    insert_answers(world.db, project, good)
    broken_ids = insert_answers(world.db, project, broken)  # written past the validator

    lines = list(report.error_rows(world.db, project, secret=SECRET))
    rows = list(csv.DictReader(io.StringIO("".join(lines))))
    assert [int(r["annotation_id"]) for r in rows] == broken_ids
    assert {r["kind"] for r in rows} == {"syntactic"}
    assert all(r["worker"].startswith("w_") and r["message"] for r in rows)
    assert rows[0]["field"] == "sentiment" and "angry" in rows[0]["message"]

    data = report.build_report(world.db, project, secret=SECRET)
    _validate(data)
    syntactic = _by_key(data)["syntactic_accuracy"]
    assert syntactic["measured"] == pytest.approx(10 / 15)
    assert syntactic["verdict"] == "fail"
    assert data["errors"]["count"] == 5
    assert [e["annotation_id"] for e in data["errors"]["listed"]] == broken_ids
    completeness = _by_key(data)["completeness"]
    assert completeness["measured"] == 1.0 and completeness["details"]["items_with_all_labels"] == 0


def test_items_whose_data_does_not_fit_are_technical_errors(world) -> None:  # type: ignore[no-untyped-def]
    inst = world.org(OrgKind.INSTITUTION)
    project = world.project(inst, schema=example_schema("spans"))
    world.items(project, [{"text": "Park Ji-sung joined"}])
    with world.db.write() as session:  # stored before the schema asked for text, say
        from datadam.storage.tables import Item

        session.add(Item(project_id=project, payload={"title": "no text"}, content_hash="x" * 64))
    data = report.build_report(world.db, project, secret=SECRET)
    _validate(data)
    technical = _by_key(data)["technical_conformance"]
    assert technical["measured"] == 0.5 and technical["verdict"] == "fail"
    assert [e["kind"] for e in data["errors"]["listed"]] == ["technical"]
    assert _by_key(data)["completeness"]["measured"] == 0.0


def test_report_of_a_simulated_project_against_its_plan(world) -> None:  # type: ignore[no-untyped-def]
    project, _vendor, _accuracy, true_rate = simulate(world, n_items=600, n_gold=60, n_workers=12)
    auditor_org = world.org(OrgKind.QUALITY_AGENCY)
    auditor = world.actor(world.person((auditor_org, Role.AUDITOR)))
    manager = world.actor(world.person((world.org(OrgKind.INSTITUTION), Role.MANAGER)))
    with world.db.write() as session:
        from datadam.storage.tables import Project

        row = session.get(Project, project)
        plan.set_plan(
            session,
            manager,
            row,
            target_items=1000,
            class_targets={"sentiment": {"positive": 0.34, "negative": 0.33, "neutral": 0.33}},
            targets={"semantic_accuracy": 0.7, "validity": 0.1},
        )
        plan.answer_checklist(
            session,
            auditor,
            row,
            {key: {"answer": "yes", "note": "checked"} for key, _c, _q in plan.CHECKLIST},
        )
    data = report.build_report(world.db, project, secret=SECRET)
    _validate(data)
    c = _by_key(data)
    semantic = c["semantic_accuracy"]
    assert semantic["details"]["ci_low"] <= true_rate <= semantic["details"]["ci_high"]
    assert semantic["details"]["gold"]["trials"] == 60 * 12
    assert c["conformance"]["verdict"] == "fail"  # 600 items against a plan of 1,000
    assert c["conformance"]["measured"] == 600
    diversity = c["statistical_diversity"]
    assert diversity["verdict"] == "pass", diversity
    assert sum(diversity["details"]["class_counts"]["sentiment"].values()) == 600  # no gold
    assert c["validity"]["measured"] is not None
    assert c["validity"]["details"]["test_items"] == 120
    assert c["readiness"]["verdict"] == "pass" and c["usefulness"]["verdict"] == "pass"
    assert c["syntactic_accuracy"]["measured"] == 1.0


def test_only_auditors_answer_the_checklist(world) -> None:  # type: ignore[no-untyped-def]
    from datadam.errors import InputError, NotAllowed
    from datadam.storage.tables import Event, Project

    inst = world.org(OrgKind.INSTITUTION)
    manager = world.actor(world.person((inst, Role.MANAGER)))
    auditor = world.actor(world.person((inst, Role.AUDITOR)))
    project = world.project(inst, schema=CHOICE_SCHEMA)
    with world.db.write() as session:
        row = session.get(Project, project)
        with pytest.raises(NotAllowed):
            plan.answer_checklist(session, manager, row, {"privacy": {"answer": "yes"}})
        with pytest.raises(InputError):
            plan.answer_checklist(session, auditor, row, {"privacy": {"answer": "maybe"}})
        plan.answer_checklist(session, auditor, row, {"privacy": {"answer": "no", "note": "ids"}})
        with pytest.raises(InputError):
            plan.set_plan(session, manager, row, class_targets={"sentiment": {"happy": 1.0}})
    with world.db.read() as session:
        answers = {a.key: a for a in plan.get_checklist(session, project)}
        events = session.query(Event).filter(Event.action == "quality.checklist.answer").all()
    assert answers["privacy"].answer == "no" and answers["privacy"].answered_by == auditor.user_id
    assert answers["guideline"].answer is None
    assert [e.after["answer"] for e in events] == ["no"]
    data = report.build_report(world.db, project, secret=SECRET)
    assert _by_key(data)["readiness"]["verdict"] == "fail"
    assert _by_key(data)["usefulness"]["verdict"] == "pending"


def test_slow_reports_are_kept_until_the_plan_changes(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from datadam.storage.tables import Project

    monkeypatch.setattr(report, "SLOW_SECONDS", 0.0)  # keep every report
    inst = world.org(OrgKind.INSTITUTION)
    manager = world.actor(world.person((inst, Role.MANAGER)))
    project = world.project(inst, schema=CHOICE_SCHEMA)
    world.texts(project, 3)
    first = report.build_report(world.db, project, secret=SECRET)
    assert report.build_report(world.db, project, secret=SECRET) is first
    with world.db.write() as session:
        plan.set_plan(session, manager, session.get(Project, project), target_items=3)
    fresh = report.build_report(world.db, project, secret=SECRET)
    assert fresh is not first and fresh["plan"]["target_items"] == 3
    report.forget_report(project)
