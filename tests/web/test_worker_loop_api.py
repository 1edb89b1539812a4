"""The worker's loop over HTTP: next task, submit, skip, and the errors around them."""

from __future__ import annotations

from sqlalchemy import func, select

from datadam.storage.tables import Annotation
from tests.factories import labeling_team


def _next(client, person, project):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/projects/{project}/tasks/next", headers=person.headers)


def test_next_submit_roundtrip(client, world) -> None:  # type: ignore[no-untyped-def]
    _inst, _vendor, _manager, crew, project = labeling_team(world, overlap=1, items=2)
    worker = crew[0]
    first = _next(client, worker, project)
    assert first.status_code == 200, first.text
    task = first.json()
    assert task["payload"]["text"].startswith("item number")
    again = _next(client, worker, project)
    assert again.json()["assignment_id"] == task["assignment_id"]
    done = client.post(
        f"/api/v1/assignments/{task['assignment_id']}/submit",
        json={"result": {"sentiment": "positive"}, "client_submission_id": "s-1"},
        headers=worker.headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["replayed"] is False
    replay = client.post(
        f"/api/v1/assignments/{task['assignment_id']}/submit",
        json={"result": {"sentiment": "positive"}, "client_submission_id": "s-1"},
        headers=worker.headers,
    )
    assert replay.status_code == 200
    assert replay.json()["annotation_id"] == done.json()["annotation_id"]
    assert replay.json()["replayed"] is True
    reused = client.post(
        f"/api/v1/assignments/{task['assignment_id']}/submit",
        json={"result": {"sentiment": "negative"}, "client_submission_id": "s-1"},
        headers=worker.headers,
    )
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    second = _next(client, worker, project).json()
    assert second["item_id"] != task["item_id"]


def test_invalid_result_is_refused_and_nothing_stored(client, world, db) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, items=1)
    task = _next(client, crew[0], project).json()
    bad = client.post(
        f"/api/v1/assignments/{task['assignment_id']}/submit",
        json={"result": {"sentiment": "furious"}, "client_submission_id": "x"},
        headers=crew[0].headers,
    )
    assert bad.status_code == 422
    body = bad.json()["error"]
    assert body["field"] == "sentiment"
    assert "furious" in body["message"] or "label" in body["message"]
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(Annotation)).scalar() == 0


def test_overlap_spreads_items_and_ends_with_no_content(client, world) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, overlap=2, workers=3, items=2)
    seen: dict[int, set[int]] = {}
    for n, worker in enumerate(crew):
        while True:
            response = _next(client, worker, project)
            if response.status_code == 204:
                break
            task = response.json()
            seen.setdefault(task["item_id"], set()).add(worker.user_id)
            client.post(
                f"/api/v1/assignments/{task['assignment_id']}/submit",
                json={
                    "result": {"sentiment": "neutral"},
                    "client_submission_id": f"{n}-{task['item_id']}",
                },
                headers=worker.headers,
            ).raise_for_status()
    assert len(seen) == 2
    assert all(len(workers) == 2 for workers in seen.values())


def test_skip_returns_slot_and_needs_reason(client, world) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, overlap=1, workers=2, items=1)
    task = _next(client, crew[0], project).json()
    assert _next(client, crew[1], project).status_code == 204
    empty = client.post(
        f"/api/v1/assignments/{task['assignment_id']}/skip",
        json={"reason": ""},
        headers=crew[0].headers,
    )
    assert empty.status_code == 422
    ok = client.post(
        f"/api/v1/assignments/{task['assignment_id']}/skip",
        json={"reason": "image does not load"},
        headers=crew[0].headers,
    )
    assert ok.status_code == 204
    assert _next(client, crew[1], project).json()["item_id"] == task["item_id"]
    assert _next(client, crew[0], project).status_code == 204


def test_other_organisation_cannot_see_or_work(client, world) -> None:  # type: ignore[no-untyped-def]
    from datadam.domain.enums import OrgKind, Role

    *_, crew, project = labeling_team(world, items=1)
    stranger_org = world.org(OrgKind.VENDOR)
    stranger = world.person((stranger_org, Role.WORKER))
    assert _next(client, stranger, project).status_code == 404
    assert client.get(f"/api/v1/projects/{project}", headers=stranger.headers).status_code == 404
    task = _next(client, crew[0], project).json()
    theft = client.post(
        f"/api/v1/assignments/{task['assignment_id']}/submit",
        json={"result": {"sentiment": "positive"}, "client_submission_id": "z"},
        headers=stranger.headers,
    )
    assert theft.status_code == 404
    assert theft.json()["error"]["code"] == "not_found"


def test_unknown_project_and_expired_token(client, world, db) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from datadam.storage.tables import ApiToken
    from datadam.storage.types import utcnow

    *_, crew, _project = labeling_team(world, items=1)
    assert _next(client, crew[0], 999999).status_code == 404
    with db.write() as session:
        for token in session.execute(select(ApiToken)).scalars():
            token.expires_at = utcnow() - timedelta(seconds=1)
    expired = _next(client, crew[0], 1)
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "token_expired"


def test_submit_can_return_the_next_task(client, world) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, overlap=1, items=2)
    worker = crew[0]
    first = _next(client, worker, project).json()
    done = client.post(
        f"/api/v1/assignments/{first['assignment_id']}/submit?next_in_project={project}",
        json={"result": {"sentiment": "positive"}, "client_submission_id": "a"},
        headers=worker.headers,
    ).json()
    assert done["next_checked"] is True
    assert done["next"]["item_id"] != first["item_id"]
    assert _next(client, worker, project).json()["assignment_id"] == done["next"]["assignment_id"]
    last = client.post(
        f"/api/v1/assignments/{done['next']['assignment_id']}/submit?next_in_project={project}",
        json={"result": {"sentiment": "neutral"}, "client_submission_id": "b"},
        headers=worker.headers,
    ).json()
    assert last["next_checked"] is True and last["next"] is None
