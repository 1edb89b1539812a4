"""The quality report of a project, along the national guideline's characteristics.

For each characteristic the platform can measure, the report gives the target (from the
project's plan, `plan.py`), the measured value, the method and the verdict (`pass`, `fail`,
or `not_measured` with the reason); readiness and usefulness come from the auditor's
checklist. `build_report` returns plain JSON-ready data that `docs/quality-report.schema.json`
describes; `error_rows` yields the CSV error list (every broken annotation and every item
whose data a control cannot be shown on).

Gold items (stage `gold`) are checks on the workers, not part of the dataset: they count for
semantic accuracy only.

Cost: one keyset pass over the project's items and annotations (re-validating every
annotation, as the export reads them) plus one consensus fit; linear in the project.
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session

from datadam.errors import InputError, NotFound
from datadam.exporting.jsonl import worker_pseudonym
from datadam.quality import metrics
from datadam.quality.coding import categorical_controls
from datadam.quality.plan import Plan, get_checklist, get_plan
from datadam.quality.stats import rate
from datadam.schema import LabelingSchema, example_result, parse_schema, validate_result
from datadam.storage.db import Database
from datadam.storage.tables import GoldResult, InspectionVerdict, Project
from datadam.storage.types import utcnow

REPORT_VERSION = "1.0"
CHUNK = 2000
MAX_LISTED_ERRORS = 200  # in the JSON and the page; the CSV lists every one
VALIDITY_MIN_ITEMS = 30
VALIDITY_MAX_ITEMS = 50_000
ERROR_COLUMNS = ("kind", "item_id", "annotation_id", "worker", "field", "message")


@dataclass
class _Scan:
    items: int = 0
    gold_items: int = 0
    items_valid: int = 0  # items with at least one valid annotation
    items_full: int = 0  # items with at least `overlap` valid annotations
    technical_ok: int = 0
    annotations: int = 0
    annotations_valid: int = 0
    errors: list[tuple[str, int, int | None, str, str, str]] = field(default_factory=list)
    error_count: int = 0
    texts: dict[int, str] = field(default_factory=dict)  # item id -> text, for validity


def _loads(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value


def _text_source(project: Project) -> tuple[str, str] | None:
    """(choice control, payload key of its text) when the project classifies text."""
    for control in project.schema.get("controls", ()):
        if control.get("type") == "choice" and control.get("source"):
            return control["name"], control["source"]
    return None


def _walk(
    conn: Any, project: Project, schema: LabelingSchema, *, secret: str, scan: _Scan
) -> Iterator[tuple[str, int, int | None, str, str, str]]:
    """One keyset pass; updates `scan` and yields every error row."""
    source = _text_source(project)
    names: dict[int, str] = {}
    after = 0
    while True:
        items = conn.execute(
            text(
                "SELECT id, stage, payload FROM item WHERE project_id = :p AND id > :a "
                "ORDER BY id LIMIT :n"
            ),
            {"p": project.id, "a": after, "n": CHUNK},
        ).all()
        if not items:
            return
        first, last = items[0][0], items[-1][0]
        by_item: dict[int, list[tuple[int, int, Any]]] = {}
        for a_id, item_id, worker_id, result in conn.execute(
            text(
                "SELECT id, item_id, worker_id, result FROM annotation WHERE project_id = :p "
                "AND item_id BETWEEN :f AND :l ORDER BY item_id, id"
            ),
            {"p": project.id, "f": first, "l": last},
        ):
            by_item.setdefault(item_id, []).append((a_id, worker_id, result))
        for item_id, stage, raw_payload in items:
            if stage == "gold":
                scan.gold_items += 1
                continue
            scan.items += 1
            payload = _loads(raw_payload)
            try:
                example_result(schema, payload)
                scan.technical_ok += 1
            except InputError as exc:
                scan.error_count += 1
                yield ("technical", item_id, None, "", exc.field or "", exc.message)
            valid = 0
            for a_id, worker_id, result in by_item.get(item_id, []):
                scan.annotations += 1
                try:
                    validate_result(schema, _loads(result), payload)
                except InputError as exc:
                    worker = names.get(worker_id)
                    if worker is None:
                        worker = names[worker_id] = worker_pseudonym(secret, project.id, worker_id)
                    scan.error_count += 1
                    yield ("syntactic", item_id, a_id, worker, exc.field or "", exc.message)
                    continue
                valid += 1
                scan.annotations_valid += 1
            scan.items_valid += valid > 0
            scan.items_full += valid >= project.overlap
            if source and isinstance(payload, dict) and len(scan.texts) < VALIDITY_MAX_ITEMS:
                value = payload.get(source[1])
                if isinstance(value, str) and value.strip():
                    scan.texts[item_id] = value
        after = last


def _scan(db: Database, project: Project, schema: LabelingSchema, secret: str) -> _Scan:
    scan = _Scan()
    with db.engine.connect() as conn:
        for row in _walk(conn, project, schema, secret=secret, scan=scan):
            if len(scan.errors) < MAX_LISTED_ERRORS:
                scan.errors.append(row)
    return scan


def error_rows(db: Database, project_id: int, *, secret: str) -> Iterator[str]:
    """The CSV error list, line by line (header first): every broken annotation and every
    item whose data does not fit the schema."""
    with db.read() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound(f"no project {project_id}", field="project_id")
        session.expunge(project)
    schema = parse_schema(project.schema)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ERROR_COLUMNS)
    yield buffer.getvalue()
    scan = _Scan()
    with db.engine.connect() as conn:
        for row in _walk(conn, project, schema, secret=secret, scan=scan):
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(["" if v is None else _csv_safe(str(v)) for v in row])
            yield buffer.getvalue()


def _csv_safe(value: str) -> str:
    """Cells that a spreadsheet would run as a formula get a leading apostrophe."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# ---------------------------------------------------------------- characteristics


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def _verdict(measured: float | None, target: float, *, at_most: bool = False) -> str:
    if measured is None:
        return "not_measured"
    ok = measured <= target + 1e-12 if at_most else measured >= target - 1e-12
    return "pass" if ok else "fail"


