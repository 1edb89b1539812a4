"""C-07: the role x endpoint matrix, generated from the routes the app serves at run time.

Every route/method must have an entry in `policy.yaml` (a forgotten endpoint is how Label
Studio's annotation IDOR shipped); every role's outcome must equal the entry; a denied request,
and any read, leaves the database and the data directory exactly as they were.
"""

from __future__ import annotations

from typing import Any

from tests.security.policy import (
    Bindings,
    Outcome,
    build_request,
    cases_of,
    error_code,
    load_policy,
    prepare_role_targets,
    route_keys,
    skeleton,
)
from tests.security.support import (
    ROLES,
    assert_envelope,
    assert_no_internals,
    db_fingerprint,
    fingerprint_diff,
    send,
    storage_fingerprint,
)

_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def test_every_route_is_classified_in_policy_yaml(app) -> None:  # type: ignore[no-untyped-def]
    policy = load_policy()
    served = route_keys(app)
    listed = set(policy["routes"])
    missing = sorted(set(served) - listed)
    assert not missing, (
        "Routes without an entry in tests/security/policy.yaml (decide who may call them, "
        "then add):\n\n" + "\n\n".join(skeleton(key) for key in missing)
    )
    optional = {
        k for k, v in policy["routes"].items() if any(c.get("optional") for c in cases_of(v))
    }
    stale = sorted(listed - set(served) - optional)
    assert not stale, f"policy.yaml lists routes the app no longer serves; remove: {stale}"
    assert tuple(policy["roles"]) == ROLES
    for key, entry in policy["routes"].items():
        for case in cases_of(entry):
            roles = set(case.get("expect") or {})
            assert roles == set(ROLES), (
                f"policy.yaml {key!r}: expectations for every role are required; "
                f"missing {sorted(set(ROLES) - roles)}, unknown {sorted(roles - set(ROLES))}"
            )
            for outcome in case["expect"].values():
                assert str(outcome) != "FILL_IN", f"policy.yaml {key!r} still has FILL_IN"
                Outcome.parse(outcome)


def test_role_matrix(client, app, sworld, db, settings) -> None:  # type: ignore[no-untyped-def]
    """Each role calls each route once (tenant A's objects); outcomes must match policy.yaml."""
    policy = load_policy()
    served = route_keys(app)
    targets = prepare_role_targets(sworld)
    problems: list[str] = []
    calls = 0
    before = db_fingerprint(db)
    files_before = storage_fingerprint(settings.data_dir)
    for role in ROLES:
        bindings = Bindings(sworld, role, extra=targets[role])
        for key, entry in policy["routes"].items():
            if key not in served:
                continue  # reported by the classification test
            for case in cases_of(entry):
                expected = Outcome.parse(case["expect"][role])
                request = build_request(key, case, bindings)
                if request.kwargs["headers"].get("Cookie"):
                    before = db_fingerprint(db)  # opening the session is not the request
                response = send(client, request.method, request.url, **request.kwargs)
                calls += 1
                label = f"{role:>19} {key} [{case.get('auth', 'token')}]"
                status, code = response.status_code, error_code(response)
                bug = case.get("known_bug") or {}
                if role in bug.get("roles", ()) and db.dialect in bug.get("backends", ()):
                    if expected.matches(status, code):
                        problems.append(f"{label}: works now; remove known_bug from policy.yaml")
                    before = db_fingerprint(db)
                    files_before = storage_fingerprint(settings.data_dir)
                    continue
                if not expected.matches(status, code):
                    problems.append(f"{label}: expected {expected}, got {status} {code}")
                try:
                    if 400 <= status < 500 and request.url.startswith("/api/"):
                        assert_envelope(response, context=label)
                    assert_no_internals(response, context=label)
                except AssertionError as exc:
                    problems.append(str(exc).splitlines()[0])
                after = db_fingerprint(db, exclude=())
                allowed_write = request.method in _WRITES and status < 400
                if not allowed_write:
                    excused = set(case.get("changes") or ()) if status >= 400 else set()
                    changed = set(fingerprint_diff(before, after)) - excused
                    if changed:
                        problems.append(f"{label}: {status} but changed {sorted(changed)}")
                    files_after = storage_fingerprint(settings.data_dir)
                    if files_after != files_before and "data_dir" not in (
                        case.get("changes") or ()
                    ):
                        problems.append(f"{label}: {status} but the data directory changed")
                files_before = storage_fingerprint(settings.data_dir)
                before = after
    assert calls >= len(ROLES) * len(served)
    assert not problems, f"{len(problems)} of {calls} calls differ from policy.yaml:\n" + "\n".join(
        problems
    )


def test_quality_auditor_is_read_only(client, sworld, db) -> None:  # type: ignore[no-untyped-def]
    """Oversight reads everything and changes nothing in any project, whatever it sends."""
    a = sworld.a
    auditor = sworld.person("quality_auditor")
    assert auditor is not None
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("PATCH", f"/api/v1/projects/{a.project}", {"json": {"status": "closed"}}),
        ("POST", f"/api/v1/projects/{a.project}/vendors", {"json": {"organization_id": a.vendor}}),
        ("DELETE", f"/api/v1/projects/{a.project}/vendors/{a.vendor}", {}),
        ("POST", f"/api/v1/projects/{a.project}/tasks/next", {}),
        (
            "POST",
            f"/api/v1/projects/{a.project}/imports",
            {"files": {"file": ("x.jsonl", b'{"text": "t"}\n', "application/x-ndjson")}},
        ),
        (
            "POST",
            f"/api/v1/organizations/{sworld.quality_agency}/members",
            {"json": {"email": auditor.email, "role": "admin"}},
        ),
    ]
    before = db_fingerprint(db)
    for method, url, kwargs in attempts:
        response = send(client, method, url, headers=auditor.headers, **kwargs)
        assert response.status_code == 403, (method, url, response.status_code, response.text)
        assert_envelope(response, context=url)
    assert db_fingerprint(db) == before
    for url in (f"/api/v1/projects/{a.project}", f"/api/v1/projects/{a.project}/export"):
        assert send(client, "GET", url, headers=auditor.headers).status_code == 200
