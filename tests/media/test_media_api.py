"""The media routes: upload by managers only, served bytes bound to an item the caller may view
(foreign item → 404), safe response headers, signal pages, and refused active content."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from datadam.domain.enums import OrgKind, Role
from datadam.media.signals import synthetic_edf
from tests.media.builders import png_bytes, wav_bytes

SCHEMA = {
    "version": 1,
    "controls": [
        {"name": "objects", "type": "shapes", "source": "image", "labels": ["car"]},
        {
            "name": "stages",
            "type": "epochs",
            "source": "signal",
            "labels": ["W", "N2"],
            "epoch_seconds": 30,
            "required": False,
        },
    ],
}


def _upload(client, person, project, *files):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/projects/{project}/media",
        files=[("file", (name, data, "application/octet-stream")) for name, data in files],
        headers=person.headers,
    )


IMAGE_SCHEMA = {"version": 1, "controls": SCHEMA["controls"][:1]}


def _setup(client, world, schema=IMAGE_SCHEMA):  # type: ignore[no-untyped-def]
    inst = world.org(OrgKind.INSTITUTION)
    vendor = world.org(OrgKind.VENDOR)
    manager = world.person((inst, Role.MANAGER))
    crew = [world.person((vendor, Role.WORKER))]
    project = world.project(inst, vendors=(vendor,), schema=schema)
    return inst, manager, crew, project


def test_manager_uploads_and_worker_reads_through_the_item(client, world) -> None:  # type: ignore[no-untyped-def]
    _inst, manager, crew, project = _setup(client, world, SCHEMA)
    _, edf = synthetic_edf(1, 3)
    done = _upload(client, manager, project, ("a.png", png_bytes(40, 30)), ("n.edf", edf))
    assert done.status_code == 201, done.text
    image, signal = done.json()["media"]
    assert image["kind"] == "image" and image["key"].endswith(".png")
    assert (image["width"], image["height"]) == (40, 30)
    assert signal["kind"] == "signal" and signal["duration_s"] == 90
    world.items(
        project,
        [
            {
                "image": image["key"],
                "width": 40,
                "height": 30,
                "signal": {"media": signal["key"], "n_epochs": 3},
            }
        ],
    )
    from datadam.storage.tables import Item

    with world.db.read() as session:
        item_id = session.query(Item.id).filter(Item.project_id == project).scalar()

    got = client.get(f"/api/v1/items/{item_id}/media?source=image", headers=crew[0].headers)
    assert got.status_code == 200
    assert got.content == png_bytes(40, 30)
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert "content-disposition" not in got.headers

    url = f"/api/v1/items/{item_id}/media?source=image"
    part = client.get(url, headers=crew[0].headers | {"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == png_bytes(40, 30)[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(png_bytes(40, 30))}"
    tail = client.get(url, headers=crew[0].headers | {"Range": "bytes=-4"})
    assert tail.content == png_bytes(40, 30)[-4:]
    beyond = client.get(url, headers=crew[0].headers | {"Range": "bytes=999999-"})
    assert beyond.status_code == 416

    raw = client.get(f"/api/v1/items/{item_id}/media?source=signal", headers=crew[0].headers)
    assert raw.headers["content-type"] == "application/octet-stream"
    assert raw.headers["content-disposition"].startswith("attachment")

    page = client.get(f"/api/v1/items/{item_id}/signal?page=1", headers=crew[0].headers)
    assert page.status_code == 200, page.text
    blob = page.content
    (length,) = struct.unpack_from("<I", blob, 4)
    header = json.loads(blob[8 : 8 + length])
    assert header["n_pages"] == 3 and header["page"] == 1
    assert [c["kind"] for c in header["channels"]] == ["eeg", "eeg", "eog", "emg"]
    samples = np.frombuffer(blob, "<f4", offset=8 + length)
    assert len(samples) == 4 * 3000

    as_json = client.get(
        f"/api/v1/items/{item_id}/signal?page=0&format=json", headers=crew[0].headers
    )
    assert len(as_json.json()["channels"][0]["data"]) == 3000
    beyond = client.get(f"/api/v1/items/{item_id}/signal?page=3", headers=crew[0].headers)
    assert beyond.status_code == 422 and beyond.json()["error"]["field"] == "page"


def test_worker_cannot_upload_and_strangers_see_nothing(client, world) -> None:  # type: ignore[no-untyped-def]
    _inst, manager, crew, project = _setup(client, world)
    assert _upload(client, crew[0], project, ("a.png", png_bytes())).status_code == 403
    key = _upload(client, manager, project, ("a.png", png_bytes())).json()["media"][0]["key"]
    world.items(project, [{"image": key}])
    other = world.org(OrgKind.INSTITUTION)
    stranger = world.person((other, Role.MANAGER))
    assert _upload(client, stranger, project, ("a.png", png_bytes())).status_code == 404
    from datadam.storage.tables import Item

    with world.db.read() as session:
        item_id = session.query(Item.id).filter(Item.project_id == project).scalar()
    for url in (f"/api/v1/items/{item_id}/media", f"/api/v1/items/{item_id}/signal?page=0"):
        response = client.get(url, headers=stranger.headers)
        assert response.status_code == 404
        assert key not in response.text
    assert client.get("/api/v1/items/999999/media", headers=manager.headers).status_code == 404


def test_active_content_upload_is_refused_and_nothing_stored(client, world, settings) -> None:  # type: ignore[no-untyped-def]
    _inst, manager, _crew, project = _setup(client, world)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = _upload(client, manager, project, ("ok.wav", wav_bytes()), ("evil.svg", svg))
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "unsupported_media_type" and body["message"].startswith("file 2:")
    media_root: Path = settings.data_dir / "media"
    assert not any(p.is_file() for p in media_root.rglob("*")) if media_root.exists() else True


def test_payload_key_with_traversal_is_refused(client, world) -> None:  # type: ignore[no-untyped-def]
    _inst, manager, _crew, project = _setup(client, world)
    world.items(project, [{"image": "../../secret_key"}, {"image": {"media": "/etc/passwd"}}])
    from datadam.storage.tables import Item

    with world.db.read() as session:
        ids = [i for (i,) in session.query(Item.id).filter(Item.project_id == project)]
    for item_id in ids:
        response = client.get(f"/api/v1/items/{item_id}/media", headers=manager.headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_path"


def test_upload_over_the_limit_is_refused(client, world, app) -> None:  # type: ignore[no-untyped-def]
    _inst, manager, _crew, project = _setup(client, world)
    app.state.settings.max_upload_bytes = 1000
    response = _upload(client, manager, project, ("big.png", png_bytes(400, 400)))
    assert response.status_code == 413
    assert response.json()["error"]["field"] == "file"
