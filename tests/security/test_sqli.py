"""C-22: SQL injection. Payloads go through every string the API takes; each is stored and
returned literally, or refused with 422/400/401/404 in the error envelope. No answer shows
database internals; nothing is dropped; refused requests change nothing. A static scan
forbids building SQL text from Python string formatting in `src/`."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.factories import CHOICE_SCHEMA
from tests.security.support import (
    assert_envelope,
    assert_no_internals,
    db_fingerprint,
    send,
    session_headers,
)

PAYLOADS = [
    "' OR 1=1--",
    "'; DROP TABLE annotation;--",
    '1) UNION SELECT password_hash FROM "user_account"--',
    '" OR ""="',
    "%",
    "_",
    "\\",
    "%' AND 1=1 --",
    "Robert'); DROP TABLE item;--",
    "$1 :p %(p)s ?",
    "a\x00b",
    "\\.\n\\N\t|",  # COPY text-format markers (items go to PostgreSQL through COPY)
    "명령'); --",
]
# Reported to their owners: on PostgreSQL a NUL character in these inputs is a 500 (the
# driver refuses U+0000), where it should be a 422. The tests assert they still fail, so a
# fix is noticed and the entry removed. (The JSON API's own inputs refuse NUL in wire.py.)
KNOWN_NUL_500: dict[str, str] = {}
SRC = Path(__file__).resolve().parents[2] / "src" / "datadam"


def _literal_or_refused(response: Any, context: str) -> bool:
    """True when accepted (2xx); a refusal must be a clean 4xx envelope."""
    assert response.status_code < 500, f"{context}: {response.status_code} {response.text[:300]}"
    assert_no_internals(response, context=context)
    if response.status_code >= 400:
        assert_envelope(response, context=context)
        return False
    return True


def test_payloads_in_project_fields_are_stored_literally(client, sworld, db) -> None:  # type: ignore[no-untyped-def]
    manager = sworld.headers("institution_manager")
    tables = db_fingerprint(db)["__tables__"]
    for payload in PAYLOADS:
        body = {
            "owner_org_id": sworld.a.inst,
            "name": f"p {payload}",
            "labeling_schema": CHOICE_SCHEMA,
            "instructions": payload,
            "field": payload[:64],
            "modality": payload[:64],
        }
        before = db_fingerprint(db)
        created = send(client, "POST", "/api/v1/projects", headers=manager, json=body)
        if not _literal_or_refused(created, repr(payload)):
            assert db_fingerprint(db) == before, repr(payload)
            continue
        project = created.json()
        got = send(client, "GET", f"/api/v1/projects/{project['id']}", headers=manager).json()
        for key in ("name", "instructions", "field", "modality"):
            assert got[key] == body[key], (key, payload, got[key])
        patched = send(
            client,
            "PATCH",
            f"/api/v1/projects/{project['id']}",
            headers=manager,
            json={"name": f"q {payload}", "instructions": payload + payload},
        )
        if _literal_or_refused(patched, repr(payload)):
            assert patched.json()["name"] == f"q {payload}"
    assert db_fingerprint(db)["__tables__"] == tables


def test_payloads_as_labels_match_only_themselves(client, sworld) -> None:  # type: ignore[no-untyped-def]
    """A schema whose labels are payloads: the exact label is accepted, a near one refused."""
    world, a = sworld.world, sworld.a
    labels = [p for p in PAYLOADS if "\x00" not in p][:8]
    schema = {
        "version": 1,
        "title": "Injection labels",
        "controls": [{"name": "pick", "type": "choice", "source": "text", "labels": labels}],
    }
    project = world.project(a.inst, schema=schema, vendors=(a.vendor,))
    world.texts(project, 3)
    worker = sworld.person("worker")
    assert worker is not None
    task = send(client, "POST", f"/api/v1/projects/{project}/tasks/next", headers=worker.headers)
    assignment = task.json()["assignment_id"]
    url = f"/api/v1/assignments/{assignment}/submit"
    near = send(
        client,
        "POST",
        url,
        headers=worker.headers,
        json={"result": {"pick": labels[0] + " "}, "client_submission_id": "' OR 1=1--"},
    )
    assert near.status_code == 422 and not _literal_or_refused(near, "near label")
    unknown_key = send(
        client,
        "POST",
        url,
        headers=worker.headers,
        json={"result": {"'; DROP TABLE item;--": labels[0]}, "client_submission_id": "k"},
    )
    assert unknown_key.status_code == 422
    exact = send(
        client,
        "POST",
        url,
        headers=worker.headers,
        json={"result": {"pick": labels[1]}, "client_submission_id": "'; DROP TABLE x;--"},
    )
    assert exact.status_code == 200, exact.text
    manager = sworld.headers("institution_manager")
    stored = send(client, "GET", f"/api/v1/projects/{project}/annotations", headers=manager)
    assert [row["result"] for row in stored.json()["items"]] == [{"pick": labels[1]}]


def test_csv_cells_and_external_ids_round_trip(client, sworld, db) -> None:  # type: ignore[no-untyped-def]
    a = sworld.a
    manager = sworld.headers("institution_manager")
    cells = [p for p in PAYLOADS if "\x00" not in p]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["text", "external_id", "note"])
    for n, payload in enumerate(cells):
        writer.writerow([f"{n} {payload}", f"ext-{n}-{payload}"[:200], payload])
    response = send(
        client,
        "POST",
        f"/api/v1/projects/{a.project2}/imports",
        headers=manager,
        files={"file": ("inj.csv", out.getvalue().encode(), "text/csv")},
    )
    assert _literal_or_refused(response, "csv import"), response.text
    assert response.json()["imported"] == len(cells)
    page = send(
        client, "GET", f"/api/v1/projects/{a.project2}/items?limit=500", headers=manager
    ).json()
    stored = {row["payload"]["text"]: row for row in page["items"]}
    for n, payload in enumerate(cells):
        row = stored[f"{n} {payload}"]
        assert row["payload"]["note"] == payload
        assert row["external_id"] == f"ext-{n}-{payload}"[:200]
    nul = "text\n" + "a\x00b\n"
    before = db_fingerprint(db, exclude=("import_job", "event"))
    refused = send(
        client,
        "POST",
        f"/api/v1/projects/{a.project2}/imports",
        headers=manager,
        files={"file": ("nul.csv", nul.encode(), "text/csv")},
    )
    if not _literal_or_refused(refused, "csv with NUL"):
        assert db_fingerprint(db, exclude=("import_job", "event")) == before


@pytest.mark.parametrize("where", ["login", "member", "organization", "token", "skip", "query"])
def test_payloads_in_other_string_parameters(client, sworld, db, where) -> None:  # type: ignore[no-untyped-def]
    a = sworld.a
    admin = sworld.person("institution_admin")
    officer = sworld.person("program_officer")
    worker = sworld.person("worker")
    assert admin and officer and worker
    for payload in PAYLOADS:
        before = db_fingerprint(db, exclude=("login_attempt", "event"))
        known = "\x00" in payload and db.dialect == "postgresql" and where in KNOWN_NUL_500
        if where == "login":
            r = send(
                client, "POST", "/api/v1/auth/login", json={"email": payload, "password": payload}
            )
            if known:
                assert r.status_code == 500, f"fixed? remove login from KNOWN_NUL_500: {r.text}"
                continue
            assert r.status_code in (401, 422), (payload, r.status_code, r.text)
        elif where == "member":
            r = send(
                client,
                "POST",
                f"/api/v1/organizations/{a.inst}/members",
                headers=admin.headers,
                json={"email": payload + "@example.org", "role": "worker"},
            )
            assert r.status_code in (404, 422), (payload, r.status_code)
        elif where == "organization":
            r = send(
                client,
                "POST",
                "/api/v1/organizations",
                headers=officer.headers,
                json={"slug": payload, "name": payload, "kind": "vendor"},
            )
            assert r.status_code == 422, (payload, r.status_code)  # slugs are [a-z0-9-]
        elif where == "token":
            r = send(
                client,
                "POST",
                "/api/v1/tokens",
                headers=session_headers(db, admin),
                json={"name": payload},
            )
            if known:
                assert r.status_code == 500, f"fixed? remove token from KNOWN_NUL_500: {r.text}"
                continue
            if _literal_or_refused(r, repr(payload)):
                assert r.json()["name"] == payload
            continue
        elif where == "skip":
            r = send(
                client,
                "POST",
                f"/api/v1/assignments/{a.assignment2}/skip",
                headers=admin.headers,
                json={"reason": payload},
            )
            assert r.status_code in (404, 422), (payload, r.status_code)
        else:
            r = send(
                client,
                "GET",
                f"/api/v1/projects/{a.project}/items",
                headers=admin.headers,
                params={"cursor": payload, "limit": 5},
            )
            assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor"
            bad_limit = send(
                client,
                "GET",
                "/api/v1/projects",
                headers=admin.headers,
                params={"limit": payload},
            )
            assert bad_limit.status_code == 422
            if payload.isprintable():  # HTTP clients refuse control characters in URLs
                path = send(client, "GET", f"/api/v1/projects/{payload}", headers=admin.headers)
                assert path.status_code in (404, 422)
                _literal_or_refused(path, "path")
        _literal_or_refused(r, f"{where} {payload!r}")
        after = db_fingerprint(db, exclude=("login_attempt", "event"))
        assert after == before, (where, payload)


# ------------------------------------------------------------------ static: no formatted SQL

_SQL_WORDS = (
    "SELECT ",
    "INSERT ",
    "UPDATE ",
    "DELETE ",
    "CREATE ",
    "DROP ",
    "ALTER ",
    "TRUNCATE ",
    "PRAGMA ",
    "COPY ",
    "WITH ",
)
# file, first words of the statement: constant-composed statements, each justified
ALLOWED = {
    # PRAGMA value is int() of a module constant, not input
    ("storage/db.py", "PRAGMA busy_timeout="),
    # migration DDL (append-only triggers): table names come from fixed tuples in the
    # migration itself, never from input
    ("storage/migrations/versions/", "CREATE TRIGGER "),
    ("storage/migrations/versions/", "CREATE OR REPLACE FUNCTION "),
    ("storage/migrations/versions/", "DROP FUNCTION "),
    ("storage/migrations/versions/", "DROP TRIGGER "),
}


def _formatted_sql(node: ast.AST) -> str | None:
    """The leading text of `node` if it is SQL built by f-string, % or .format / +."""
    if isinstance(node, ast.JoinedStr):
        head = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        left = node.left
        if not (isinstance(left, ast.Constant) and isinstance(left.value, str)):
            return None
        if isinstance(node.op, ast.Add) and isinstance(node.right, ast.Constant):
            return None
        head = left.value
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    ):
        head = node.func.value.value
    else:
        return None
    text = head.lstrip().upper()
    return head.lstrip() if text.startswith(_SQL_WORDS) else None


def test_no_sql_is_built_by_string_formatting() -> None:
    """Allowed: the list above, and statements whose lines carry a justified `noqa: S608`
    (ruff's own marker for the same rule; the justification is reviewed with the code)."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            head = _formatted_sql(node)
            if head is None:
                continue
            span = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
            if any("noqa: S608" in line for line in span):
                continue
            if any(rel.startswith(f) and head.startswith(p) for f, p in ALLOWED):
                continue
            found.append(f"src/datadam/{rel}:{node.lineno}: {head[:60]!r}")
    assert not found, "SQL text built from formatted strings (use bound parameters):\n" + "\n".join(
        found
    )
    # the scanner itself works
    assert _formatted_sql(ast.parse('f"SELECT * FROM t WHERE a = {x}"', mode="eval").body)
    assert _formatted_sql(ast.parse('"DELETE FROM t WHERE a = %s" % x', mode="eval").body)
    assert _formatted_sql(ast.parse('"UPDATE t SET a = {}".format(x)', mode="eval").body)
    assert not _formatted_sql(ast.parse('f"hello {x}"', mode="eval").body)
