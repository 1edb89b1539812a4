"""The worker loop's fast path (`web/fastpath.py`) answers exactly as the FastAPI routes do,
leaves every unusual request to them, and falls back to the thread pool when the database is
locked elsewhere instead of failing or stalling."""

from __future__ import annotations

import threading

import pytest

from datadam.web import fastpath
from tests.factories import labeling_team

RESULT = {"sentiment": "positive"}


def _next(client, person, project, query: str = ""):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/projects/{project}/tasks/next{query}", headers=person.headers)


def test_fast_answer_is_byte_for_byte_the_routes_answer(  # type: ignore[no-untyped-def]
    client, world, backend, monkeypatch
) -> None:
    *_, crew, project = labeling_team(world, items=2)
    hops: list[object] = []
    real_hop = fastpath.run_in_threadpool

    async def counted_hop(func, *args):  # type: ignore[no-untyped-def]
        hops.append(func)
        return await real_hop(func, *args)

    monkeypatch.setattr(fastpath, "run_in_threadpool", counted_hop)
    fast = _next(client, crew[0], project)
    # On the event loop (SQLite unless the database is locked; PostgreSQL through psycopg's
    # async connections, since the test client's lifespan has started).
    assert hops == []
    # Any query string sends the request through FastAPI, which ignores the unknown parameter.
    routed = _next(client, crew[0], project, "?via=router")
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content
    for name in ("content-type", "content-security-policy", "x-content-type-options"):
        assert fast.headers[name] == routed.headers[name], name
    task = fast.json()
    done = client.post(
        f"/api/v1/assignments/{task['assignment_id']}/submit?next_in_project={project}",
        json={"result": RESULT, "client_submission_id": "k-1"},
        headers=crew[0].headers,
    )
    again = client.post(
        f"/api/v1/assignments/{task['assignment_id']}/submit?next_in_project={project}&via=router",
        json={"result": RESULT, "client_submission_id": "k-1"},
        headers=crew[0].headers,
    )
    assert done.status_code == again.status_code == 200, done.text
    first, second = done.json(), again.json()
    assert (first["replayed"], second["replayed"]) == (False, True)
    first["replayed"] = True
    assert first == second  # same annotation, same times, same next task
    assert list(first) == list(second) and list(first["next"]) == list(second["next"])


def test_bodies_the_model_refuses_get_the_routes_errors(client, world) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, items=1)
    task = _next(client, crew[0], project).json()
    url = f"/api/v1/assignments/{task['assignment_id']}/submit"
    missing = client.post(url, json={"result": RESULT}, headers=crew[0].headers)
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "client_submission_id"
    extra = client.post(
        url, json={"result": RESULT, "client_submission_id": "a", "x": 1}, headers=crew[0].headers
    )
    assert extra.status_code == 422 and extra.json()["error"]["code"] == "unknown_field"
    nul = client.post(
        url,
        json={"result": {"sentiment": "a\x00"}, "client_submission_id": "a"},
        headers=crew[0].headers,
    )
    assert nul.status_code == 422
    huge = client.post(
        f"/api/v1/assignments/{2**64}/submit",
        json={"result": RESULT, "client_submission_id": "a"},
        headers=crew[0].headers,
    )
    assert huge.status_code == 422
    assert client.post(url, json={"result": RESULT, "client_submission_id": "a"}).status_code == 401
    in_url = client.post(f"{url}?token=abc", json={"result": RESULT, "client_submission_id": "a"})
    assert in_url.status_code == 400 and in_url.json()["error"]["code"] == "token_in_url"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_lock_held_elsewhere_moves_the_call_to_the_thread_pool(  # type: ignore[no-untyped-def]
    client, world, db, monkeypatch
) -> None:
    *_, crew, project = labeling_team(world, items=1)
    worker = crew[0]
    held, hopped, checked, released = (threading.Event() for _ in range(4))
    real_hop = fastpath.run_in_threadpool

    async def counted_hop(func, *args):  # type: ignore[no-untyped-def]
        hopped.set()
        return await real_hop(func, *args)

    monkeypatch.setattr(fastpath, "run_in_threadpool", counted_hop)

    def hold() -> None:
        # The write lock, held until the request has gone to the pool and the health check
        # has answered.
        with db.write_engine.begin():
            held.set()
            hopped.wait(20) and checked.wait(20)
        released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(20)
    answers = []
    asker = threading.Thread(target=lambda: answers.append(_next(client, worker, project)))
    asker.start()
    # The event loop's attempt fails at once and the call goes to the thread pool, where it
    # waits for the lock; meanwhile the event loop keeps answering other requests.
    assert hopped.wait(20)
    health = client.get("/api/v1/health")
    assert health.status_code == 200
    assert not released.is_set()
    checked.set()
    asker.join(30)
    holder.join(30)
    assert len(answers) == 1
    assert answers[0].status_code == 200, answers[0].text
    assert answers[0].json()["project_id"] == project


