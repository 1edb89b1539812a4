"""Live quality metrics of a project: computed after each batch of submissions, stored as a
snapshot, read cheaply by pages and the API.

`refresh_metrics` is incremental. Categorical answers are kept integer-coded in append-only
chunks (`quality_codes`); a refresh reads and codes only the annotations newer than the last
chunk, appends them, and refits the consensus warm-started from the previous snapshot's
worker confusions (see `consensus.py`). Everything else is array arithmetic on the codes
(`np.bincount` by worker, vendor and day) plus three small grouped queries (gold results,
inspection verdicts, vendor memberships). The arrays of the chunks already read are also
kept in this process, so a refresh in the same process reads only the new chunk.

What the snapshot holds (`metrics`, JSON):

* `controls`: per categorical control, the consensus method, tasks, answers, Fleiss' kappa,
  Krippendorff's alpha, mean confidence, tasks under 0.7 confidence, consensus class counts;
* `project`, `vendors[]`, `workers[]`: annotations, answers, skill (Dawid–Skene probability of
  a correct answer, answer-weighted over controls), agreement with the consensus, gold
  accuracy (from `gold_result`, Wilson 95% interval), inspection pass rate (share of judged
  annotations accepted as they were; a correction or a rejection is not a pass);
* `daily`: per UTC day, annotations, agreement with the (current) consensus, gold and
  inspection counts: the trends.

Workers are stored by user id; whoever shows them converts to the per-project pseudonym.
Corrections made after an annotation was coded are not seen until a `full` refresh.
"""

from __future__ import annotations

import io
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from datadam.errors import NotFound
from datadam.quality import consensus
from datadam.quality.coding import (
    CategoricalControl,
    categorical_controls,
    code_rows,
    concat_codes,
    day_number,
    day_text,
    empty_codes,
    gold_codes,
)
from datadam.quality.stats import rate
from datadam.storage.db import Database
from datadam.storage.tables import (
    Annotation,
    GoldAnswer,
    GoldResult,
    InspectionVerdict,
    Membership,
    Organization,
    Project,
    ProjectAccess,
    QualityCodes,
    QualitySnapshot,
)
from datadam.storage.types import utcnow

BATCH = 1000  # a refresh is due once this many annotations arrived since the last one
LOW_CONFIDENCE = 0.7
MAX_CHUNKS = 64  # more chunks than this are merged into one
KEEP_SNAPSHOTS = 50
_READ_ROWS = 20_000

Codes = dict[str, npt.NDArray[Any]]
# (db, project) -> (chunks, last id, codes); the most recently used projects only
_cache: OrderedDict[tuple[str, int], tuple[int, int, Codes]] = OrderedDict()
_cache_lock = threading.Lock()
CACHED_PROJECTS = 8


@dataclass(frozen=True)
class RefreshResult:
    snapshot_id: int
    new_annotations: int
    n_answers: int
    seconds: float
    cpu_seconds: float
    timings: dict[str, float]


# ---------------------------------------------------------------- coded answers


def _pack(codes: Codes) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **codes)
    return buffer.getvalue()


def _unpack(blob: bytes) -> Codes:
    with np.load(io.BytesIO(blob)) as data:
        return {name: data[name] for name in data.files}


def _db_key(session: Session, project_id: int) -> tuple[str, int]:
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    return url, project_id


def _load_codes(session: Session, project_id: int) -> tuple[int, int, Codes]:
    """(number of chunks, last coded annotation id, all coded answers) of the project."""
    key = _db_key(session, project_id)
    chunks = session.execute(
        select(QualityCodes.chunk, QualityCodes.last_annotation_id)
        .where(QualityCodes.project_id == project_id)
        .order_by(QualityCodes.chunk)
    ).all()
    with _cache_lock:
        cached = _cache.get(key)
    have, parts = 0, []
    if cached is not None and cached[0] <= len(chunks):
        n_cached = cached[0]
        if n_cached == 0 or chunks[n_cached - 1].last_annotation_id == cached[1]:
            have, parts = n_cached, [cached[2]]
    for (blob,) in session.execute(
        select(QualityCodes.data)
        .where(QualityCodes.project_id == project_id, QualityCodes.chunk >= have)
        .order_by(QualityCodes.chunk)
    ):
        parts.append(_unpack(blob))
    last = chunks[-1].last_annotation_id if chunks else 0
    return len(chunks), last, concat_codes(parts) if parts else empty_codes()


