"""C-09 (API part): worker W1 crawls every GET route of the JSON API with every id the world
holds, and no other person's name, e-mail or numeric user id appears in any body or header.
Managers, inspectors and auditors see workers only by pseudonym; the export carries only
per-project pseudonyms that cannot be joined across projects.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from sqlalchemy import select

from tests.factories import Person
from tests.security.policy import route_keys
from tests.security.support import SecurityWorld, send, session_headers

_PARAM = re.compile(r"{([a-z_]+)}")


def _ids(w: SecurityWorld) -> dict[str, list[int]]:
    tenants = (w.a, w.b)
    return {
        "project_id": [p for t in tenants for p in (t.project, t.project2, t.private_project)],
        "org_id": [w.program_office, w.quality_agency, w.outsider_vendor]
        + [o for t in tenants for o in (t.inst, t.vendor)],
        "organization_id": [t.vendor for t in tenants],
        "import_id": [t.import_id for t in tenants],
        "assignment_id": [x for t in tenants for x in (t.assignment, t.assignment2)],
        "item_id": [t.item for t in tenants],
        "token_id": [x for t in tenants for x in t.spare_tokens.values()],
        "annotation_id": [x for t in tenants for x in t.annotations],
    }


def _urls(app: Any, w: SecurityWorld) -> list[str]:
    ids = _ids(w)
    urls = []
    for key in route_keys(app):
        method, _, path = key.partition(" ")
        if method != "GET" or not path.startswith("/api/"):
            continue
        names = _PARAM.findall(path)
        for combo in itertools.product(*(ids.get(n, list(range(1, 6))) for n in names)):
            url = path
            for name, value in zip(names, combo, strict=True):
                url = url.replace("{" + name + "}", str(value))
            urls.append(url)
    return urls


def crawl(client: Any, app: Any, w: SecurityWorld, headers: dict[str, str]) -> list[Any]:
    """Every GET API response reachable with these credentials, following `next_cursor`."""
    responses = []
    for url in _urls(app, w):
        cursor = None
        for _ in range(20):
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            response = send(client, "GET", url, headers=headers, params=params)
            responses.append(response)
            try:
                cursor = response.json().get("next_cursor")
            except (ValueError, AttributeError):
                cursor = None
            if not cursor:
                break
    return responses


def _markers(people: list[Person], names: dict[int, str]) -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for p in people:
        out.append((f"e-mail of {p.user_id}", re.compile(rf"(?<![\w.+-]){re.escape(p.email)}")))
        out.append((f"name of {p.user_id}", re.compile(re.escape(names[p.user_id]))))
        out.append((f"id {p.user_id}", re.compile(rf"(?<![\d.]){p.user_id}(?!\d)")))
    return out


def _display_names(w: SecurityWorld) -> dict[int, str]:
    from datadam.storage.tables import User

    with w.db.read() as session:
        return {u.id: u.display_name for u in session.execute(select(User)).scalars()}


def _leaks(responses: list[Any], markers: list[tuple[str, re.Pattern[str]]]) -> list[str]:
    found = []
    for response in responses:
        where = f"{response.request.method} {response.request.url.path}"
        blob = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        for what, pattern in markers:
            if pattern.search(blob):
                found.append(f"{where}: {what}")
    return found


def test_worker_sees_no_one_else(client, app, sworld) -> None:  # type: ignore[no-untyped-def]
    me = sworld.person("worker")
    assert me is not None
    others = [p for p in sworld.everyone() if p.user_id != me.user_id]
    names = _display_names(sworld)
    responses = crawl(client, app, sworld, me.headers)
    task = send(
        client, "POST", f"/api/v1/projects/{sworld.a.project}/tasks/next", headers=me.headers
    )
    responses.append(task)
    assert sum(r.status_code == 200 for r in responses) >= 8, "the crawl reached too little"
    leaks = _leaks(responses, _markers(others, names))
    assert not leaks, "worker W1 saw other people's data:\n" + "\n".join(sorted(set(leaks)))
    # W1 does see their own account
    me_body = send(client, "GET", "/api/v1/me", headers=me.headers).json()
    assert me_body["user"]["email"] == me.email


def test_managers_inspectors_auditors_see_workers_only_by_pseudonym(client, app, sworld) -> None:  # type: ignore[no-untyped-def]
    a = sworld.a
    workers = [a.people["worker"], a.worker2, sworld.dual_worker]
    names = _display_names(sworld)
    markers = _markers(workers, names)
    for role in ("institution_manager", "inspector", "vendor_manager", "quality_auditor"):
        responses = crawl(client, app, sworld, sworld.headers(role))
        assert any(r.status_code == 200 for r in responses)
        leaks = _leaks(responses, markers)
        assert not leaks, f"{role} saw workers' identities:\n" + "\n".join(sorted(set(leaks)))
    # the pseudonyms are what they do see
    annotations = send(
        client,
        "GET",
        f"/api/v1/projects/{a.project}/annotations",
        headers=sworld.headers("inspector"),
    ).json()["items"]
    assert annotations and all(re.fullmatch(r"w_[0-9a-f]{16}", r["worker"]) for r in annotations)


def _export_workers(client: Any, w: SecurityWorld, project: int, role: str) -> tuple[str, set[str]]:
    response = send(client, "GET", f"/api/v1/projects/{project}/export", headers=w.headers(role))
    assert response.status_code == 200, response.text
    workers = set()
    for line in response.text.splitlines():
        for annotation in json.loads(line).get("annotations", []):
            workers.add(annotation["worker"])
    return response.text, workers


def test_export_carries_only_unlinkable_pseudonyms(client, sworld) -> None:  # type: ignore[no-untyped-def]
    a = sworld.a
    names = _display_names(sworld)
    with sworld.db.read() as session:
        from datadam.storage.tables import User

        stored_pseudonyms = set(session.execute(select(User.pseudonym)).scalars())
    people = sworld.everyone()
    seen: dict[int, set[str]] = {}
    for project in (a.project, a.project2):
        for role in ("institution_manager", "quality_auditor", "program_officer"):
            text, workers = _export_workers(client, sworld, project, role)
            assert workers, "the export should hold annotations"
            assert all(re.fullmatch(r"w_[0-9a-f]{16}", w) for w in workers), workers
            assert workers.isdisjoint(stored_pseudonyms)
            for what, pattern in _markers(people, names):
                assert not pattern.search(text), f"export of {project} holds {what}"
            seen.setdefault(project, set()).update(workers)
    # worker2 labelled in both projects, under two different pseudonyms
    assert seen[a.project].isdisjoint(seen[a.project2])


_HREF = re.compile(r"""href="(/[^"#]*)""")