def test_simultaneous_asks_of_one_worker_get_one_lease(client, world, db) -> None:  # type: ignore[no-untyped-def]
    """Without a worker lock on the PostgreSQL fast path, the live-lease index keeps one
    worker's simultaneous asks (say, two open tabs) to a single lease."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import text

    *_, crew, project = labeling_team(world, items=20)
    worker = crew[0]
    _next(client, worker, project)  # the fast path now knows the token's owner
    first = _next(client, worker, project).json()
    done = client.post(
        f"/api/v1/assignments/{first['assignment_id']}/submit",
        json={"result": RESULT, "client_submission_id": "k-0"},
        headers=worker.headers,
    )
    assert done.status_code == 200, done.text
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: _next(client, worker, project), range(16)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["assignment_id"] for a in answers}) == 1
    with db.engine.connect() as conn:
        live = conn.execute(
            text(
                "SELECT COUNT(*) FROM assignment WHERE worker_id = :w AND project_id = :p "
                "AND status = 'active'"
            ),
            {"w": worker.user_id, "p": project},
        ).scalar()
    assert live == 1


def test_a_token_revoked_after_use_stops_working_at_once(client, world, db) -> None:  # type: ignore[no-untyped-def]
    """The fast path remembers a token's owner to check the token in the same statement as
    the project; it still checks the token itself on every call."""
    from sqlalchemy import text

    *_, crew, project = labeling_team(world, items=3)
    worker = crew[0]
    task = _next(client, worker, project)
    assert task.status_code == 200
    assert _next(client, worker, project).json() == task.json()  # the owner is known now
    with db.write_engine.begin() as conn:
        conn.execute(
            text("UPDATE api_token SET revoked_at = CURRENT_TIMESTAMP WHERE user_id = :u"),
            {"u": worker.user_id},
        )
    refused = _next(client, worker, project)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_revoked"
    submit = client.post(
        f"/api/v1/assignments/{task.json()['assignment_id']}/submit",
        json={"result": RESULT, "client_submission_id": "k-1"},
        headers=worker.headers,
    )
    assert submit.status_code == 401
    assert submit.json()["error"]["code"] == "token_revoked"


def test_a_token_that_runs_out_after_use_is_refused(client, world, db) -> None:  # type: ignore[no-untyped-def]
    """Actors built from token rows are reused while the rows read stay the same; the expiry
    time is checked again on every call."""
    from datetime import timedelta

    import time_machine
    from sqlalchemy import text

    from datadam.assignment.queue import db_time
    from datadam.storage.types import utcnow

    *_, crew, project = labeling_team(world, items=3)
    worker = crew[0]
    with db.write_engine.begin() as conn:
        conn.execute(
            text("UPDATE api_token SET expires_at = :t WHERE user_id = :u"),
            {"t": db_time(db.dialect, utcnow() + timedelta(hours=1)), "u": worker.user_id},
        )
    assert _next(client, worker, project).status_code == 200
    assert _next(client, worker, project).status_code == 200
    with time_machine.travel(utcnow() + timedelta(hours=2)):
        refused = _next(client, worker, project)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_expired"


def test_the_request_limits_still_judge_what_the_fast_path_leaves(client, world) -> None:  # type: ignore[no-untyped-def]
    """The fast path sits outside the request limits: it takes only bodies those limits would
    pass, and everything else gets their answer."""
    *_, crew, project = labeling_team(world, items=1)
    worker = crew[0]
    task = _next(client, worker, project).json()
    url = f"/api/v1/assignments/{task['assignment_id']}/submit"
    duplicate = b'{"result": {"sentiment": "positive"}, "client_submission_id": "a", "result": {}}'
    answer = client.post(
        url, content=duplicate, headers=worker.headers | {"content-type": "application/json"}
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_json"
    nan = b'{"result": {"sentiment": NaN}, "client_submission_id": "a"}'
    answer = client.post(
        url, content=nan, headers=worker.headers | {"content-type": "application/json"}
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_json"
    plain = client.post(
        url,
        content=b'{"result": {"sentiment": "positive"}, "client_submission_id": "a"}',
        headers=worker.headers | {"content-type": "text/plain"},
    )
    assert plain.status_code == 415
    huge = (
        b'{"result": {"sentiment": "'
        + b"x" * (5 * 1024 * 1024)
        + b'"}, "client_submission_id": "a"}'
    )
    answer = client.post(
        url, content=huge, headers=worker.headers | {"content-type": "application/json"}
    )
    assert answer.status_code == 413
    for response in (answer, plain):
        assert response.headers["x-content-type-options"] == "nosniff"
    ok = client.post(
        url,
        json={"result": {"sentiment": "positive"}, "client_submission_id": "a"},
        headers=worker.headers,
    )
    assert ok.status_code == 200, ok.text
    assert ok.headers["content-security-policy"] == "default-src 'none'"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_log_is_checkpointed_off_the_event_loop_until_shutdown(app, world) -> None:  # type: ignore[no-untyped-def]
    """The event loop's SQLite connection leaves write-ahead-log checkpoints to a thread of
    its own, which runs while the server does and ends with it."""
    import time

    from fastapi.testclient import TestClient

    from datadam.assignment.loop import CHECKPOINT_EVERY_S

    def checkpointers() -> int:
        return sum(t.name == "datadam-sqlite-checkpoint" for t in threading.enumerate())

    before = checkpointers()
    *_, crew, project = labeling_team(world, items=2)
    with TestClient(app) as client:
        assert _next(client, crew[0], project).status_code == 200
        assert checkpointers() == before + 1
        conn = client.app.state.db.engine.raw_connection()
        try:
            mode = conn.driver_connection.execute("PRAGMA journal_mode").fetchone()[0]
        finally:
            conn.close()
        assert mode == "wal"
    deadline = time.monotonic() + 10 * CHECKPOINT_EVERY_S + 5
    while checkpointers() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert checkpointers() == before


def _ask_and_submit(client, person, project, key: str) -> None:  # type: ignore[no-untyped-def]
    task = _next(client, person, project)
    assert task.status_code == 200, task.text
    done = client.post(
        f"/api/v1/assignments/{task.json()['assignment_id']}/submit",
        json={"result": RESULT, "client_submission_id": key},
        headers=person.headers,
    )
    assert done.status_code == 200, done.text


def _count_statements(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The SQL of every statement the PostgreSQL worker loop sends from now on."""
    from datadam.assignment import loop

    statements: list[str] = []
    real = loop.run_async

    async def counted(conn, sql, params):  # type: ignore[no-untyped-def]
        statements.append(sql)
        return await real(conn, sql, params)

    monkeypatch.setattr(loop, "run_async", counted)
    return statements