def _read_new(
    session: Session, project_id: int, after: int, controls: list[CategoricalControl]
) -> tuple[Codes, int, int]:
    """Code the project's annotations with id > `after`: (codes, count, highest id)."""
    parts, count, last = [], 0, after
    while True:
        rows = session.execute(
            text(
                # `+project_id`: walk the primary key from the high-water mark rather than
                # the project's whole (project_id, item_id) index
                "SELECT id, item_id, worker_id, result, submitted_at FROM annotation "
                "WHERE +project_id = :p AND id > :a ORDER BY id LIMIT :n"
            ),
            {"p": project_id, "a": last, "n": _READ_ROWS},
        ).all()
        if not rows:
            break
        parts.append(code_rows(((r[1], r[2], r[3], r[4]) for r in rows), controls))
        count += len(rows)
        last = rows[-1][0]
        if len(rows) < _READ_ROWS:
            break
    return concat_codes(parts), count, last


def _store_codes(
    session: Session, project_id: int, n_chunks: int, codes: Codes, new: Codes, last: int
) -> int:
    """Append `new` as a chunk (or merge every chunk into one when there are too many)."""
    if n_chunks + 1 > MAX_CHUNKS:
        session.execute(delete(QualityCodes).where(QualityCodes.project_id == project_id))
        session.add(
            QualityCodes(
                project_id=project_id,
                chunk=0,
                last_annotation_id=last,
                n_rows=int(codes["a_worker"].size),
                data=_pack(codes),
            )
        )
        return 1
    session.add(
        QualityCodes(
            project_id=project_id,
            chunk=n_chunks,
            last_annotation_id=last,
            n_rows=int(new["a_worker"].size),
            data=_pack(new),
        )
    )
    return n_chunks + 1


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# ---------------------------------------------------------------- small grouped queries


def gold_labels(
    session: Session, project_id: int, controls: list[CategoricalControl]
) -> dict[int, tuple[Any, Any, Any]]:
    rows = session.execute(
        select(GoldAnswer.item_id, GoldAnswer.answer).where(
            GoldAnswer.project_id == project_id, GoldAnswer.purpose == "gold"
        )
    ).all()
    if not rows:
        return {}
    pairs = [(item_id, answer) for item_id, answer in rows]
    return {c.index: gold_codes(pairs, c) for c in controls}


def _gold_counts(session: Session, project_id: int) -> list[tuple[int, int, int, int]]:
    """(worker, day, correct, total) from the scored gold answers."""
    rows = session.execute(
        select(GoldResult.worker_id, GoldResult.at, GoldResult.correct).where(
            GoldResult.project_id == project_id
        )
    ).all()
    counts: dict[tuple[int, int], list[int]] = {}
    for worker, at, correct in rows:
        entry = counts.setdefault((worker, day_number(at)), [0, 0])
        entry[0] += int(bool(correct))
        entry[1] += 1
    return [(w, d, c, t) for (w, d), (c, t) in counts.items()]


def _inspection_counts(session: Session, project_id: int) -> list[tuple[int, int, str, int]]:
    """(worker, day, outcome, count) of inspection verdicts."""
    rows = session.execute(
        select(InspectionVerdict.worker_id, InspectionVerdict.at, InspectionVerdict.outcome).where(
            InspectionVerdict.project_id == project_id
        )
    ).all()
    counts: dict[tuple[int, int, str], int] = {}
    for worker, at, outcome in rows:
        key = (worker, day_number(at), outcome)
        counts[key] = counts.get(key, 0) + 1
    return [(w, d, o, n) for (w, d, o), n in counts.items()]


