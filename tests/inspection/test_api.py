"""The inspection API and pages through HTTP: setup, verdicts, rework, appeals and lots."""

from __future__ import annotations

from datadam.access import authn
from tests.inspection.helpers import label, labelled_team


def _browser(db, person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with db.write() as session:
        raw, csrf = authn.create_session(session, person.user_id)
    return {"Cookie": f"datadam_session={raw}", "X-CSRF-Token": csrf}


def test_reject_rework_and_appeal_over_the_api(client, world) -> None:  # type: ignore[no-untyped-def]
    t = labelled_team(world)
    p, insp, worker, manager = t["project"], t["inspector"], t["crew"][0], t["manager"]
    setup = client.get(f"/api/v1/projects/{p}/inspection", headers=worker.headers).json()
    assert [s["mode"] for s in setup["stages"]] == ["all"]
    assert "wrong_label" in [r["code"] for r in setup["reasons"]]
    put = client.put(
        f"/api/v1/projects/{p}/inspection",
        headers=manager.headers,
        json={"reasons": [{"code": "off_topic", "label": "Off topic"}], "rework_to": "same"},
    )
    assert put.status_code == 200 and [r["code"] for r in put.json()["reasons"]] == ["off_topic"]
    denied = client.put(
        f"/api/v1/projects/{p}/inspection", headers=insp.headers, json={"rework_to": "other"}
    )
    assert denied.status_code == 403
    url = f"/api/v1/projects/{p}/inspection/verdicts"
    bad = client.post(
        url,
        headers=insp.headers,
        json={"annotation_id": t["ids"][0], "outcome": "reject", "reason_code": "wrong_label"},
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "reason_code"
    ok = client.post(
        url,
        headers=insp.headers,
        json={
            "annotation_id": t["ids"][0],
            "outcome": "reject",
            "reason_code": "off_topic",
            "comment": "Not about this.",
        },
    )
    assert ok.status_code == 200 and ok.json()["status"] == "rework"
    mine = client.get("/api/v1/inspection/rework", headers=worker.headers).json()
    assert [(r["annotation_id"], r["reason_label"], r["comment"]) for r in mine] == [
        (t["ids"][0], "Off topic", "Not about this.")
    ]
    redo = client.post(
        f"/api/v1/inspection/rework/{t['ids'][0]}",
        headers=worker.headers,
        json={"result": {"sentiment": "neutral"}, "active_seconds": 5},
    )
    assert redo.status_code == 200 and redo.json()["version"] == 2
    stranger = client.post(
        f"/api/v1/inspection/rework/{t['ids'][0]}",
        headers=t["crew"][1].headers,
        json={"result": {"sentiment": "neutral"}},
    )
    assert stranger.status_code == 404
    [rejection] = client.get("/api/v1/inspection/rejections", headers=worker.headers).json()
    appeal = client.post(
        f"/api/v1/inspection/rejections/{rejection['verdict_id']}/appeal",
        headers=worker.headers,
        json={"text": "It is on topic."},
    )
    assert appeal.json()["appeal_status"] == "open"
    opened = client.get(f"/api/v1/projects/{p}/inspection/appeals", headers=manager.headers)
    assert [a["worker"].startswith("w_") for a in opened.json()] == [True]
    decided = client.post(
        f"/api/v1/projects/{p}/inspection/appeals/{rejection['verdict_id']}",
        headers=manager.headers,
        json={"decision": "denied"},
    )
    assert decided.json()["appeal_status"] == "denied"


def test_own_work_is_refused_with_a_clear_error(client, world) -> None:  # type: ignore[no-untyped-def]
    from datadam.domain.enums import Role

    t = labelled_team(world)
    dual = world.person((t["vendor"], Role.WORKER), (t["vendor"], Role.INSPECTOR))
    world.items(t["project"], [{"text": "dual's own item"}])
    own = label(world, dual, t["project"])
    answer = client.post(
        f"/api/v1/projects/{t['project']}/inspection/verdicts",
        headers=dual.headers,
        json={"annotation_id": own, "outcome": "accept"},
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "own_work"
    page = client.get(
        f"/inspect/projects/{t['project']}/work/{own}", headers=_browser(world.db, dual)
    )
    assert page.status_code == 403 and "Nobody inspects their own work" in page.text


def test_lots_over_the_api_are_reproducible(client, world) -> None:  # type: ignore[no-untyped-def]
    t = labelled_team(world, items=20)
    p, manager = t["project"], t["manager"]
    client.put(
        f"/api/v1/projects/{p}/inspection",
        headers=manager.headers,
        json={"stages": [{"name": "Sample", "mode": "sample", "level": "II", "aql": "4.0"}]},
    ).raise_for_status()
    made = client.post(
        f"/api/v1/projects/{p}/inspection/lots", headers=manager.headers, json={"seed": 99}
    )
    assert made.status_code == 201
    lot = made.json()
    assert (lot["size"], lot["seed"], lot["severity"]) == (20, 99, "normal")
    assert len(lot["sampled_annotation_ids"]) == lot["sample_size"]
    again = client.get(f"/api/v1/projects/{p}/inspection/lots/{lot['id']}", headers=manager.headers)
    assert again.json()["sampled_annotation_ids"] == lot["sampled_annotation_ids"]
    listed = client.get(f"/api/v1/projects/{p}/inspection/lots", headers=manager.headers).json()
    assert [x["id"] for x in listed] == [lot["id"]]
    assert (
        client.get(
            f"/api/v1/projects/{p}/inspection/lots", headers=t["inspector"].headers
        ).status_code
        == 403
    )


def test_pages_render_for_each_side(client, world) -> None:  # type: ignore[no-untyped-def]
    t = labelled_team(world)
    p = t["project"]
    insp = _browser(world.db, t["inspector"])
    entry = client.get(f"/inspect/projects/{p}/work/{t['ids'][0]}", headers=insp)
    assert entry.status_code == 200 and 'id="reject-form"' in entry.text
    posted = client.post(
        f"/inspect/projects/{p}/work/{t['ids'][0]}/verdict",
        headers=insp,
        data={
            "outcome": "reject",
            "reason_code": "incomplete",
            "comment": "Half done",
            "csrf_token": insp["X-CSRF-Token"],
        },
        follow_redirects=False,
    )
    assert posted.status_code == 303
    worker = _browser(world.db, t["crew"][0])
    listing = client.get("/work/rework", headers=worker)
    assert "Half done" in listing.text and "Incomplete answer" in listing.text
    page = client.get(f"/work/rework/{t['ids'][0]}", headers=worker)
    assert page.status_code == 200 and "Half done" in page.text
    manage = client.get(
        f"/manage/projects/{p}/inspection", headers=_browser(world.db, t["manager"])
    )
    assert manage.status_code == 200 and "Rejection reasons" in manage.text
