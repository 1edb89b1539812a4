"""Server-rendered gold pages: the worker's start page shows the pause and the test, forms
post appeals and serve practice questions, the manager's quality page saves settings and
answers appeals."""

from __future__ import annotations

import json

from sqlalchemy import select

from datadam.storage.tables import Event, WorkerPause
from tests.gold.helpers import add_known_items, gold_team, work_through
from tests.security.support import session_headers


def _form(headers: dict[str, str], **fields: str) -> dict[str, str]:
    return {"csrf_token": headers["X-CSRF-Token"], **fields}


def test_paused_worker_sees_why_appeals_and_manager_reinstates(client, world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(
        world, items=30, gold_items=10, gold_rate=0.5, min_gold_answers=4, pause_threshold=0.75
    )
    worker = team.crew[0]
    try:
        work_through(team, worker, lambda payload: "neutral")
    except Exception as exc:  # noqa: BLE001 - the pause ends the loop
        assert getattr(exc, "code", None) == "worker_paused"
    headers = session_headers(world.db, worker)
    page = client.get(f"/work/projects/{team.project}", headers=headers)
    assert page.status_code == 200
    assert 'id="pause-notice"' in page.text and "75%" in page.text
    assert f'action="/work/projects/{team.project}/start"' not in page.text
    start = client.post(
        f"/work/projects/{team.project}/start",
        headers=headers,
        data=_form(headers),
        follow_redirects=False,
    )
    assert start.status_code == 303 and start.headers["location"].endswith(f"/{team.project}")
    sent = client.post(
        f"/work/projects/{team.project}/appeal",
        headers=headers,
        data=_form(headers, text="Please look again"),
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert 'id="appeal-sent"' in client.get(sent.headers["location"], headers=headers).text

    boss = session_headers(world.db, team.manager)
    quality = client.get(f"/manage/projects/{team.project}/quality", headers=boss)
    assert quality.status_code == 200 and "Please look again" in quality.text
    with world.db.read() as session:
        pause_id = session.execute(select(WorkerPause.id)).scalar_one()
    done = client.post(
        f"/manage/projects/{team.project}/pauses/{pause_id}/resolve",
        headers=boss,
        data=_form(boss, decision="reinstate", note="ok"),
        follow_redirects=False,
    )
    assert done.status_code == 303
    with world.db.read() as session:
        assert session.get(WorkerPause, pause_id).status == "reinstated"
    assert (
        client.get(f"/manage/projects/{team.project}/quality", headers=headers).status_code == 404
    )


def test_settings_form_saves_and_refuses_bad_values(client, world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(world, items=1)
    boss = session_headers(world.db, team.manager)
    saved = client.post(
        f"/manage/projects/{team.project}/quality",
        headers=boss,
        data=_form(boss, gold_rate="0.2", pause_threshold="0.6", qualification_required="on"),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    bad = client.post(
        f"/manage/projects/{team.project}/quality",
        headers=boss,
        data=_form(boss, gold_rate="0.9"),
    )
    assert bad.status_code == 422 and 'id="quality-problem"' in bad.text
    with world.db.read() as session:
        actions = list(session.execute(select(Event.action)).scalars())
    assert actions.count("quality.settings") == 1


def test_practice_form_opens_a_question_page(client, world) -> None:  # type: ignore[no-untyped-def]
    team = gold_team(world, items=1, qualification_required=True)
    add_known_items(world, team.project, team.manager, 2, purpose="qualification")
    worker = team.crew[0]
    headers = session_headers(world.db, worker)
    start = client.get(f"/work/projects/{team.project}", headers=headers).text
    assert 'id="qualification-needed"' in start and 'id="take-test"' in start
    opened = client.post(
        f"/work/projects/{team.project}/practice",
        headers=headers,
        data=_form(headers, purpose="qualification"),
        follow_redirects=False,
    )
    assert opened.status_code == 303
    question = client.get(opened.headers["location"], headers=headers)
    assert question.status_code == 200
    raw = question.text.split('id="practice-boot">')[1].split("</script>")[0]
    boot = json.loads(raw)
    assert set(boot) == {
        "answer_url",
        "item_id",
        "payload",
        "practice_id",
        "project_id",
        "project_url",
        "purpose",
        "schema",
        "strings",
    }  # the known answer never reaches the page before the worker answers
    assert boot["answer_url"].endswith(f"/practice/{boot['practice_id']}/answer")
    other = session_headers(world.db, team.crew[1])
    assert client.get(opened.headers["location"], headers=other).status_code == 404
