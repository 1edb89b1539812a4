"""C-08: cross-organisation IDOR. Tenant A's people put tenant B's ids everywhere an id goes:
path parameters, JSON bodies, cursors. Every answer must be the same as for an id that does
not exist (so existence is not revealed), and nothing may change.

Vendor organisations are a shared directory (an institution may grant any vendor; the manage
page lists them all), so granting tenant B's *vendor* is not a leak and is tested as allowed;
granting B's institution is refused like a missing vendor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.policy import Outcome, load_policy
from tests.security.support import (
    SecurityWorld,
    assert_envelope,
    db_fingerprint,
    send,
)

MISSING = 987_654_321
A_ROLES = (
    "institution_admin",
    "institution_manager",
    "inspector",
    "vendor_admin",
    "vendor_manager",
    "worker",
)


@dataclass(frozen=True)
class Probe:
    """One request of tenant A's role with one of tenant B's ids in it (`{X}` marks where)."""

    key: str  # the policy.yaml route, for the role's own-object outcome
    method: str
    url: str
    body: dict[str, Any] | None = None


def probes(w: SecurityWorld) -> list[tuple[Probe, list[int]]]:
    """Each probe with the foreign ids to substitute for `{X}`."""
    a, b = w.a, w.b
    b_people_tokens = list(b.spare_tokens.values())
    projects = [b.project, b.project2, b.private_project]
    submit = {"result": {"sentiment": "positive"}, "client_submission_id": "idor"}
    p = "/api/v1/projects"
    return [
        (Probe("GET /api/v1/projects/{project_id}", "GET", p + "/{X}"), projects),
        (Probe("GET /api/v1/projects/{project_id}/stats", "GET", p + "/{X}/stats"), projects),
        (
            Probe("PATCH /api/v1/projects/{project_id}", "PATCH", p + "/{X}", {"name": "pwned"}),
            projects,
        ),
        (Probe("GET /api/v1/projects/{project_id}/items", "GET", p + "/{X}/items"), projects),
        (
            Probe("GET /api/v1/projects/{project_id}/annotations", "GET", p + "/{X}/annotations"),
            projects,
        ),
        (Probe("GET /api/v1/projects/{project_id}/export", "GET", p + "/{X}/export"), projects),
        (
            Probe(
                "POST /api/v1/projects/{project_id}/vendors",
                "POST",
                p + "/{X}/vendors",
                {"organization_id": w.outsider_vendor},
            ),
            projects,
        ),
        (
            Probe(
                "DELETE /api/v1/projects/{project_id}/vendors/{organization_id}",
                "DELETE",
                p + "/{X}/vendors/" + str(b.vendor),
            ),
            projects,
        ),
        (
            Probe("POST /api/v1/projects/{project_id}/tasks/next", "POST", p + "/{X}/tasks/next"),
            projects,
        ),
        (
            Probe(
                "GET /api/v1/projects/{project_id}/imports/{import_id}",
                "GET",
                p + "/{X}/imports/" + str(b.import_id),
            ),
            [b.project],
        ),
        # B's child object under A's own project
        (
            Probe(
                "GET /api/v1/projects/{project_id}/imports/{import_id}",
                "GET",
                f"{p}/{a.project}/imports/{{X}}",
            ),
            [b.import_id],
        ),
        (
            Probe(
                "DELETE /api/v1/projects/{project_id}/vendors/{organization_id}",
                "DELETE",
                f"{p}/{a.project}/vendors/{{X}}",
            ),
            [b.vendor, b.inst],
        ),
        (
            Probe("GET /api/v1/items/{item_id}/media", "GET", "/api/v1/items/{X}/media"),
            [b.item],
        ),
        (
            Probe(
                "POST /api/v1/assignments/{assignment_id}/submit",
                "POST",
                "/api/v1/assignments/{X}/submit",
                submit,
            ),
            [b.assignment, b.assignment2],
        ),
        (
            Probe(
                "POST /api/v1/assignments/{assignment_id}/skip",
                "POST",
                "/api/v1/assignments/{X}/skip",
                {"reason": "idor"},
            ),
            [b.assignment, b.assignment2],
        ),
        (
            Probe(
                "GET /api/v1/organizations/{org_id}/members",
                "GET",
                "/api/v1/organizations/{X}/members",
            ),
            [b.inst, b.vendor],
        ),
        (
            Probe(
                "POST /api/v1/organizations/{org_id}/members",
                "POST",
                "/api/v1/organizations/{X}/members",
                {"email": b.people["worker"].email, "role": "admin"},
            ),
            [b.inst, b.vendor],
        ),
        (
            Probe("DELETE /api/v1/tokens/{token_id}", "DELETE", "/api/v1/tokens/{X}"),
            b_people_tokens,
        ),
        # ids inside JSON bodies
        (
            Probe(
                "POST /api/v1/projects",
                "POST",
                p,
                {"owner_org_id": "{X}", "name": "planted", "labeling_schema": _schema()},
            ),
            [b.inst, b.vendor],
        ),
        (
            Probe(
                "POST /api/v1/projects/{project_id}/vendors",
                "POST",
                f"{p}/{a.project}/vendors",
                {"organization_id": "{X}"},
            ),
            [b.inst, w.program_office, w.quality_agency],
        ),
    ]


def _schema() -> dict[str, Any]:
    from tests.factories import CHOICE_SCHEMA

    return CHOICE_SCHEMA


def _fill(value: Any, x: int) -> Any:
    if value == "{X}":
        return x
    if isinstance(value, str):
        return value.replace("{X}", str(x))
    if isinstance(value, dict):
        return {k: _fill(v, x) for k, v in value.items()}
    return value


def _call(client: Any, probe: Probe, x: int, headers: dict[str, str]) -> Any:
    kwargs: dict[str, Any] = {"headers": headers}
    if probe.body is not None:
        kwargs["json"] = _fill(probe.body, x)
    return send(client, probe.method, _fill(probe.url, x), **kwargs)


def _normalised(response: Any, x: int) -> tuple[int, str]:
    return response.status_code, re.sub(rf"(?<!\d){x}(?!\d)", "<id>", response.text)


# Known leaks, reported to their owners; the tests assert they still leak, so that a fix
# makes the test fail until the entry is removed here.
KNOWN_LEAKS: set[str] = set()


def probe_problems(
    client: Any, sworld: SecurityWorld, role: str, probe: Probe, x: int, *, check_db: bool = True
) -> list[str]:
    """What is wrong with the answers to one (role, probe, foreign id); empty when all is well."""
    headers = sworld.headers(role)
    before = db_fingerprint(sworld.db) if check_db else None
    foreign = _call(client, probe, x, headers)
    missing = _call(client, probe, MISSING, headers)
    label = f"{role} {probe.method} {_fill(probe.url, x)} body={_fill(probe.body, x)}"
    problems = []
    if check_db and db_fingerprint(sworld.db) != before:
        problems.append(f"{label}: changed the database")
    if foreign.status_code not in (403, 404):
        problems.append(f"{label}: {foreign.status_code} {foreign.text[:200]}")
    if _normalised(foreign, x) != _normalised(missing, MISSING):
        problems.append(f"{label}: foreign id answered {foreign.text} but missing {missing.text}")
    try:
        error = assert_envelope(foreign, context=label)
    except AssertionError as exc:
        return [*problems, str(exc)]
    if foreign.status_code == 403 and error["code"] != "forbidden":
        problems.append(f"{label}: 403 {error}")
    return problems


def check_probe(
    client: Any, sworld: SecurityWorld, role: str, probe: Probe, x: int, *, check_db: bool = True
) -> None:
    problems = probe_problems(client, sworld, role, probe, x, check_db=check_db)
    if probe.key in KNOWN_LEAKS:
        assert problems, f"{probe.key} no longer leaks: remove it from KNOWN_LEAKS"
    else:
        assert not problems, "\n".join(problems)


def _own_outcome(key: str, role: str) -> Outcome:
    entry = load_policy()["routes"][key]
    case = entry[0] if isinstance(entry, list) else entry
    return Outcome.parse(case["expect"][role])


def test_foreign_ids_everywhere_answer_like_missing_ids(client, sworld) -> None:  # type: ignore[no-untyped-def]
    """Exhaustive pass: every A role x every probe x every B id."""
    checked = 0
    for role in A_ROLES:
        before = db_fingerprint(sworld.db)  # checked per role here, per call in the random test
        for probe, ids in probes(sworld):
            for x in ids:
                check_probe(client, sworld, role, probe, x, check_db=False)
                own = _own_outcome(probe.key, role)
                if own.kind == "allow" and "{X}" in probe.url:
                    response = _call(client, probe, x, sworld.headers(role))
                    assert response.status_code == 404, (
                        f"{role} may do {probe.key} on its own objects, so a foreign id must "
                        f"be 404, got {response.status_code}"
                    )
                checked += 1
        assert db_fingerprint(sworld.db) == before, f"{role}: a foreign-id request changed rows"
    assert checked > 100


def test_granting_another_tenants_vendor_is_allowed_by_design(client, sworld, db) -> None:  # type: ignore[no-untyped-def]
    a, b = sworld.a, sworld.b
    url = f"/api/v1/projects/{a.project}/vendors"
    manager = sworld.headers("institution_manager")
    response = send(client, "POST", url, headers=manager, json={"organization_id": b.vendor})
    assert response.status_code == 204, response.text
    # ...and the grant reveals nothing of B: B's projects stay invisible to A's manager
    listed = send(client, "GET", "/api/v1/projects?limit=500", headers=manager).json()["items"]
    assert {p["id"] for p in listed}.isdisjoint({b.project, b.project2, b.private_project})


def test_cursors_minted_for_the_other_tenant_are_refused(client, sworld) -> None:  # type: ignore[no-untyped-def]
    a, b = sworld.a, sworld.b
    b_manager, a_manager = (
        sworld.headers("institution_manager", "b"),
        sworld.headers("institution_manager"),
    )
    lists = [
        ("/api/v1/projects", "/api/v1/projects"),
        (f"/api/v1/projects/{b.project}/items", f"/api/v1/projects/{a.project}/items"),
        (f"/api/v1/projects/{b.project}/annotations", f"/api/v1/projects/{a.project}/annotations"),
    ]
    for b_url, a_url in lists:
        page = send(client, "GET", b_url, params={"limit": 1}, headers=b_manager)
        cursor = page.json()["next_cursor"]
        assert cursor, f"{b_url}: expected a second page"
        before = db_fingerprint(sworld.db)
        response = send(
            client, "GET", a_url, params={"limit": 1, "cursor": cursor}, headers=a_manager
        )
        assert response.status_code == 400, (a_url, response.status_code, response.text)
        assert assert_envelope(response)["code"] == "invalid_cursor"
        assert db_fingerprint(sworld.db) == before
        # the same cursor on B's own list, by A, is still a 404 for the list itself
        if b_url != a_url:
            again = send(client, "GET", b_url, params={"cursor": cursor}, headers=a_manager)
            assert again.status_code == 404


def test_member_of_both_vendors_gets_the_union_and_nothing_more(client, sworld) -> None:  # type: ignore[no-untyped-def]
    a, b = sworld.a, sworld.b
    dual = sworld.dual_worker.headers
    listed = send(client, "GET", "/api/v1/projects", headers=dual).json()["items"]
    assert {p["id"] for p in listed} == {a.project, a.project2, b.project, b.project2}
    for project in (a.project, b.project):
        assert (
            send(client, "POST", f"/api/v1/projects/{project}/tasks/next", headers=dual).status_code
            == 200
        )
    for private in (a.private_project, b.private_project):
        assert send(client, "GET", f"/api/v1/projects/{private}", headers=dual).status_code == 404
    # no "current organisation" switch: such headers and parameters change nothing
    for extra in ({"X-Organization-Id": str(a.vendor)}, {"X-Org": str(b.vendor)}):
        again = send(
            client,
            "GET",
            "/api/v1/projects",
            headers=dual | extra,
            params={"organization_id": a.vendor},
        )
        assert again.json()["items"] == listed


def test_roles_do_not_bleed_across_organisations(client, sworld) -> None:  # type: ignore[no-untyped-def]
    """Manager in A's vendor, worker in B's vendor: inspects A only, works B only."""
    a, b = sworld.a, sworld.b
    mixed = sworld.mixed.headers
    assert (
        send(client, "GET", f"/api/v1/projects/{a.project}/items", headers=mixed).status_code == 200
    )
    assert (
        send(client, "GET", f"/api/v1/projects/{b.project}/items", headers=mixed).status_code == 403
    )
    assert (
        send(client, "POST", f"/api/v1/projects/{b.project}/tasks/next", headers=mixed).status_code
        == 200
    )
    assert (
        send(client, "POST", f"/api/v1/projects/{a.project}/tasks/next", headers=mixed).status_code
        == 403
    )
    members = send(client, "GET", f"/api/v1/organizations/{b.vendor}/members", headers=mixed)
    assert members.status_code == 403


_ROLE = st.sampled_from(A_ROLES)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_role_route_foreign_object_triples(client, sworld, data) -> None:  # type: ignore[no-untyped-def]
    role = data.draw(_ROLE, label="role")
    probe, ids = data.draw(st.sampled_from(probes(sworld)), label="probe")
    x = data.draw(st.sampled_from(ids), label="foreign id")
    check_probe(client, sworld, role, probe, x)