def _characteristic(
    key: str,
    *,
    target: Any,
    measured: Any,
    method: str,
    verdict: str,
    details: dict[str, Any] | None = None,
    unit: str = "share",
) -> dict[str, Any]:
    return {
        "key": key,
        "kind": "measured",
        "unit": unit,
        "target": target,
        "measured": measured,
        "method": method,
        "verdict": verdict,
        "details": details or {},
    }


def _consensus(
    db: Database, project: Project
) -> dict[str, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]]:
    """Per categorical control: labels, and per task its item, sub-task and consensus label,
    refitted on every coded answer (warm-started from the latest snapshot)."""
    controls = categorical_controls(project.schema)
    with db.read() as session:  # a report reads: new answers are coded in memory only
        codes, _new, _last, _timings = metrics.update_codes(
            session, project.id, controls, store=False
        )
        fits = metrics.fit_controls(
            codes,
            controls,
            metrics.gold_labels(session, project.id, controls),
            metrics.latest_state(session, project.id),
        )
    out = {}
    for c in controls:
        if c.index in fits:
            fit = fits[c.index]
            out[c.name] = (list(c.labels), fit.task_items, fit.task_subs, fit.labels)
    return out


def _semantic(session: Session, project_id: int, target: float) -> dict[str, Any]:
    gold_total, gold_right = session.execute(
        select(
            func.count(), func.coalesce(func.sum(case((GoldResult.correct, 1), else_=0)), 0)
        ).where(GoldResult.project_id == project_id)
    ).one()
    judged = dict(
        session.execute(
            select(InspectionVerdict.outcome, func.count())
            .where(InspectionVerdict.project_id == project_id)
            .group_by(InspectionVerdict.outcome)
        ).all()
    )
    inspected = int(sum(judged.values()))
    accepted = int(judged.get("accept", 0))
    right, total = int(gold_right) + accepted, int(gold_total) + inspected
    pooled = rate(right, total)
    return _characteristic(
        "semantic_accuracy",
        target=target,
        measured=pooled["rate"],
        method=(
            "Share of labels found right: worker answers to gold questions scored against the "
            "known answer, plus inspected annotations accepted unchanged (a rejection or a "
            "correction counts as wrong); Wilson 95% interval."
        ),
        verdict=_verdict(pooled["rate"], target),
        details={
            "ci_low": pooled["ci_low"],
            "ci_high": pooled["ci_high"],
            "gold": rate(int(gold_right), int(gold_total)),
            "inspection": rate(accepted, inspected),
        },
    )