CHANGES = {
    # what changes after the worker was cleared -> the answer to their next ask
    "membership_removed": (
        "DELETE FROM membership WHERE user_id = :u",
        404,
    ),
    "vendor_access_withdrawn": (
        "DELETE FROM project_access WHERE project_id = :p",
        404,
    ),
    "role_changed": (
        "UPDATE membership SET role = 'inspector' WHERE user_id = :u",
        403,
    ),
    "user_deactivated": (
        "UPDATE user_account SET is_active = false WHERE id = :u",
        401,
    ),
    "project_paused": (
        "UPDATE project SET status = 'paused' WHERE id = :p",
        204,
    ),
    "qualification_required": (
        "INSERT INTO quality_settings (project_id, gold_rate, qualification_required, "
        "min_gold_answers, pause_threshold, pass_mark, max_attempts, updated_at) "
        "VALUES (:p, 0, true, 10, 0.5, 0.8, 3, CURRENT_TIMESTAMP)",
        403,
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_change_after_a_worker_was_cleared_is_judged_at_their_next_ask(  # type: ignore[no-untyped-def]
    client, world, db, change
) -> None:
    """On PostgreSQL, next task leases in the same statement that reads the token and the
    project when those rows are exactly as they were when the worker was last cleared; any
    change to them, however small, must be judged again before anything is leased."""
    from sqlalchemy import text

    *_, crew, project = labeling_team(world, items=6)
    worker = crew[0]
    for n in range(3):  # cleared, then leasing in one statement
        _ask_and_submit(client, worker, project, f"k-{n}")
    sql, status = CHANGES[change]
    with db.write_engine.begin() as conn:
        conn.execute(text(sql), {"u": worker.user_id, "p": project})
    answer = _next(client, worker, project)
    assert answer.status_code == status, answer.text
    with db.engine.connect() as conn:
        live = conn.execute(
            text("SELECT COUNT(*) FROM assignment WHERE worker_id = :w AND status = 'active'"),
            {"w": worker.user_id},
        ).scalar()
    assert live == 0  # nothing was leased to them


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_cleared_worker_asks_and_submits_in_one_postgresql_statement_each(  # type: ignore[no-untyped-def]
    client, world, monkeypatch
) -> None:
    """The round trips are the server's main cost on PostgreSQL: once a worker was cleared
    for a project, next task is a single statement, and so is the submit of its lease."""
    from datadam.assignment import loop

    *_, crew, project = labeling_team(world, items=6)
    worker = crew[0]
    # Other workers' expired leases are reaped every two seconds in a transaction of its own.
    monkeypatch.setattr(loop, "reap_due", lambda project_id: False)
    _ask_and_submit(client, worker, project, "k-0")  # learns the owner, clears the worker
    statements = _count_statements(monkeypatch)
    task = _next(client, worker, project)
    assert task.status_code == 200
    assert len(statements) == 1
    done = client.post(
        f"/api/v1/assignments/{task.json()['assignment_id']}/submit",
        json={"result": RESULT, "client_submission_id": "k-1"},
        headers=worker.headers,
    )
    assert done.status_code == 200
    assert len(statements) == 2


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_submit_after_a_change_is_answered_as_the_route_answers_it(  # type: ignore[no-untyped-def]
    client, world, db, change
) -> None:
    """On PostgreSQL a submit of a lease the server gave to a cleared worker stores in one
    statement, only while the token's and the project's rows are as they were. After any
    change, the fast answer and the route's answer must agree, and so must what is stored."""
    from sqlalchemy import text

    *_, crew, project = labeling_team(world, items=8)
    fast, routed = crew[0], crew[1]
    for n in range(2):
        for person in (fast, routed):
            _ask_and_submit(client, person, project, f"k-{n}")
    leases = {p.user_id: _next(client, p, project).json()["assignment_id"] for p in (fast, routed)}
    sql, _status = CHANGES[change]
    with db.write_engine.begin() as conn:
        for person in (fast, routed) if ":u" in sql else (fast,):
            conn.execute(text(sql), {"u": person.user_id, "p": project})
    answers = {
        person.user_id: client.post(
            f"/api/v1/assignments/{leases[person.user_id]}/submit{query}",
            json={"result": RESULT, "client_submission_id": "last"},
            headers=person.headers,
        )
        for person, query in ((fast, ""), (routed, "?via=router"))
    }
    a, b = answers[fast.user_id], answers[routed.user_id]
    assert a.status_code == b.status_code, (a.text, b.text)
    if a.status_code != 200:
        assert a.json()["error"]["code"] == b.json()["error"]["code"]
    with db.engine.connect() as conn:
        stored = {
            person.user_id: conn.execute(
                text("SELECT COUNT(*) FROM annotation WHERE assignment_id = :a"),
                {"a": leases[person.user_id]},
            ).scalar()
            for person in (fast, routed)
        }
    assert stored[fast.user_id] == stored[routed.user_id] == (1 if a.status_code == 200 else 0)


def test_an_item_given_back_below_the_level0_floor_is_offered_first(  # type: ignore[no-untyped-def]
    client, world, monkeypatch
) -> None:
    """On PostgreSQL the level-0 window starts at the lowest id still at level 0, read now and
    then; a slot given back in this process makes it be read again, so the item returned is
    still the first one offered (import order)."""
    from datadam.assignment import queue

    monkeypatch.setattr(queue, "FLOOR_EVERY_S", 1e9)  # read only when forgotten
    *_, crew, project = labeling_team(world, items=6, workers=3)
    a, b, c = crew
    first = {p.user_id: _next(client, p, project).json()["item_id"] for p in (a, b, c)}
    assert first[a.user_id] == min(first.values())  # the first to ask got the first item
    queue._floors.clear()  # the floor is read again at the next ask: above the three taken
    skipped = client.post(
        f"/api/v1/assignments/{_next(client, a, project).json()['assignment_id']}/skip",
        json={"reason": "unreadable"},
        headers=a.headers,
    )
    assert skipped.status_code == 204, skipped.text
    done = client.post(
        f"/api/v1/assignments/{_next(client, b, project).json()['assignment_id']}/submit",
        json={"result": RESULT, "client_submission_id": "b-1"},
        headers=b.headers,
    )
    assert done.status_code == 200, done.text
    assert _next(client, b, project).json()["item_id"] == first[a.user_id]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_lease_the_server_no_longer_holds_is_still_submitted(  # type: ignore[no-untyped-def]
    client, world, db, monkeypatch
) -> None:
    """The leases kept for one-statement submits are bounded; a lease pushed out submits
    through the path that reads the assignment first."""
    from sqlalchemy import text

    from datadam.assignment import loop

    monkeypatch.setattr(loop, "MAX_LEASES", 1)
    *_, crew, project = labeling_team(world, items=6)
    first, second = crew[0], crew[1]
    _ask_and_submit(client, first, project, "k-0")
    task = _next(client, first, project).json()
    _next(client, second, project)  # pushes the first worker's lease out
    statements = _count_statements(monkeypatch)
    done = client.post(
        f"/api/v1/assignments/{task['assignment_id']}/submit",
        json={"result": RESULT, "client_submission_id": "k-1"},
        headers=first.headers,
    )
    assert done.status_code == 200, done.text
    assert len(statements) == 2
    with db.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT COUNT(*) FROM annotation WHERE assignment_id = :a"),
            {"a": task["assignment_id"]},
        ).scalar()
    assert stored == 1
