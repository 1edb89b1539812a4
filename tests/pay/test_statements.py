"""A worker's statement: earnings by day and project, hours, effective wage, CSV and PDF."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from datadam.pay.keys import load_or_create_platform_key
from datadam.pay.period import close_period
from datadam.pay.rates import set_project_pay
from datadam.pay.statements import build_statement, statement_csv, statement_pdf
from datadam.pay.worktime import record_worked_time
from tests.factories import labeling_team
from tests.pay.helpers import AFTER_PERIOD, PERIOD, WORK_START, do_item

MINIMUM_2026 = 10_320


def _team_with_work(world, db):  # type: ignore[no-untyped-def]
    _inst, _vendor, manager, crew, project = labeling_team(world, workers=2, items=6)
    worker = world.actor(crew[0])
    with db.write() as session:
        set_project_pay(
            session,
            world.actor(manager),
            project,
            piece_rate_minor=100,
            hourly_rate_minor=0,
            now=WORK_START - timedelta(days=1),
        )
    do_item(db, worker, project, start=WORK_START, seconds=600)
    do_item(db, worker, project, start=WORK_START + timedelta(days=1), seconds=1200)
    do_item(db, world.actor(crew[1]), project, start=WORK_START, seconds=60)
    with db.write() as session:
        record_worked_time(
            session,
            worker_id=worker.user_id,
            project_id=project,
            source="training",
            duration=timedelta(minutes=30),
            work_ref="training:1",
            now=WORK_START + timedelta(days=1, hours=2),
        )
    return worker, project


def test_open_statement_shows_pending_pay_below_the_minimum(world, db) -> None:  # type: ignore[no-untyped-def]
    worker, _project = _team_with_work(world, db)
    with db.read() as session:
        statement = build_statement(session, worker, PERIOD, now=AFTER_PERIOD)
    assert not statement.closed
    assert [line.status for line in statement.lines] == ["pending"] * 3
    assert statement.paid_seconds == 600 + 1200 + 1800  # only this worker's work
    assert statement.hours_by_type == {"labeling": 1800, "training": 1800}
    assert statement.earnings_minor == 200
    assert statement.effective_hourly_minor == 200  # 200 won in exactly one hour
    assert statement.minimum_hourly_minor == MINIMUM_2026 and statement.below_minimum
    assert [(b.key, b.amount_minor, b.items) for b in statement.by_day] == [
        ("2026-10-05", 100, 1),
        ("2026-10-06", 100, 1),
    ]
    assert [(b.amount_minor, b.seconds) for b in statement.by_project] == [(200, 3600)]


def test_closed_statement_has_the_ledger_amounts_and_the_top_up(world, db, settings) -> None:  # type: ignore[no-untyped-def]
    worker, _project = _team_with_work(world, db)
    key = load_or_create_platform_key(settings.data_dir)
    with db.write() as session:
        close_period(session, key, PERIOD, now=AFTER_PERIOD)
    with db.read() as session:
        statement = build_statement(session, worker, PERIOD, now=AFTER_PERIOD)
    assert statement.closed
    assert {line.status for line in statement.lines} == {"posted"}
    assert statement.top_up_minor == MINIMUM_2026 - 200
    assert statement.effective_after_top_up_minor == MINIMUM_2026
    rows = list(csv.reader(io.StringIO(statement_csv(statement))))
    assert rows[0][:3] == ["date", "project", "task_type"]
    totals = {r[0]: r[1] for r in rows if len(r) == 2}
    assert totals["earnings_minor"] == "200"
    assert totals["top_up_minor"] == str(MINIMUM_2026 - 200)
    assert totals["hours"] == "1.00" and totals["closed"] == "yes"


def test_pdf_is_a_pdf_with_or_without_the_korean_font(world, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    worker, _project = _team_with_work(world, db)
    with db.read() as session:
        statement = build_statement(session, worker, PERIOD, now=AFTER_PERIOD)
    plain = statement_pdf(statement, font=tmp_path / "missing.ttc")
    assert plain.startswith(b"%PDF-") and b"%%EOF" in plain[-32:]
    assert worker.pseudonym.encode() in plain or b"/Title" in plain


def test_csv_cells_never_start_a_formula(world, db) -> None:  # type: ignore[no-untyped-def]
    worker, project = _team_with_work(world, db)
    from datadam.storage.tables import Project

    with db.write() as session:
        session.get(Project, project).name = "=HYPERLINK(1)"
    with db.read() as session:
        text = statement_csv(build_statement(session, worker, PERIOD, now=AFTER_PERIOD))
    assert "\n2026-10-05,'=HYPERLINK(1)," in text


def test_pdf_embeds_the_korean_font_for_korean_project_names(world, db) -> None:  # type: ignore[no-untyped-def]
    from datadam.pay.statements import CJK_FONT
    from datadam.storage.tables import Project

    assert CJK_FONT.exists(), "apt-get install fonts-noto-cjk (.ci/run does this)"
    worker, project = _team_with_work(world, db)
    with db.write() as session:
        session.get(Project, project).name = "감정 분류"
    with db.read() as session:
        statement = build_statement(session, worker, PERIOD, now=AFTER_PERIOD)
    korean = statement_pdf(statement)
    plain = statement_pdf(statement, font=None)
    assert korean.startswith(b"%PDF-") and b"NotoSansCJK" in korean
    assert b"NotoSansCJK" not in plain and b"/BaseFont /Helvetica" in plain
