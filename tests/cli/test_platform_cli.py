"""The platform commands, run as a user would: a real `datadam` process per call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import CHOICE_SCHEMA


def run(
    args: list[str], env: dict[str, str], *, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "datadam.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATADAM_")}
    env.update(
        DATADAM_DATA_DIR=str(tmp_path / "data"),
        DATADAM_DATABASE_URL=database_url,
        DATADAM_ENV="test",
        DATADAM_PASSWORD_PROFILE="cheapest",
    )
    return env


def test_project_import_export_round_trip(cli_env, tmp_path, db) -> None:  # type: ignore[no-untyped-def]
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(CHOICE_SCHEMA))
    created = run(
        ["project", "create", "--name", "감정 분류", "--schema", str(schema), "--overlap", "3"],
        cli_env,
    )
    assert created.returncode == 0, created.stderr
    project_id = int(created.stdout.strip())
    data = tmp_path / "items.jsonl"
    data.write_text(
        "".join(json.dumps({"text": f"문장 {i}"}, ensure_ascii=False) + "\n" for i in range(50))
        + json.dumps({"text": "문장 0"})
        + "\n"
    )
    imported = run(["import", str(project_id), str(data)], cli_env)
    assert imported.returncode == 0, imported.stderr
    summary = json.loads(imported.stdout.strip().splitlines()[-1])
    assert summary["imported"] == 50
    assert summary["duplicates"] == 1
    assert summary["seconds"] >= 0
    listed = run(["project", "list", "--json"], cli_env)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    mine = next(r for r in rows if r["id"] == project_id)
    assert mine["items"] == 50 and mine["annotations"] == 0 and mine["name"] == "감정 분류"
    out = tmp_path / "export.jsonl"
    exported = run(["export", str(project_id), "-o", str(out)], cli_env)
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 50
    assert {line["payload"]["text"] for line in lines} == {f"문장 {i}" for i in range(50)}
    assert not (tmp_path / "export.jsonl.partial").exists()


def test_bad_inputs_give_one_line_errors(cli_env, tmp_path, db) -> None:  # type: ignore[no-untyped-def]
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(CHOICE_SCHEMA))
    project_id = run(
        ["project", "create", "--name", "P", "--schema", str(schema)], cli_env
    ).stdout.strip()
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "ok"}\n{"text": "missing brace"\n')
    result = run(["import", project_id, str(broken)], cli_env)
    assert result.returncode == 2
    assert "line 2" in result.stderr and "Traceback" not in result.stderr
    missing = run(["import", project_id, str(tmp_path / "nope.jsonl")], cli_env)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    unknown = run(["import", "999", str(broken)], cli_env)
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
    bad_schema = tmp_path / "bad.json"
    bad_schema.write_text('{"version": 1, "controls": [{"name": "x", "type": "nonsense"}]}')
    refused = run(["project", "create", "--name", "Q", "--schema", str(bad_schema)], cli_env)
    assert refused.returncode == 2 and "controls" in refused.stderr
    listed = run(["project", "list", "--json"], cli_env)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["items"] for r in rows] == [0]


def test_db_upgrade_is_repeatable_and_user_create_joins_org(cli_env, db) -> None:  # type: ignore[no-untyped-def]
    first = run(["db", "upgrade"], cli_env)
    second = run(["db", "upgrade"], cli_env)
    assert first.returncode == 0 and second.returncode == 0
    assert json.loads(first.stdout)["revision"] == json.loads(second.stdout)["revision"]
    made = run(
        ["user", "create", "--email", "New.Person@Example.org", "--name", "New"],
        {**cli_env, "DATADAM_PASSWORD": "a long enough passphrase"},
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["email"] == "new.person@example.org"
    again = run(
        ["user", "create", "--email", "new.person@example.org"],
        {**cli_env, "DATADAM_PASSWORD": "a long enough passphrase"},
    )
    assert again.returncode != 0 and "exists" in again.stderr
    weak = run(
        ["user", "create", "--email", "weak@example.org"], {**cli_env, "DATADAM_PASSWORD": "short"}
    )
    assert weak.returncode == 2


def test_demo_twice_creates_nothing_new(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATADAM_")}
    env.update(
        DATADAM_DATA_DIR=str(tmp_path / "demo"),
        DATADAM_ENV="test",
        DATADAM_PASSWORD_PROFILE="cheapest",
    )
    first = run(["demo", "--no-serve"], env)
    assert first.returncode == 0, first.stderr
    assert "worker1@demo.datadam.org" in first.stdout
    before = run(["project", "list", "--json"], env).stdout
    second = run(["demo", "--no-serve"], env)
    assert second.returncode == 0
    after = run(["project", "list", "--json"], env).stdout
    assert before == after
    assert len(before.splitlines()) >= 3