def _diversity(
    plan: Plan,
    consensus: dict[str, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]],
    gold_items: set[int],
) -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
    tolerance = plan.targets["diversity_tolerance"]
    counts: dict[str, dict[str, int]] = {}
    for name, (labels, items, _subs, chosen) in consensus.items():
        keep = ~np.isin(items, np.fromiter(gold_items, dtype=np.int64, count=len(gold_items)))
        per_class = np.bincount(chosen[keep], minlength=len(labels))
        counts[name] = {label: int(n) for label, n in zip(labels, per_class, strict=True)}
    if not plan.class_targets:
        return (
            _characteristic(
                "statistical_diversity",
                target=tolerance,
                measured=None,
                method="Needs class targets in the plan.",
                verdict="not_measured",
                details={"class_counts": counts},
                unit="largest share difference",
            ),
            counts,
        )
    worst = 0.0
    per_control: dict[str, Any] = {}
    measured_any = False
    for name, shares in plan.class_targets.items():
        have = counts.get(name, {})
        total = sum(have.values())
        if not total:
            per_control[name] = {"measured": None}
            continue
        measured_any = True
        diffs = {
            label: round(have.get(label, 0) / total - shares.get(label, 0.0), 6)
            for label in sorted(set(shares) | set(have))
        }
        largest = max(abs(d) for d in diffs.values())
        worst = max(worst, largest)
        per_control[name] = {"largest_difference": round(largest, 6), "differences": diffs}
    measured = round(worst, 6) if measured_any else None
    return (
        _characteristic(
            "statistical_diversity",
            target=tolerance,
            measured=measured,
            method=(
                "Class shares of the consensus labels (Dawid-Skene over all answers) against "
                "the plan's shares; the measure is the largest absolute difference."
            ),
            verdict=_verdict(measured, tolerance, at_most=True),
            details={"class_counts": counts, "controls": per_control},
            unit="largest share difference",
        ),
        counts,
    )


