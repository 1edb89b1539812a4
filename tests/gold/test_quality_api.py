"""The gold, pause and practice API: marking and importing answers, indistinguishable gold
tasks, the gate's error codes, appeals, and the practice loop."""

from __future__ import annotations

import json

from sqlalchemy import select

from datadam.storage.tables import Item
from tests.factories import labeling_team


def _ids(db, project):  # type: ignore[no-untyped-def]
    with db.read() as session:
        return list(
            session.execute(
                select(Item.id).where(Item.project_id == project).order_by(Item.id)
            ).scalars()
        )


def _settings(client, manager, project, **changes):  # type: ignore[no-untyped-def]
    response = client.put(
        f"/api/v1/projects/{project}/quality/settings", json=changes, headers=manager.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_mark_gold_and_settings(client, world, db) -> None:  # type: ignore[no-untyped-def]
    *_, manager, crew, project = labeling_team(world, items=3)
    item = _ids(db, project)[0]
    marked = client.post(
        f"/api/v1/projects/{project}/gold",
        json={"item_id": item, "answer": {"sentiment": "positive"}, "explanation": "clearly"},
        headers=manager.headers,
    )
    assert marked.status_code == 201, marked.text
    bad = client.post(
        f"/api/v1/projects/{project}/gold",
        json={"item_id": _ids(db, project)[1], "answer": {"sentiment": "angry"}},
        headers=manager.headers,
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "answer.sentiment"
    refused = client.post(
        f"/api/v1/projects/{project}/gold",
        json={"item_id": item, "answer": {"sentiment": "positive"}},
        headers=crew[0].headers,
    )
    assert refused.status_code == 403
    settings = _settings(client, manager, project, gold_rate=0.2)
    assert settings["gold_rate"] == 0.2 and settings["min_gold_answers"] == 10
    assert (
        client.put(
            f"/api/v1/projects/{project}/quality/settings",
            json={"gold_rate": 2},
            headers=manager.headers,
        ).status_code
        == 422
    )
    # The export leaves the gold item out.
    lines = client.get(f"/api/v1/projects/{project}/export", headers=manager.headers).text
    exported = [json.loads(line)["item_id"] for line in lines.splitlines() if line]
    assert item not in exported and len(exported) == 2


def test_import_gold_names_bad_lines_and_refuses_the_file(client, world, db) -> None:  # type: ignore[no-untyped-def]
    *_, manager, _crew, project = labeling_team(world, items=2)
    first, second = _ids(db, project)
    rows = [
        {"item_id": first, "answer": {"sentiment": "negative"}, "purpose": "training"},
        {"item_id": second, "answer": {"sentiment": "sad"}},
        {"item_id": 99999999, "answer": {"sentiment": "negative"}},
    ]
    body = "".join(json.dumps(r) + "\n" for r in rows)
    response = client.post(
        f"/api/v1/projects/{project}/gold/import",
        files={"file": ("gold.jsonl", body.encode(), "application/x-ndjson")},
        headers=manager.headers,
    )
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert "line 2" in message and "line 3" in message and "line 1" not in message
    with db.read() as session:
        assert session.get(Item, first).stage == "labeling"  # nothing was imported
    csv = (
        "item_id,answer,explanation,purpose\n"
        f"{first},negative,a sad text,qualification\n"
        f'{second},"{{""sentiment"": ""neutral""}}",,gold\n'
    )
    response = client.post(
        f"/api/v1/projects/{project}/gold/import",
        files={"file": ("gold.csv", csv.encode(), "text/csv")},
        headers=manager.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"rows": 2, "marked": 2, "created": 0}
    created = client.post(
        f"/api/v1/projects/{project}/gold/import",
        files={
            "file": (
                "new.jsonl",
                b'{"payload": {"text": "brand new"}, "answer": {"sentiment": "positive"}}\n',
                "application/x-ndjson",
            )
        },
        headers=manager.headers,
    )
    assert created.json()["created"] == 1
    with db.read() as session:
        stages = {session.get(Item, i).stage for i in _ids(db, project)}
    assert stages == {"gold"}


def test_gold_task_looks_like_any_task_and_pause_flow(client, world, db) -> None:  # type: ignore[no-untyped-def]
    *_, manager, crew, project = labeling_team(world, items=30)
    gold_items = _ids(db, project)[:10]
    for item in gold_items:
        client.post(
            f"/api/v1/projects/{project}/gold",
            json={"item_id": item, "answer": {"sentiment": "positive"}},
            headers=manager.headers,
        ).raise_for_status()
    _settings(client, manager, project, gold_rate=0.5, min_gold_answers=4, pause_threshold=0.9)
    worker = crew[0]
    keys = set()
    refused = None
    for n in range(40):
        got = client.post(f"/api/v1/projects/{project}/tasks/next", headers=worker.headers)
        if got.status_code != 200:
            refused = got
            break
        task = got.json()
        keys.add(tuple(sorted(task)))
        done = client.post(
            f"/api/v1/assignments/{task['assignment_id']}/submit?next_in_project={project}",
            json={"result": {"sentiment": "neutral"}, "client_submission_id": f"k{n}"},
            headers=worker.headers,
        )
        assert done.status_code == 200, done.text  # the submit itself always succeeds
    assert keys == {("assignment_id", "expires_at", "item_id", "payload", "project_id")}
    assert refused is not None and refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "worker_paused" and "below the 90%" in error["message"]

    me = client.get(f"/api/v1/projects/{project}/quality/me", headers=worker.headers).json()
    assert me["paused"] and me["gold"]["answers"] == 4 and me["gold"]["correct"] == 0
    appeal = client.post(
        f"/api/v1/projects/{project}/appeal",
        json={"text": "I pressed the wrong key"},
        headers=worker.headers,
    )
    assert appeal.status_code == 201 and appeal.json()["status"] == "appealed"
    pauses = client.get(f"/api/v1/projects/{project}/pauses", headers=manager.headers).json()
    assert pauses[0]["appeal_text"] == "I pressed the wrong key"
    assert pauses[0]["worker"].startswith("w_")  # a pseudonym, never an id or a name
    accuracy = client.get(f"/api/v1/projects/{project}/gold/accuracy", headers=manager.headers)
    assert accuracy.json()[0]["gold"]["answers"] == 4 and accuracy.json()[0]["paused"]
    resolved = client.post(
        f"/api/v1/projects/{project}/pauses/{pauses[0]['id']}/resolve",
        json={"decision": "reinstate", "note": "ok"},
        headers=manager.headers,
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "reinstated"
    again = client.post(f"/api/v1/projects/{project}/tasks/next", headers=worker.headers)
    assert again.status_code == 200


def test_practice_loop_over_http(client, world, db) -> None:  # type: ignore[no-untyped-def]
    *_, manager, crew, project = labeling_team(world, items=3)
    a, b, c = _ids(db, project)
    for item, purpose in ((a, "training"), (b, "qualification"), (c, "qualification")):
        client.post(
            f"/api/v1/projects/{project}/gold",
            json={
                "item_id": item,
                "answer": {"sentiment": "negative"},
                "explanation": "sad words",
                "purpose": purpose,
            },
            headers=manager.headers,
        ).raise_for_status()
    _settings(client, manager, project, qualification_required=True, pass_mark=1.0)
    worker = crew[0]
    gate = client.post(f"/api/v1/projects/{project}/tasks/next", headers=worker.headers)
    assert gate.status_code == 403 and gate.json()["error"]["code"] == "qualification_required"

    def ask(purpose):  # type: ignore[no-untyped-def]
        return client.post(
            f"/api/v1/projects/{project}/practice/next",
            json={"purpose": purpose},
            headers=worker.headers,
        )

    def answer(practice_id, label):  # type: ignore[no-untyped-def]
        return client.post(
            f"/api/v1/projects/{project}/practice/{practice_id}/answer",
            json={"result": {"sentiment": label}},
            headers=worker.headers,
        )

    training = ask("training").json()
    assert training["purpose"] == "training" and training["total"] == 1
    feedback = answer(training["practice_id"], "positive").json()
    assert feedback["correct"] is False and feedback["answer"] == {"sentiment": "negative"}
    assert feedback["explanation"] == "sad words" and feedback["more"] is False
    assert ask("training").status_code == 204
    for label in ("negative", "negative"):
        question = ask("qualification").json()
        result = answer(question["practice_id"], label).json()
        assert result["answer"] is None and result["correct"] is None
    assert result["attempt"]["passed"] is True and result["attempt"]["score"] == 1.0
    assert (
        client.post(f"/api/v1/projects/{project}/tasks/next", headers=worker.headers).status_code
        == 204
    )  # qualified; the three items are all known-answer items
    other = client.post(
        f"/api/v1/projects/{project}/practice/{training['practice_id']}/answer",
        json={"result": {"sentiment": "negative"}},
        headers=crew[1].headers,
    )
    assert other.status_code == 404
