"""C-11: sort/filter parameters and cursors cannot reach outside the caller's rows.

Unknown query parameters (`?sort=password_hash` and friends) are ignored: the answer is
byte-for-byte the answer without them. Cursors are signed and bound to (user, list): edited,
forged or borrowed ones are 400 `invalid_cursor`. Paging with any page sizes returns exactly
the visible rows, each once, even while rows are added between pages.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from datadam.storage.tables import Item, Project
from tests.security.support import SecurityWorld, assert_envelope, send

TAMPERING = [
    {"sort": "password_hash"},
    {"order": "annotations.result"},
    {"order_by": "user_account.password_hash desc"},
    {"filter": "created_by.password_hash^=$argon2id$v=19$m=6"},
    {"fields": "password_hash,email"},
    {"include": "worker,user"},
    {"project_id": "1 OR 1=1"},
    {"owner_org_id": "2"},
    {"worker_id": "1"},
]


def _lists(w: SecurityWorld) -> list[tuple[str, str]]:
    """(role, list URL) pairs over every paginated list."""
    a = w.a
    return [
        ("institution_manager", "/api/v1/projects"),
        ("worker", "/api/v1/projects"),
        ("institution_manager", f"/api/v1/projects/{a.project}/items"),
        ("inspector", f"/api/v1/projects/{a.project}/annotations"),
    ]


def test_unknown_query_parameters_change_nothing(client, sworld) -> None:  # type: ignore[no-untyped-def]
    for role, url in _lists(sworld):
        headers = sworld.headers(role)
        baseline = send(client, "GET", url, headers=headers)
        assert baseline.status_code == 200
        for extra in TAMPERING:
            response = send(client, "GET", url, headers=headers, params=extra)
            assert response.status_code in (200, 422), (url, extra, response.status_code)
            if response.status_code == 200:
                assert response.json() == baseline.json(), (url, extra)
            else:
                assert_envelope(response, context=f"{url} {extra}")
            assert "argon2" not in response.text


def _first_cursor(client: Any, url: str, headers: dict[str, str]) -> str:
    page = send(client, "GET", url, headers=headers, params={"limit": 1}).json()
    assert page["next_cursor"], f"{url}: expected a second page"
    return page["next_cursor"]


def _refused(client: Any, url: str, headers: dict[str, str], cursor: str) -> None:
    response = send(client, "GET", url, headers=headers, params={"cursor": cursor})
    assert response.status_code == 400, (url, cursor, response.status_code, response.text)
    error = assert_envelope(response, context=url)
    assert (error["code"], error["field"]) == ("invalid_cursor", "cursor")


def test_tampered_forged_and_borrowed_cursors_are_refused(client, sworld, settings) -> None:  # type: ignore[no-untyped-def]
    a = sworld.a
    manager, inspector = sworld.headers("institution_manager"), sworld.headers("inspector")
    items = f"/api/v1/projects/{a.project}/items"
    items2 = f"/api/v1/projects/{a.project2}/items"
    cursor = _first_cursor(client, items, manager)
    # edited by hand: every single-character change breaks the signature
    for i in range(0, len(cursor), max(1, len(cursor) // 12)):
        flipped = cursor[:i] + ("A" if cursor[i] != "A" else "B") + cursor[i + 1 :]
        _refused(client, items, manager, flipped)
    payload, _, _sig = cursor.partition(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(decoded) == {"s", "u", "i"}
    unsigned = base64.urlsafe_b64encode(json.dumps(decoded | {"i": 0}).encode()).decode()
    _refused(client, items, manager, unsigned.rstrip("="))
    _refused(client, items, manager, unsigned.rstrip("=") + "." + _sig)
    forged = URLSafeSerializer("not-the-secret" * 4, salt="datadam.cursor").dumps(decoded)
    _refused(client, items, manager, forged)
    # right key, wrong purpose salt
    other_salt = URLSafeSerializer(settings.secret_key, salt="datadam.other").dumps(decoded)
    _refused(client, items, manager, other_salt)
    # borrowed: another project, another user, another list
    _refused(client, items2, manager, cursor)
    _refused(client, items, inspector, cursor)
    _refused(client, "/api/v1/projects", manager, cursor)
    _refused(client, f"/api/v1/projects/{a.project}/annotations", manager, cursor)
    for junk in ("' OR 1=1--", "null", "e30", "." * 40, "\u00e9\u00e9"):
        _refused(client, items, manager, junk)


def _page_through(
    client: Any, url: str, headers: dict[str, str], sizes: list[int], between: Any = None
) -> list[int]:
    seen: list[int] = []
    cursor: str | None = None
    for n in range(200):
        params: dict[str, Any] = {"limit": sizes[n % len(sizes)]}
        if cursor:
            params["cursor"] = cursor
        response = send(client, "GET", url, headers=headers, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= params["limit"]
        seen += [row["id"] for row in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return seen
        if between is not None:
            between(n)
    raise AssertionError("paging did not end")


_SIZES = st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=6)
_HC = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=15, suppress_health_check=_HC)
@given(
    role=st.sampled_from(["worker", "vendor_manager", "quality_auditor", "inspector"]), sizes=_SIZES
)
def test_paging_projects_returns_exactly_the_visible_ones(client, sworld, role, sizes) -> None:  # type: ignore[no-untyped-def]
    a, b = sworld.a, sworld.b
    headers = sworld.headers(role)
    seen = _page_through(client, "/api/v1/projects", headers, sizes)
    assert len(seen) == len(set(seen)), "a project came twice"
    assert seen == sorted(seen)
    if role == "quality_auditor":  # oversight sees every project
        with sworld.db.read() as session:
            expected = set(session.execute(select(Project.id)).scalars())
    elif role == "inspector":  # of the owner institution: all three of its projects
        expected = {a.project, a.project2, a.private_project}
    else:  # vendor people: the two projects granted to their vendor
        expected = {a.project, a.project2}
    assert set(seen) == expected
    assert expected.isdisjoint({b.project, b.project2, b.private_project}) or role == (
        "quality_auditor"
    )


_inserted = iter(range(1, 1 << 30))


@settings(max_examples=12, suppress_health_check=_HC)
@given(sizes=_SIZES, inserts=st.lists(st.integers(min_value=0, max_value=2), max_size=4))
def test_paging_items_while_rows_arrive(client, sworld, sizes, inserts) -> None:  # type: ignore[no-untyped-def]
    """Every row present at the start is seen once; rows added meanwhile at most once; no
    row of another project ever appears."""
    a = sworld.a
    url = f"/api/v1/projects/{a.project}/items"
    with sworld.db.read() as session:
        initial = set(
            session.execute(select(Item.id).where(Item.project_id == a.project)).scalars()
        )

    def add_rows(n: int) -> None:
        if n < len(inserts) and inserts[n]:
            sworld.world.items(
                a.project, [{"text": f"arrived {next(_inserted)}"} for _ in range(inserts[n])]
            )

    seen = _page_through(client, url, sworld.headers("institution_manager"), sizes, add_rows)
    assert len(seen) == len(set(seen)), "an item came twice"
    assert initial <= set(seen)
    with sworld.db.read() as session:
        now = set(session.execute(select(Item.id).where(Item.project_id == a.project)).scalars())
    assert set(seen) <= now, "rows of another project were listed"