def _validity(
    project: Project,
    plan: Plan,
    consensus: dict[str, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]],
    texts: dict[int, str],
) -> dict[str, Any]:
    target = plan.targets["validity"]
    source = _text_source(project)

    def skipped(reason: str) -> dict[str, Any]:
        return _characteristic(
            "validity",
            target=target,
            measured=None,
            method=reason,
            verdict="not_measured",
            unit="macro F1",
        )

    if source is None or source[0] not in consensus:
        return skipped("Measured for text classification projects with consensus labels.")
    labels, items, _subs, chosen = consensus[source[0]]
    pairs = [
        (texts[i], int(c))
        for i, c in zip(items.tolist(), chosen.tolist(), strict=True)
        if i in texts
    ]
    classes = {c for _t, c in pairs}
    if len(pairs) < VALIDITY_MIN_ITEMS or len(classes) < 2:
        return skipped(
            f"Needs at least {VALIDITY_MIN_ITEMS} labelled text items in two or more classes."
        )
    from sklearn.dummy import DummyClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline

    x = [t for t, _c in pairs]
    y = [c for _t, c in pairs]
    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 else None
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=0, stratify=stratify
    )
    if len(set(y_train)) < 2:
        return skipped("The training split holds a single class.")
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), max_features=50_000),
        LogisticRegression(max_iter=1000),
    )
    model.fit(x_train, y_train)
    score = float(f1_score(y_test, model.predict(x_test), average="macro"))
    baseline = DummyClassifier(strategy="most_frequent").fit(x_train, y_train)
    floor = float(f1_score(y_test, baseline.predict(x_test), average="macro"))
    measured = round(score, 6)
    return _characteristic(
        "validity",
        target=target,
        measured=measured,
        method=(
            "A baseline model (character 1-3-gram TF-IDF and logistic regression, scikit-learn) "
            "trained on the consensus labels of 80% of the items and scored on the held-out "
            "20% (stratified, seed 0); the measure is macro-averaged F1."
        ),
        verdict=_verdict(measured, target),
        details={
            "train_items": len(x_train),
            "test_items": len(x_test),
            "classes": [labels[c] for c in sorted(classes)],
            "majority_class_f1": round(floor, 6),
        },
        unit="macro F1",
    )


SLOW_SECONDS = 0.5  # reports slower than this to build are kept ...
KEEP_SECONDS = 60.0  # ... this long, per process (the page of a big project reloads cheaply)
_kept: dict[tuple[str, int, str], tuple[float, dict[str, Any]]] = {}
_kept_lock = threading.Lock()


def clear_kept_reports() -> None:
    """Drop every kept report (tests; after fixing data by hand)."""
    with _kept_lock:
        _kept.clear()


def forget_report(project_id: int) -> None:
    """Drop kept reports of a project (its plan or checklist changed)."""
    with _kept_lock:
        for key in [k for k in _kept if k[1] == project_id]:
            del _kept[key]


def build_report(db: Database, project_id: int, *, secret: str) -> dict[str, Any]:
    """The report as JSON-ready data (see docs/quality-report.schema.json).

    A report that took longer than `SLOW_SECONDS` is kept for `KEEP_SECONDS` in this process;
    small projects are always built fresh."""
    key = (
        db.engine.url.render_as_string(hide_password=True),
        project_id,
        hashlib.sha256(secret.encode()).hexdigest(),
    )
    with _kept_lock:
        hit = _kept.get(key)
    if hit is not None and time.monotonic() - hit[0] < KEEP_SECONDS:
        return hit[1]
    started = time.monotonic()
    data = _build_report(db, project_id, secret=secret)
    if time.monotonic() - started >= SLOW_SECONDS:
        with _kept_lock:
            _kept[key] = (started, data)
            while len(_kept) > 16:
                _kept.pop(next(iter(_kept)))
    return data


