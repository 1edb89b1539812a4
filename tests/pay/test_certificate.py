"""C-29: work-history certificates verify offline; any change or another key fails."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from datadam.pay.certificate import CertificateInvalid, verify_certificate
from datadam.pay.checkpoints import PURPOSE as CHECKPOINT_PURPOSE
from datadam.pay.keys import load_or_create_platform_key, load_public_key
from tests.factories import labeling_team
from tests.pay.helpers import WORK_START, cli_env, do_item, run_cli


@pytest.fixture
def issued(world, db, client):  # type: ignore[no-untyped-def]
    *_, crew, project = labeling_team(world, workers=1, items=3)
    worker = world.actor(crew[0])
    do_item(db, worker, project, start=WORK_START, seconds=600)
    do_item(db, worker, project, start=WORK_START + timedelta(hours=1), seconds=300)
    response = client.post(
        "/api/v1/me/certificate", headers=crew[0].headers, json={"include_display_name": False}
    )
    assert response.status_code == 200
    return crew[0], response.json()


def test_a_certificate_states_hours_and_items_and_verifies(issued, settings) -> None:  # type: ignore[no-untyped-def]
    person, document = issued
    key = load_or_create_platform_key(settings.data_dir)
    facts = verify_certificate(json.dumps(document).encode(), key.public)
    assert facts["worker"] == {"pseudonym": person.pseudonym}  # no name unless asked
    assert (facts["items"], facts["worked_seconds"], facts["hours"]) == (2, 900, "0.25")
    assert facts["qualifications"] == [] and facts["accuracy_on_gold"] is None
    assert facts["key_id"] == key.key_id


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["certificate"].update(items=3),
        lambda d: d["certificate"].update(hours="0.26"),
        lambda d: d["certificate"].update(worked_seconds=901),
        lambda d: d["certificate"].update(qualifications=["medical-imaging"]),
        lambda d: d["certificate"]["worker"].update(display_name="Someone Else"),
        lambda d: d["signature"].update(value=d["signature"]["value"][:-2] + "AA"),
    ],
)
def test_any_changed_fact_fails(issued, settings, change) -> None:  # type: ignore[no-untyped-def]
    _person, document = issued
    change(document)
    key = load_or_create_platform_key(settings.data_dir)
    with pytest.raises(CertificateInvalid, match="signature does not match"):
        verify_certificate(json.dumps(document).encode(), key.public)


def test_another_key_or_another_purpose_fails(issued, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _person, document = issued
    other = load_or_create_platform_key(tmp_path / "other")
    with pytest.raises(CertificateInvalid, match="public key given"):
        verify_certificate(json.dumps(document).encode(), other.public)
    # re-signed with another key: the key id must be changed too, and then the issuer's fails
    document["certificate"]["key_id"] = other.key_id
    document["signature"]["key_id"] = other.key_id
    document["signature"]["value"] = other.sign(
        "datadam-work-history-v1",
        json.dumps(document["certificate"], sort_keys=True, separators=(",", ":")).encode(),
    )
    key = load_or_create_platform_key(settings.data_dir)
    with pytest.raises(CertificateInvalid):
        verify_certificate(json.dumps(document).encode(), key.public)
    # a checkpoint signature over the same bytes is not a certificate signature
    facts = json.dumps(document["certificate"], sort_keys=True, separators=(",", ":")).encode()
    document["signature"]["value"] = other.sign(CHECKPOINT_PURPOSE, facts)
    with pytest.raises(CertificateInvalid, match="signature does not match"):
        verify_certificate(json.dumps(document).encode(), other.public)


def test_duplicate_fields_are_refused(settings) -> None:  # type: ignore[no-untyped-def]
    key = load_or_create_platform_key(settings.data_dir)
    raw = b'{"certificate": {"items": 1, "items": 2}, "signature": {}}'
    with pytest.raises(CertificateInvalid, match="repeats"):
        verify_certificate(raw, key.public)


def test_the_name_is_included_only_when_the_worker_asks(world, client) -> None:  # type: ignore[no-untyped-def]
    *_, crew, _project = labeling_team(world, workers=1, items=1)
    document = client.post(
        "/api/v1/me/certificate", headers=crew[0].headers, json={"include_display_name": True}
    ).json()
    assert document["certificate"]["worker"]["display_name"].startswith("Person")
    assert document["certificate"]["items"] == 0


def test_cli_verifies_offline_with_the_exported_public_key(  # type: ignore[no-untyped-def]
    issued, client, tmp_path, database_url
) -> None:
    _person, document = issued
    exported = client.get("/api/v1/platform-key")
    assert exported.status_code == 200  # public: no login needed
    pem = tmp_path / "platform.pem"
    pem.write_text(exported.json()["public_key_pem"])
    assert load_public_key(pem.read_bytes()) is not None
    good = tmp_path / "cert.json"
    good.write_text(json.dumps(document))
    document["certificate"]["items"] += 1
    bad = tmp_path / "changed.json"
    bad.write_text(json.dumps(document))
    env = cli_env(tmp_path / "elsewhere", database_url)  # no platform key in this data dir
    ok = run_cli(["certificate", "verify", str(good), "--public-key", str(pem)], env)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["certificate"]["items"] == 2
    changed = run_cli(["certificate", "verify", str(bad), "--public-key", str(pem)], env)
    assert changed.returncode == 1 and "signature does not match" in changed.stderr