def _page_urls(app: Any, w: SecurityWorld) -> list[str]:
    """Every GET page route (not the JSON API, not static files) with every id the world holds."""
    ids = _ids(w)
    urls = []
    for key in route_keys(app):
        method, _, path = key.partition(" ")
        if method != "GET" or path.startswith(("/api/", "/static", "/docs", "/openapi", "/redoc")):
            continue
        names = _PARAM.findall(path)
        for combo in itertools.product(*(ids.get(n, list(range(1, 6))) for n in names)):
            url = path
            for name, value in zip(names, combo, strict=True):
                url = url.replace("{" + name + "}", str(value))
            urls.append(url)
    return urls


def crawl_pages(client: Any, app: Any, w: SecurityWorld, headers: dict[str, str]) -> list[Any]:
    """Every page reachable from the page routes, following in-site links breadth first."""
    queue, seen, responses = _page_urls(app, w), set(), []
    while queue and len(seen) < 400:
        url = queue.pop(0)
        if url in seen or url.startswith(("/static", "/logout", "/api/")):
            continue
        seen.add(url)
        response = send(client, "GET", url, headers=headers, follow_redirects=False)
        responses.append(response)
        if "text/html" in response.headers.get("content-type", ""):
            queue.extend(h.replace("&amp;", "&") for h in _HREF.findall(response.text))
    return responses


def test_worker_pages_show_no_one_else(client, app, sworld) -> None:  # type: ignore[no-untyped-def]
    """C-09 (pages): W1, logged in with a browser session, crawls every page and every link on
    it; no other person's name, e-mail or user id appears in any page."""
    me = sworld.person("worker")
    assert me is not None
    browser = session_headers(sworld.db, me)
    others = [p for p in sworld.everyone() if p.user_id != me.user_id]
    responses = crawl_pages(client, app, sworld, browser)
    pages = [r for r in responses if r.status_code == 200]
    assert len(pages) >= 5, "the crawl reached too few pages"
    names = _display_names(sworld)
    assert any(names[me.user_id] in r.text for r in pages), "W1's own name is shown somewhere"
    leaks = _leaks(responses, _markers(others, names))
    assert not leaks, "worker W1 saw other people's data:\n" + "\n".join(sorted(set(leaks)))


def test_pages_never_show_python_object_text(client, app, sworld) -> None:  # type: ignore[no-untyped-def]
    """A template reading `x.items` of a dict prints "<built-in method items ...>"; no page of
    any role shows such text (or any other Python repr)."""
    for role in ("program_officer", "quality_auditor", "institution_manager", "worker"):
        person = sworld.person(role)
        assert person is not None
        pages = crawl_pages(client, app, sworld, session_headers(sworld.db, person))
        shown = [r for r in pages if r.status_code == 200]
        assert len(shown) >= 3, role
        bad = [
            str(r.request.url.path)
            for r in shown
            if re.search(r"&lt;(built-in|bound) method|<built-in method|object at 0x", r.text)
        ]
        assert not bad, f"{role}: Python object text on {bad}"