def _build_report(db: Database, project_id: int, *, secret: str) -> dict[str, Any]:
    with db.read() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound(f"no project {project_id}", field="project_id")
        session.expunge(project)
        plan = get_plan(session, project_id)
        checklist = get_checklist(session, project_id)
        semantic = _semantic(session, project_id, plan.targets["semantic_accuracy"])
        gold_items = set(
            session.execute(
                text("SELECT id FROM item WHERE project_id = :p AND stage = 'gold'"),
                {"p": project_id},
            ).scalars()
        )
    schema = parse_schema(project.schema)
    scan = _scan(db, project, schema, secret)
    consensus = _consensus(db, project)
    targets = plan.targets
    completeness = _ratio(scan.items_valid, scan.items)
    technical = _ratio(scan.technical_ok, scan.items)
    syntactic = _ratio(scan.annotations_valid, scan.annotations)
    diversity, class_counts = _diversity(plan, consensus, gold_items)
    conformance = _conformance(plan, scan, class_counts)
    characteristics = [
        _characteristic(
            "completeness",
            target=targets["completeness"],
            measured=completeness,
            method=(
                "Share of the dataset's items (gold questions excluded) with at least one "
                "annotation that answers every required control validly."
            ),
            verdict=_verdict(completeness, targets["completeness"]),
            details={
                "items": scan.items,
                "items_labelled": scan.items_valid,
                "items_with_all_labels": scan.items_full,
                "labels_per_item": project.overlap,
            },
        ),
        conformance,
        _characteristic(
            "technical_conformance",
            target=targets["technical_conformance"],
            measured=technical,
            method=(
                "Share of items whose data every control of the schema can be shown on: text "
                "where spans are asked, image size for shapes, epoch count for recordings."
            ),
            verdict=_verdict(technical, targets["technical_conformance"]),
            details={"items": scan.items, "items_conformant": scan.technical_ok},
        ),
        diversity,
        _characteristic(
            "syntactic_accuracy",
            target=targets["syntactic_accuracy"],
            measured=syntactic,
            method=(
                "Every stored annotation re-validated against the project's schema and its "
                "item; each failure is in the CSV error list."
            ),
            verdict=_verdict(syntactic, targets["syntactic_accuracy"]),
            details={"annotations": scan.annotations, "valid": scan.annotations_valid},
        ),
        semantic,
        _validity(project, plan, consensus, scan.texts),
    ]
    checks = []
    for answer in checklist:
        checks.append(
            {
                "key": answer.key,
                "characteristic": answer.characteristic,
                "question": answer.question,
                "answer": answer.answer,
                "note": answer.note,
                "answered_by": answer.answered_by,
                "answered_at": answer.answered_at.isoformat() if answer.answered_at else None,
            }
        )
    for key in ("readiness", "usefulness"):
        answers = [c["answer"] for c in checks if c["characteristic"] == key]
        if "no" in answers:
            verdict = "fail"
        elif any(a is None for a in answers):
            verdict = "pending"
        else:
            verdict = "pass"
        characteristics.append(
            {
                "key": key,
                "kind": "checklist",
                "unit": "questions answered yes",
                "target": len(answers),
                "measured": sum(a in ("yes", "na") for a in answers),
                "method": (
                    "The auditor's checklist (questions below); 'not applicable' counts as yes."
                ),
                "verdict": verdict,
                "details": {},
            }
        )
    return {
        "report_version": REPORT_VERSION,
        "generated_at": utcnow().isoformat(),
        "project": {
            "id": project.id,
            "name": project.name,
            "field": project.field,
            "modality": project.modality,
            "labels_per_item": project.overlap,
        },
        "plan": plan.as_dict(),
        "characteristics": characteristics,
        "checklist": checks,
        "errors": {
            "count": scan.error_count,
            "listed": [dict(zip(ERROR_COLUMNS, row, strict=True)) for row in scan.errors],
        },
    }


def _conformance(
    plan: Plan, scan: _Scan, class_counts: dict[str, dict[str, int]]
) -> dict[str, Any]:
    missing = {
        name: sorted(
            label
            for label, share in shares.items()
            if share > 0 and not class_counts.get(name, {}).get(label)
        )
        for name, shares in plan.class_targets.items()
    }
    missing = {k: v for k, v in missing.items() if v}
    if plan.target_items is None:
        return _characteristic(
            "conformance",
            target=None,
            measured=scan.items,
            method="Needs a target item count in the plan.",
            verdict="not_measured",
            details={"missing_classes": missing},
            unit="items",
        )
    ok = scan.items >= plan.target_items and not missing
    return _characteristic(
        "conformance",
        target=plan.target_items,
        measured=scan.items,
        method=(
            "Items in the dataset against the plan's target count, and every class the plan "
            "gives a share present among the consensus labels."
        ),
        verdict="pass" if ok else "fail",
        details={
            "missing_classes": missing,
            "share_of_target": _ratio(scan.items, plan.target_items),
        },
        unit="items",
    )
