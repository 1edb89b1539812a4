"""Live quality metrics on a simulated crowd whose truth is known."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from quality_helpers import START, insert_answers, item_ids, simulate
from scipy.stats import spearmanr
from sqlalchemy import func, select

from datadam.aggregation.agreement import fleiss_kappa, krippendorff_alpha
from datadam.aggregation.answers import Answers
from datadam.domain.enums import Role
from datadam.quality import metrics, report
from datadam.quality.consensus import agreement, fit_control
from datadam.storage.tables import QualityCodes, QualitySnapshot


@pytest.fixture(autouse=True)
def _fresh_cache():
    metrics.clear_cache()
    report.clear_kept_reports()
    yield
    metrics.clear_cache()
    report.clear_kept_reports()


def test_live_metrics_rank_simulated_workers_and_cover_their_accuracy(world) -> None:  # type: ignore[no-untyped-def]
    project, vendor, accuracy, true_rate = simulate(world)
    result = metrics.refresh_metrics(world.db, project)
    assert result.new_annotations == 2000 * 3 + 100 * 30
    with world.db.read() as session:
        snapshot = metrics.latest_snapshot(session, project)
    assert snapshot is not None
    data = snapshot.metrics
    rows = {row["worker_id"]: row for row in data["workers"]}
    assert set(rows) == set(accuracy)
    workers = sorted(accuracy)
    skill_rho = spearmanr([rows[w]["skill"] for w in workers], [accuracy[w] for w in workers])[0]
    gold_rho = spearmanr(
        [rows[w]["gold"]["rate"] for w in workers], [accuracy[w] for w in workers]
    )[0]
    assert skill_rho >= 0.9, skill_rho
    assert gold_rho >= 0.9, gold_rho
    gold = data["project"]["gold"]
    assert gold["trials"] == 100 * 30
    assert gold["ci_low"] <= true_rate <= gold["ci_high"], (gold, true_rate)
    control = data["controls"][0]
    assert control["tasks"] == 2100 and control["answers"] == 9000
    assert 0.0 < control["fleiss_kappa"] < 1.0
    assert sum(control["class_counts"].values()) == 2100
    assert [v["vendor_id"] for v in data["vendors"]] == [vendor]
    assert data["vendors"][0]["workers"] == 30
    assert [d["day"] for d in data["daily"]] == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert sum(d["annotations"] for d in data["daily"]) == 9000
    assert sum(d["gold"]["trials"] for d in data["daily"]) == 3000


def test_refresh_reads_only_new_annotations_and_warm_starts(world) -> None:  # type: ignore[no-untyped-def]
    project, vendor, _accuracy, _rate = simulate(world, n_items=300, n_gold=20, n_workers=8)
    first = metrics.refresh_metrics(world.db, project)
    newcomer = world.person((vendor, Role.WORKER)).user_id
    later = START + timedelta(days=5)
    ids = item_ids(world.db, project)
    insert_answers(
        world.db, project, [(i, newcomer, {"sentiment": "neutral"}, later) for i in ids[:5]]
    )
    second = metrics.refresh_metrics(world.db, project)
    assert second.new_annotations == 5
    assert second.n_answers == first.n_answers + 5
    metrics.clear_cache()  # as in another server process: the chunks come from the database
    third = metrics.refresh_metrics(world.db, project)
    assert third.new_annotations == 0 and third.n_answers == second.n_answers
    with world.db.read() as session:
        chunks = session.execute(
            select(func.count()).select_from(QualityCodes).where(QualityCodes.project_id == project)
        ).scalar()
        snaps = (
            session.execute(
                select(QualitySnapshot.metrics)
                .where(QualitySnapshot.project_id == project)
                .order_by(QualitySnapshot.id)
            )
            .scalars()
            .all()
        )
        assert metrics.pending_annotations(session, project) == 0
    assert chunks == 2
    first_fit, second_fit = snaps[0]["controls"][0], snaps[1]["controls"][0]
    assert (first_fit["method"], second_fit["method"]) == ("ds", "ds-warm")
    assert second_fit["iterations"] < first_fit["iterations"]
    newcomer_row = next(w for w in snaps[1]["workers"] if w["worker_id"] == newcomer)
    assert newcomer_row["annotations"] == 5
    assert [d["day"] for d in snaps[1]["daily"]][-1] == "2026-11-25"
    full = metrics.refresh_metrics(world.db, project, full=True)
    assert full.new_annotations == first.new_annotations + 5


def test_agreement_matches_the_aggregation_package() -> None:
    rng = np.random.default_rng(3)
    answers = Answers.from_indices(
        rng.integers(0, 60, 500), rng.integers(0, 9, 500), rng.integers(0, 4, 500)
    )
    kappa, alpha = agreement(answers.vote_counts)
    assert kappa == pytest.approx(fleiss_kappa(answers), abs=1e-12)
    assert alpha == pytest.approx(krippendorff_alpha(answers), abs=1e-12)


def test_epochs_are_tasks_of_their_own_and_gold_fixes_their_truth() -> None:
    item = np.array([1, 1, 1, 1, 2, 2], dtype=np.int64)
    sub = np.array([0, 1, 0, 1, 0, 0], dtype=np.int32)
    worker = np.array([5, 5, 6, 6, 5, 6], dtype=np.int64)
    label = np.array([0, 1, 0, 2, 1, 1], dtype=np.int16)
    gold = (np.array([1]), np.array([1], dtype=np.int32), np.array([2]))
    fit = fit_control(item, sub, worker, label, 3, gold=gold)
    assert list(zip(fit.task_items.tolist(), fit.task_subs.tolist(), strict=True)) == [
        (1, 0),
        (1, 1),
        (2, 0),
    ]
    assert fit.labels.tolist() == [0, 2, 1]
    assert fit.confidence[1] == pytest.approx(1.0)


def test_refresh_command_refreshes_projects_with_a_batch_of_new_work(world, database_url) -> None:  # type: ignore[no-untyped-def]
    import json
    import os
    import subprocess
    import sys

    project, _vendor, _accuracy, _rate = simulate(world, n_items=40, n_gold=5, n_workers=4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATADAM_")}
    env.update(
        DATADAM_DATA_DIR=str(world.settings.data_dir),
        DATADAM_DATABASE_URL=database_url,
        DATADAM_ENV="test",
        DATADAM_PASSWORD_PROFILE="cheapest",
    )

    def refresh(*args: str) -> list[dict]:
        done = subprocess.run(
            [sys.executable, "-m", "datadam.cli.main", "quality-refresh", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines()]

    assert refresh("--batch", "1000") == []  # 140 new annotations: not a batch yet
    first = refresh("--batch", "100")
    assert [(r["project_id"], r["new_annotations"]) for r in first] == [(project, 140)]
    with world.db.read() as session:
        assert metrics.pending_annotations(session, project) == 0


def test_coding_reads_choices_and_epochs_and_skips_what_is_not_a_label() -> None:
    import json
    from datetime import UTC, datetime

    from datadam.quality.coding import categorical_controls, code_rows, day_text
    from datadam.schema import example_schema

    schema = {
        "version": 1,
        "controls": [
            {"name": "mood", "type": "choice", "labels": ["a", "b"]},
            {"name": "note", "type": "text"},
            {**example_schema("sleep_staging")["controls"][0], "name": "stages"},
        ],
    }
    controls = categorical_controls(schema)
    assert [(c.index, c.name, c.kind) for c in controls] == [
        (0, "mood", "choice"),
        (1, "stages", "epochs"),
    ]
    stage_labels = controls[1].labels
    rows = [
        (
            10,
            7,
            json.dumps({"mood": "b", "stages": [stage_labels[0], None, stage_labels[1]]}),
            "2026-11-20 23:59:59.000001",
        ),
        (11, 8, {"mood": "zzz", "stages": "not a list"}, datetime(2026, 11, 21, 0, 0, tzinfo=UTC)),
        (12, 8, "not json", "2026-11-22 01:00:00.000000"),
    ]
    codes = code_rows(rows, controls)
    assert codes["ctl"].tolist() == [0, 1, 1]
    assert codes["item"].tolist() == [10, 10, 10]
    assert codes["sub"].tolist() == [0, 0, 2]
    assert codes["label"].tolist() == [1, 0, 1]
    assert codes["a_worker"].tolist() == [7, 8, 8]  # every annotation counts as work
    assert [day_text(d) for d in codes["a_day"]] == ["2026-11-20", "2026-11-21", "2026-11-22"]


def test_readers_never_write_the_snapshot_they_compute(world) -> None:  # type: ignore[no-untyped-def]
    project, _vendor, _accuracy, _rate = simulate(world, n_items=60, n_gold=6, n_workers=5)
    shown = metrics.current_snapshot(world.db, project)
    assert shown.metrics["project"]["annotations"] == 60 * 3 + 6 * 5
    with world.db.read() as session:
        for table in (QualitySnapshot, QualityCodes):
            assert session.execute(select(func.count()).select_from(table)).scalar() == 0
    stored = metrics.refresh_metrics(world.db, project)
    again = metrics.current_snapshot(world.db, project)
    with world.db.read() as session:
        latest = metrics.latest_snapshot(session, project)
    assert latest is not None and again == latest  # the stored one, not a recomputation
    assert again.n_answers == stored.n_answers
