"""The program office dashboard: progress, quality and pay across every organisation and
project, with a drill-down to one project. Oversight only (program office, quality agency);
nothing here changes anything.

Each figure is one grouped query over a whole table (items, annotations, ledger), so the
page costs a handful of scans whatever the number of projects.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from datadam.access.actor import Actor
from datadam.access.policies import sees_all_projects
from datadam.accountability import sources
from datadam.errors import NotAllowed
from datadam.storage.tables import Annotation, Item, LedgerEntry, Organization, Project
from datadam.storage.types import utcnow

DAYS = 30
MONTHS = 6
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def require_oversight(actor: Actor) -> None:
    if not sees_all_projects(actor):
        raise NotAllowed("only the program office and the quality agency see the dashboard")


def _day_key(dialect: str) -> Any:
    if dialect == "sqlite":  # naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff"
        return func.substr(Annotation.submitted_at, 1, 10)
    return func.to_char(func.timezone("UTC", Annotation.submitted_at), "YYYY-MM-DD")


def _months_back(now: datetime, count: int) -> list[str]:
    year, month = now.year, now.month
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return found[::-1]


def project_rows(session: Session, *, project_id: int | None = None) -> list[dict[str, Any]]:
    """Per project: owner, items, items with all labels, labels, quality."""
    query = select(Project, Organization.name).join(
        Organization, Organization.id == Project.owner_org_id
    )
    if project_id is not None:
        query = query.where(Project.id == project_id)
    projects = session.execute(query.order_by(Project.id)).all()
    ids = [p.id for p, _ in projects]
    items: dict[int, int] = {}
    complete: dict[int, int] = {}
    labels: dict[int, int] = {}
    if ids:
        items = dict(
            session.execute(
                select(Item.project_id, func.count())
                .where(Item.project_id.in_(ids))
                .group_by(Item.project_id)
            ).all()
        )
        complete = dict(
            session.execute(
                select(Item.project_id, func.count())
                .join(Project, Project.id == Item.project_id)
                .where(Item.project_id.in_(ids), Item.n_done >= Project.overlap)
                .group_by(Item.project_id)
            ).all()
        )
        labels = dict(
            session.execute(
                select(Annotation.project_id, func.count())
                .where(Annotation.project_id.in_(ids))
                .group_by(Annotation.project_id)
            ).all()
        )
    quality = project_quality(session, project_id=project_id)
    rows = []
    for project, owner in projects:
        total = int(items.get(project.id, 0))
        done = int(complete.get(project.id, 0))
        q = quality.get(project.id, {})
        rows.append(
            {
                "id": project.id,
                "name": project.name,
                "owner": owner,
                "field": project.field,
                "status": project.status,
                "items": total,
                "complete": done,
                "progress": round(done / total, 4) if total else None,
                "labels": int(labels.get(project.id, 0)),
                "verdicts": q.get("verdicts", 0),
                "pass_rate": q.get("pass_rate"),
                "rejection_rate": q.get("rejection_rate"),
                "gold_accuracy": q.get("gold_accuracy"),
            }
        )
    return rows


def project_quality(
    session: Session, *, project_id: int | None = None, now: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """Inspection pass and rejection rates and gold accuracy per project, over all time."""
    end = (now or utcnow()) + timedelta(days=1)
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for v in sources.verdicts_between(session, EPOCH, end, project_id=project_id):
        row = counts[v.project_id]
        row[0] += 1
        row[1] += v.outcome == "accept"
        row[2] += v.outcome == "reject"
    gold: dict[int, list[float]] = defaultdict(list)
    for g in sources.gold_scores_between(session, EPOCH, end, project_id=project_id):
        gold[g.project_id].append(g.score)
    found: dict[int, dict[str, Any]] = {}
    for pid in set(counts) | set(gold):
        n, accepted, rejected = counts.get(pid, [0, 0, 0])
        scores = gold.get(pid, [])
        found[pid] = {
            "verdicts": n,
            "pass_rate": round(accepted / n, 4) if n else None,
            "rejection_rate": round(rejected / n, 4) if n else None,
            "gold_accuracy": round(sum(scores) / len(scores), 4) if scores else None,
        }
    return found


def labels_per_day(
    session: Session,
    *,
    days: int = DAYS,
    now: datetime | None = None,
    project_id: int | None = None,
) -> dict[str, list[Any]]:
    """Labels submitted per UTC day over the last `days` days (zeros included)."""
    now = now or utcnow()
    first = (now - timedelta(days=days - 1)).date()
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    key = _day_key(session.get_bind().dialect.name).label("day")
    query = (
        select(key, func.count())
        .where(Annotation.submitted_at >= start)
        .group_by(literal_column("day"))
    )
    if project_id is not None:
        query = query.where(Annotation.project_id == project_id)
    counts = {str(day): int(n) for day, n in session.execute(query).all() if day is not None}
    labels = [(first + timedelta(days=i)).isoformat() for i in range(days)]
    return {"days": labels, "labels": [counts.get(d, 0) for d in labels]}


def pay_by_period(
    session: Session,
    *,
    months: int = MONTHS,
    now: datetime | None = None,
    project_id: int | None = None,
) -> dict[str, Any]:
    """Earnings, top-ups and bonuses posted per pay period (minor units, per currency)."""
    periods = _months_back(now or utcnow(), months)
    query = (
        select(
            LedgerEntry.period, LedgerEntry.kind, LedgerEntry.currency, func.sum(LedgerEntry.amount)
        )
        .where(LedgerEntry.period.in_(periods))
        .group_by(LedgerEntry.period, LedgerEntry.kind, LedgerEntry.currency)
    )
    if project_id is not None:
        query = query.where(LedgerEntry.project_id == project_id)
    sums: dict[tuple[str, str], int] = {}
    currencies: set[str] = set()
    for period, kind, currency, total in session.execute(query).all():
        sums[(period, kind)] = sums.get((period, kind), 0) + int(total)
        currencies.add(currency)
    return {
        "periods": periods,
        "currency": sorted(currencies)[0] if len(currencies) == 1 else None,
        "earnings": [sums.get((p, "earning"), 0) for p in periods],
        "top_ups": [sums.get((p, "top_up"), 0) for p in periods],
        "bonuses": [sums.get((p, "bonus"), 0) for p in periods],
    }


def program_dashboard(
    session: Session, actor: Actor, *, now: datetime | None = None
) -> dict[str, Any]:
    """Everything the dashboard shows."""
    require_oversight(actor)
    projects = project_rows(session)
    kinds = dict(
        session.execute(select(Organization.kind, func.count()).group_by(Organization.kind)).all()
    )
    active_workers = session.execute(
        select(func.count(func.distinct(Annotation.worker_id))).where(
            Annotation.submitted_at >= (now or utcnow()) - timedelta(days=DAYS)
        )
    ).scalar_one()
    return {
        "as_of": now or utcnow(),
        "organizations": {k: int(v) for k, v in kinds.items()},
        "totals": {
            "projects": len(projects),
            "items": sum(p["items"] for p in projects),
            "complete": sum(p["complete"] for p in projects),
            "labels": sum(p["labels"] for p in projects),
            "active_workers": int(active_workers),
        },
        "projects": projects,
        "labels_per_day": labels_per_day(session, now=now),
        "pay": pay_by_period(session, now=now),
    }


def project_drilldown(
    session: Session, actor: Actor, project_id: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """One project's row, labels per day and pay per period (oversight only)."""
    from datadam.errors import NotFound

    require_oversight(actor)
    rows = project_rows(session, project_id=project_id)
    if not rows:
        raise NotFound(f"no project {project_id}", field="project_id")
    return {
        "as_of": now or utcnow(),
        "project": rows[0],
        "labels_per_day": labels_per_day(session, now=now, project_id=project_id),
        "pay": pay_by_period(session, now=now, project_id=project_id),
    }