def worker_vendors(session: Session, project: Project, worker_ids: list[int]) -> dict[int, int]:
    """Each worker's organisation on this project: a granted vendor they belong to (the
    lowest id if several), else the owner institution (in-house work)."""
    if not worker_ids:
        return {}
    granted = select(ProjectAccess.organization_id).where(ProjectAccess.project_id == project.id)
    rows = session.execute(
        select(Membership.user_id, func.min(Membership.organization_id))
        .where(Membership.user_id.in_(worker_ids), Membership.organization_id.in_(granted))
        .group_by(Membership.user_id)
    ).all()
    found = {user_id: org_id for user_id, org_id in rows}
    return {w: found.get(w, project.owner_org_id) for w in worker_ids}


# ---------------------------------------------------------------- the snapshot


def _f(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def _state_blob(fits: dict[int, consensus.ControlFit]) -> bytes:
    arrays: dict[str, npt.NDArray[Any]] = {}
    for index, fit in fits.items():
        arrays[f"w{index}"] = fit.worker_ids
        arrays[f"c{index}"] = fit.confusion
        arrays[f"p{index}"] = fit.prior
    return _pack(arrays)


def _warm_states(blob: bytes | None) -> dict[int, consensus.WarmStart]:
    if not blob:
        return {}
    arrays = _unpack(blob)
    out = {}
    for name in arrays:
        if name.startswith("w"):
            index = int(name[1:])
            out[index] = consensus.WarmStart(arrays[name], arrays[f"c{index}"], arrays[f"p{index}"])
    return out


def fit_controls(
    codes: Codes,
    controls: list[CategoricalControl],
    gold: dict[int, tuple[Any, Any, Any]],
    warm: dict[int, consensus.WarmStart],
) -> dict[int, consensus.ControlFit]:
    """The consensus of every categorical control that has answers."""
    fits = {}
    for control in controls:
        mask = codes["ctl"] == control.index
        if not mask.any():
            continue
        if mask.all():  # the common single-control project: no copies
            item, sub, worker, label = (codes[n] for n in ("item", "sub", "worker", "label"))
        else:
            item, sub, worker, label = (codes[n][mask] for n in ("item", "sub", "worker", "label"))
        fits[control.index] = consensus.fit_control(
            item,
            sub,
            worker,
            label,
            len(control.labels),
            gold=gold.get(control.index),
            warm=warm.get(control.index),
        )
    return fits


def build_metrics(
    codes: Codes,
    controls: list[CategoricalControl],
    fits: dict[int, consensus.ControlFit],
    *,
    vendors: dict[int, int],
    vendor_names: dict[int, str],
    gold_counts: list[tuple[int, int, int, int]],
    inspection_counts: list[tuple[int, int, str, int]],
) -> dict[str, Any]:
    """The snapshot's JSON from the codes, the fits and the grouped counts (pure)."""
    a_worker, a_day = codes["a_worker"], codes["a_day"]
    workers = sorted(
        set(consensus.dense_index(a_worker)[0].tolist())
        | {g[0] for g in gold_counts}
        | {v[0] for v in inspection_counts}
    )
    w_index = {w: i for i, w in enumerate(workers)}
    n_w = len(workers)
    worker_arr = np.asarray(workers, dtype=np.int64)

    def by_worker(ids: npt.NDArray[np.int64], weights: Any = None) -> npt.NDArray[np.float64]:
        if ids.size == 0 or n_w == 0:
            return np.zeros(n_w)
        pos = np.searchsorted(worker_arr, ids)
        return np.bincount(pos, weights=weights, minlength=n_w).astype(np.float64)

    annotations = by_worker(a_worker)
    answers = np.zeros(n_w)
    agree = np.zeros(n_w)
    skill_sum = np.zeros(n_w)
    days = sorted(
        set(consensus.dense_index(a_day)[0].tolist())
        | {g[1] for g in gold_counts}
        | {v[1] for v in inspection_counts}
    )
    d_index = {d: i for i, d in enumerate(days)}
    n_d = len(days)
    day_arr = np.asarray(days, dtype=np.int64)
    day_annotations = (
        np.bincount(np.searchsorted(day_arr, a_day), minlength=n_d) if n_d else np.zeros(0)
    )
    day_answers = np.zeros(n_d)
    day_agree = np.zeros(n_d)
    control_rows = []
    for control in controls:
        fit = fits.get(control.index)
        if fit is None:
            continue
        mask = codes["ctl"] == control.index
        ok = fit.answer_agrees
        w_ids = fit.worker_ids[fit.answers.worker_idx]
        answers += by_worker(w_ids)
        agree += by_worker(w_ids, ok)
        counts = fit.answers.worker_counts
        skill_sum += by_worker(fit.worker_ids, fit.worker_skill * counts)
        d_pos = np.searchsorted(day_arr, codes["day"][mask]) if n_d else None
        # the fit's answers are in the codes' row order (no re-sorting), so days line up
        if d_pos is not None:
            day_answers += np.bincount(d_pos, minlength=n_d)
            day_agree += np.bincount(d_pos, weights=ok, minlength=n_d)
        class_counts = np.bincount(fit.labels, minlength=len(control.labels))
        control_rows.append(
            {
                "name": control.name,
                "type": control.kind,
                "labels": list(control.labels),
                "method": "ds-warm" if fit.warm else "ds",
                "iterations": fit.iterations,
                "tasks": int(fit.labels.size),
                "answers": int(fit.answers.n_answers),
                "fleiss_kappa": _f(fit.fleiss_kappa),
                "krippendorff_alpha": _f(fit.krippendorff_alpha),
                "agreement_with_consensus": _f(ok.mean()) if ok.size else None,
                "mean_confidence": _f(fit.confidence.mean()) if fit.confidence.size else None,
                "low_confidence_tasks": int((fit.confidence < LOW_CONFIDENCE).sum()),
                "class_counts": {
                    label: int(n) for label, n in zip(control.labels, class_counts, strict=True)
                },
            }
        )
    gold_c, gold_t = np.zeros(n_w, np.int64), np.zeros(n_w, np.int64)
    day_gold_c, day_gold_t = np.zeros(n_d, np.int64), np.zeros(n_d, np.int64)
    for worker, day, correct, total in gold_counts:
        gold_c[w_index[worker]] += correct
        gold_t[w_index[worker]] += total
        day_gold_c[d_index[day]] += correct
        day_gold_t[d_index[day]] += total
    outcomes = ("accept", "reject", "correct")
    insp = {o: np.zeros(n_w, np.int64) for o in outcomes}
    day_insp = {o: np.zeros(n_d, np.int64) for o in outcomes}
    for worker, day, outcome, n in inspection_counts:
        if outcome in insp:
            insp[outcome][w_index[worker]] += n
            day_insp[outcome][d_index[day]] += n

    def group(idx: npt.NDArray[np.bool_] | slice) -> dict[str, Any]:
        n_answers = float(answers[idx].sum())
        judged = int(sum(insp[o][idx].sum() for o in outcomes))
        return {
            "annotations": int(annotations[idx].sum()),
            "answers": int(n_answers),
            "skill": _f(skill_sum[idx].sum() / n_answers) if n_answers else None,
            "agreement_with_consensus": _f(agree[idx].sum() / n_answers) if n_answers else None,
            "gold": rate(int(gold_c[idx].sum()), int(gold_t[idx].sum())),
            "inspection": {
                **rate(int(insp["accept"][idx].sum()), judged),
                "accepted": int(insp["accept"][idx].sum()),
                "rejected": int(insp["reject"][idx].sum()),
                "corrected": int(insp["correct"][idx].sum()),
            },
        }

    worker_rows = []
    for i, worker in enumerate(workers):
        row = group(np.arange(n_w) == i)
        worker_rows.append({"worker_id": worker, "vendor_id": vendors.get(worker), **row})
    vendor_rows = []
    vendor_of = np.asarray([vendors.get(w, -1) for w in workers], dtype=np.int64)
    for vendor_id in sorted(set(vendor_of.tolist())):
        members = vendor_of == vendor_id
        vendor_rows.append(
            {
                "vendor_id": vendor_id,
                "name": vendor_names.get(vendor_id, ""),
                "workers": int(members.sum()),
                **group(members),
            }
        )
    daily = []
    for i, day in enumerate(days):
        judged = int(sum(day_insp[o][i] for o in outcomes))
        daily.append(
            {
                "day": day_text(day),
                "annotations": int(day_annotations[i]),
                "agreement_with_consensus": _f(day_agree[i] / day_answers[i])
                if day_answers[i]
                else None,
                "gold": rate(int(day_gold_c[i]), int(day_gold_t[i])),
                "inspection": rate(int(day_insp["accept"][i]), judged),
            }
        )
    return {
        "version": 1,
        "controls": control_rows,
        "project": {"workers": n_w, **group(slice(None))},
        "vendors": vendor_rows,
        "workers": worker_rows,
        "daily": daily,
    }


def update_codes(
    session: Session,
    project_id: int,
    controls: list[CategoricalControl],
    *,
    full: bool = False,
    store: bool = True,
) -> tuple[Codes, int, int, dict[str, float]]:
    """Code the annotations not yet coded and append them as a chunk: (all codes, how many
    annotations were new, the last coded id, timings). `full` drops the chunks first;
    `store=False` codes the new annotations in memory only (for readers: nothing is written)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    key = _db_key(session, project_id)
    if full:
        session.execute(delete(QualityCodes).where(QualityCodes.project_id == project_id))
        session.flush()
        with _cache_lock:
            _cache.pop(key, None)
    n_chunks, last, codes = _load_codes(session, project_id)
    timings["load_codes"] = round(time.perf_counter() - started, 4)
    t = time.perf_counter()
    new, n_new, new_last = _read_new(session, project_id, last, controls)
    timings["read_new"] = round(time.perf_counter() - t, 4)
    t = time.perf_counter()
    if not store:
        codes = concat_codes([codes, new]) if n_new and codes["a_worker"].size else codes
        return (new if n_new and not codes["a_worker"].size else codes), n_new, new_last, timings
    if n_new:
        codes = concat_codes([codes, new]) if codes["a_worker"].size else new
        n_chunks = _store_codes(session, project_id, n_chunks, codes, new, new_last)
        last = new_last
    with _cache_lock:
        _cache[key] = (n_chunks, last, codes)
        _cache.move_to_end(key)
        while len(_cache) > CACHED_PROJECTS:
            _cache.popitem(last=False)
    timings["store_codes"] = round(time.perf_counter() - t, 4)
    return codes, n_new, last, timings


def latest_state(session: Session, project_id: int) -> dict[int, consensus.WarmStart]:
    """The warm start stored with the latest snapshot (empty when there is none)."""
    blob = session.execute(
        select(QualitySnapshot.state)
        .where(QualitySnapshot.project_id == project_id)
        .order_by(QualitySnapshot.id.desc())
        .limit(1)
    ).scalar()
    return _warm_states(blob)


def _compute(
    session: Session, project: Project, *, full: bool, store: bool
) -> tuple[dict[str, Any], dict[int, consensus.ControlFit], int, int, dict[str, float]]:
    """(metrics JSON, fits, new annotations, last coded id, timings) of the project now."""
    controls = categorical_controls(project.schema)
    codes, n_new, last, timings = update_codes(
        session, project.id, controls, full=full, store=store
    )
    t = time.perf_counter()
    warm = {} if full else latest_state(session, project.id)
    fits = fit_controls(codes, controls, gold_labels(session, project.id, controls), warm)
    timings["fit"] = round(time.perf_counter() - t, 4)
    t = time.perf_counter()
    workers = consensus.dense_index(codes["a_worker"])[0].tolist()
    gold_counts = _gold_counts(session, project.id)
    inspection_counts = _inspection_counts(session, project.id)
    everyone = sorted(
        set(workers) | {g[0] for g in gold_counts} | {v[0] for v in inspection_counts}
    )
    vendors = worker_vendors(session, project, everyone)
    names = dict(
        session.execute(
            select(Organization.id, Organization.name).where(
                Organization.id.in_(set(vendors.values()) or {-1})
            )
        ).all()
    )
    timings["queries"] = round(time.perf_counter() - t, 4)
    t = time.perf_counter()
    data = build_metrics(
        codes,
        controls,
        fits,
        vendors=vendors,
        vendor_names=names,
        gold_counts=gold_counts,
        inspection_counts=inspection_counts,
    )
    timings["summaries"] = round(time.perf_counter() - t, 4)
    return data, fits, n_new, last, timings


def refresh_metrics(db: Database, project_id: int, *, full: bool = False) -> RefreshResult:
    """Code the new annotations, refit, and store a snapshot; `full` rebuilds the codes and
    fits cold (after a schema change or corrections)."""
    started, cpu = time.perf_counter(), time.process_time()
    with db.write() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound(f"no project {project_id}", field="project_id")
        data, fits, n_new, last, timings = _compute(session, project, full=full, store=True)
        t = time.perf_counter()
        snapshot = QualitySnapshot(
            project_id=project_id,
            computed_at=utcnow(),
            n_answers=int(sum(f.answers.n_answers for f in fits.values())),
            last_annotation_id=last,
            seconds=round(time.perf_counter() - started, 4),
            metrics=data,
            state=_state_blob(fits),
        )
        session.add(snapshot)
        session.flush()
        _prune_snapshots(session, project_id)
        timings["store_snapshot"] = round(time.perf_counter() - t, 4)
        return RefreshResult(
            snapshot.id,
            n_new,
            snapshot.n_answers,
            time.perf_counter() - started,
            time.process_time() - cpu,
            timings,
        )


def _prune_snapshots(session: Session, project_id: int) -> None:
    keep = select(QualitySnapshot.id).where(QualitySnapshot.project_id == project_id)
    ids = session.execute(keep.order_by(QualitySnapshot.id.desc()).offset(KEEP_SNAPSHOTS)).scalars()
    old = list(ids)
    if old:
        session.execute(delete(QualitySnapshot).where(QualitySnapshot.id.in_(old)))


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class Snapshot:
    project_id: int
    computed_at: datetime
    n_answers: int
    seconds: float
    metrics: dict[str, Any]


def latest_snapshot(session: Session, project_id: int) -> Snapshot | None:
    row = session.execute(
        select(
            QualitySnapshot.project_id,
            QualitySnapshot.computed_at,
            QualitySnapshot.n_answers,
            QualitySnapshot.seconds,
            QualitySnapshot.metrics,
        )
        .where(QualitySnapshot.project_id == project_id)
        .order_by(QualitySnapshot.id.desc())
        .limit(1)
    ).first()
    return Snapshot(*row) if row else None


def pending_annotations(session: Session, project_id: int) -> int:
    """Annotations submitted since the last refresh coded them."""
    last = session.execute(
        select(func.max(QualityCodes.last_annotation_id)).where(
            QualityCodes.project_id == project_id
        )
    ).scalar()
    return int(
        session.execute(
            select(func.count())
            .select_from(Annotation)
            .where(Annotation.project_id == project_id, Annotation.id > (last or 0))
        ).scalar()
        or 0
    )


def current_snapshot(db: Database, project_id: int, *, batch: int = BATCH) -> Snapshot:
    """What pages and the API show: the latest stored snapshot, or, when there is none or a
    batch of new work is not in it yet, the metrics computed now without storing anything
    (reads never write; `refresh_metrics` and `datadam quality-refresh` store snapshots)."""
    with db.read() as session:
        stored = latest_snapshot(session, project_id)
        if stored is not None and pending_annotations(session, project_id) < batch:
            return stored
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound(f"no project {project_id}", field="project_id")
        started = time.perf_counter()
        data, fits, _n, _last, _t = _compute(session, project, full=False, store=False)
        return Snapshot(
            project_id,
            utcnow(),
            int(sum(f.answers.n_answers for f in fits.values())),
            round(time.perf_counter() - started, 4),
            data,
        )


def refresh_if_due(db: Database, project_id: int, *, batch: int = BATCH) -> RefreshResult | None:
    """Refresh when there is no snapshot yet or `batch` annotations arrived since the last."""
    with db.read() as session:
        has_snapshot = latest_snapshot(session, project_id) is not None
        pending = pending_annotations(session, project_id)
    if has_snapshot and pending < batch:
        return None
    return refresh_metrics(db, project_id)


def projects_due(db: Database, *, batch: int = BATCH) -> list[int]:
    """Active projects with at least `batch` annotations not yet in a snapshot."""
    with db.read() as session:
        ids = session.execute(select(Project.id).where(Project.status == "active")).scalars()
        return [p for p in ids if pending_annotations(session, p) >= batch]
