"""A project's quality plan (targets the report measures against) and the auditor's checklist.

The plan says what the dataset should be: how many items, which classes in which shares per
categorical control, and the target of each measured characteristic. Readiness and usefulness
need human judgement: an auditor answers the checklist's questions, each answer stored with
who gave it and when, and every change goes into the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.audit import record_event
from datadam.domain.enums import OrgKind, Role
from datadam.errors import InputError, NotAllowed
from datadam.i18n import N_
from datadam.quality.coding import categorical_controls
from datadam.storage.tables import Project, QualityChecklist, QualityPlan
from datadam.storage.types import utcnow

#: Default targets; a plan overrides any of them.
DEFAULT_TARGETS: dict[str, float] = {
    "completeness": 1.0,  # share of items with at least one valid annotation
    "technical_conformance": 1.0,  # share of items whose data every control can be shown on
    "syntactic_accuracy": 1.0,  # share of annotations valid against the schema
    "semantic_accuracy": 0.9,  # share of labels right, on gold and inspection samples
    "diversity_tolerance": 0.05,  # largest allowed |share - target share| of a class
    "validity": 0.6,  # macro-F1 of the baseline model on the held-out split
}
MAX_TARGET_ITEMS = 10**10

#: The checklist: (key, characteristic, question). Questions are message ids (translated).
CHECKLIST: tuple[tuple[str, str, str], ...] = (
    (
        "plan_documented",
        "readiness",
        N_("The construction plan (purpose, sources, size, classes) is written down and approved."),
    ),
    (
        "legal_basis",
        "readiness",
        N_("The data was collected with a legal basis; consents or licences are on file."),
    ),
    (
        "privacy",
        "readiness",
        N_("Personal information was removed or de-identified, and this was checked."),
    ),
    (
        "guideline",
        "readiness",
        N_("A labeling guideline exists and the workers were trained on it."),
    ),
    (
        "fits_purpose",
        "usefulness",
        N_("The data serves the stated purpose and the people who will use it."),
    ),
    (
        "documented",
        "usefulness",
        N_("Metadata and documentation let others find, understand and reuse the data."),
    ),
    (
        "reusable",
        "usefulness",
        N_("The formats and the licence allow the intended reuse."),
    ),
)
ANSWERS = ("yes", "no", "na")
MAX_NOTE = 2000


@dataclass(frozen=True)
class Plan:
    target_items: int | None
    class_targets: dict[str, dict[str, float]]
    targets: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "target_items": self.target_items,
            "class_targets": self.class_targets,
            "targets": self.targets,
        }


def get_plan(session: Session, project_id: int) -> Plan:
    row = session.get(QualityPlan, project_id)
    if row is None:
        return Plan(None, {}, dict(DEFAULT_TARGETS))
    return Plan(row.target_items, row.class_targets, {**DEFAULT_TARGETS, **row.targets})


def _check_plan(
    project: Project, target_items: Any, class_targets: Any, targets: Any
) -> tuple[int | None, dict[str, dict[str, float]], dict[str, float]]:
    if target_items is not None and (
        not isinstance(target_items, int)
        or isinstance(target_items, bool)
        or not 1 <= target_items <= MAX_TARGET_ITEMS
    ):
        raise InputError("target_items must be a whole number from 1 on", field="target_items")
    controls = {c.name: c for c in categorical_controls(project.schema)}
    if not isinstance(class_targets, dict):
        raise InputError("class_targets must map a control to label shares", field="class_targets")
    clean: dict[str, dict[str, float]] = {}
    for name, shares in class_targets.items():
        where = f"class_targets.{str(name)[:64]}"
        if name not in controls:
            raise InputError("not a choice or epochs control of the schema", field=where)
        if not isinstance(shares, dict) or not shares:
            raise InputError("give each planned label its share", field=where)
        for label, share in shares.items():
            if label not in controls[name].labels:
                raise InputError(f"{str(label)[:64]!r} is not a label of {name}", field=where)
            if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share <= 1:
                raise InputError("a share is a number from 0 to 1", field=f"{where}.{label}")
        total = float(sum(shares.values()))
        if abs(total - 1.0) > 0.001:
            raise InputError(f"the shares add up to {total:.3f}, not 1", field=where)
        clean[name] = {label: float(share) for label, share in shares.items()}
    if not isinstance(targets, dict):
        raise InputError("targets must map a characteristic to a number", field="targets")
    for key, value in targets.items():
        if key not in DEFAULT_TARGETS:
            raise InputError(f"unknown target {str(key)[:64]!r}", field="targets")
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            raise InputError("a target is a number from 0 to 1", field=f"targets.{key}")
    return target_items, clean, {k: float(v) for k, v in targets.items()}


def set_plan(
    session: Session,
    actor: Actor,
    project: Project,
    *,
    target_items: Any = None,
    class_targets: Any = None,
    targets: Any = None,
) -> Plan:
    """Replace the plan (callers check that the actor manages the project)."""
    items, classes, chosen = _check_plan(project, target_items, class_targets or {}, targets or {})
    row = session.get(QualityPlan, project.id)
    before = None
    if row is None:
        row = QualityPlan(project_id=project.id)
        session.add(row)
    else:
        before = {
            "target_items": row.target_items,
            "class_targets": row.class_targets,
            "targets": row.targets,
        }
    row.target_items = items
    row.class_targets = classes
    row.targets = chosen
    row.updated_by = actor.user_id
    row.updated_at = utcnow()
    session.flush()
    record_event(
        session,
        actor_id=actor.user_id,
        action="quality.plan.set",
        object_type="project",
        object_id=project.id,
        organization_id=project.owner_org_id,
        project_id=project.id,
        before=before,
        after={"target_items": items, "class_targets": classes, "targets": chosen},
    )
    _forget(project.id)
    return get_plan(session, project.id)


def _forget(project_id: int) -> None:
    from datadam.quality.report import forget_report  # the report imports this module

    forget_report(project_id)


def can_audit(actor: Actor, project: Project) -> bool:
    """Auditors of the owner institution and anyone of a quality agency fill the checklist."""
    return actor.has_role(project.owner_org_id, Role.AUDITOR) or actor.is_in_kind(
        OrgKind.QUALITY_AGENCY
    )


@dataclass(frozen=True)
class ChecklistAnswer:
    key: str
    characteristic: str
    question: str
    answer: str | None
    note: str
    answered_by: int | None
    answered_at: datetime | None


def get_checklist(session: Session, project_id: int) -> list[ChecklistAnswer]:
    rows = {
        row.key: row
        for row in session.execute(
            select(QualityChecklist).where(QualityChecklist.project_id == project_id)
        ).scalars()
    }
    out = []
    for key, characteristic, question in CHECKLIST:
        row = rows.get(key)
        out.append(
            ChecklistAnswer(
                key,
                characteristic,
                question,
                row.answer if row else None,
                row.note if row else "",
                row.answered_by if row else None,
                row.answered_at if row else None,
            )
        )
    return out


def answer_checklist(
    session: Session, actor: Actor, project: Project, answers: dict[str, Any]
) -> list[ChecklistAnswer]:
    """Store the auditor's answers: `{key: {"answer": yes|no|na, "note": text}}`."""
    if not can_audit(actor, project):
        raise NotAllowed("only auditors fill in the quality checklist", code="forbidden")
    keys = {key for key, _c, _q in CHECKLIST}
    if not isinstance(answers, dict) or not answers:
        raise InputError("give at least one answer", field="answers")
    for key, value in answers.items():
        if key not in keys:
            raise InputError(f"no checklist question {str(key)[:64]!r}", field="answers")
        if not isinstance(value, dict) or value.get("answer") not in ANSWERS:
            raise InputError("answer yes, no or na", field=f"answers.{key}.answer")
        note = value.get("note", "")
        if not isinstance(note, str) or len(note) > MAX_NOTE or "\x00" in note:
            raise InputError(
                f"a note is text up to {MAX_NOTE} characters", field=f"answers.{key}.note"
            )
    for key, value in answers.items():
        row = session.get(QualityChecklist, (project.id, key))
        before = {"answer": row.answer, "note": row.note} if row else None
        if row is None:
            row = QualityChecklist(project_id=project.id, key=key)
            session.add(row)
        row.answer = value["answer"]
        row.note = value.get("note", "")
        row.answered_by = actor.user_id
        row.answered_at = utcnow()
        session.flush()
        record_event(
            session,
            actor_id=actor.user_id,
            action="quality.checklist.answer",
            object_type="project",
            object_id=project.id,
            organization_id=project.owner_org_id,
            project_id=project.id,
            before=before,
            after={"key": key, "answer": row.answer, "note": row.note},
        )
    _forget(project.id)
    return get_checklist(session, project.id)
