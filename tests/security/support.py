"""Shared pieces of the security tests: the database fingerprint, the two-tenant world, the
request helper and the error-envelope check.

`db_fingerprint()` is the plan's "no row changed" check: per table the row count plus a hash
of every row ordered by primary key, and the list of tables itself (so a dropped table shows).
Tables that may legitimately change on a denied request (the failed-login counter and its
security event) are excluded by the caller, by name, never silently.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, text

from datadam.access import authn
from datadam.access.actor import Actor
from datadam.assignment.service import next_task, submit_task
from datadam.domain.enums import OrgKind, Role
from datadam.storage.db import Database
from datadam.storage.tables import Base, ImportJob, Item, User
from tests.factories import CHOICE_SCHEMA, PASSWORD, Person, World

ROLES = (
    "program_officer",
    "quality_auditor",
    "institution_admin",
    "institution_manager",
    "inspector",
    "vendor_admin",
    "vendor_manager",
    "worker",
    "ungranted_worker",
    "no_membership",
    "anonymous",
)
TENANT_ROLES = {
    "institution_admin": ("inst", Role.ADMIN),
    "institution_manager": ("inst", Role.MANAGER),
    "inspector": ("inst", Role.INSPECTOR),
    "vendor_admin": ("vendor", Role.ADMIN),
    "vendor_manager": ("vendor", Role.MANAGER),
    "worker": ("vendor", Role.WORKER),
}
# Numeric user ids start here, so that a leaked user id is recognisable in any response
# (seven digits never match a six-digit microsecond field or a small object id).
USER_ID_BASE = 7_340_000
LEAK_MARKERS = ("sqlite3.", "psycopg", "syntax error", "OperationalError", "Traceback")


# ------------------------------------------------------------------ fingerprints


class _ChangeWatch:
    """Tells cheaply whether anything may have been committed since the last look.

    SQLite: `PRAGMA data_version` on a connection of our own changes whenever another
    connection commits. PostgreSQL: the snapshot's xmax moves whenever any transaction that
    wrote was given an id (reads never are). Either way an unchanged value proves no write.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn = db.engine.connect() if db.is_postgres else None
        self.sqlite = None
        if not db.is_postgres:
            path = db.engine.url.database
            self.sqlite = sqlite3.connect(path) if path and path != ":memory:" else None

    def marker(self) -> Any:
        if self.conn is not None:
            sql = "SELECT pg_snapshot_xmax(pg_current_snapshot())"
            value = self.conn.exec_driver_sql(sql).scalar()
            self.conn.rollback()
            return value
        if self.sqlite is not None:
            return self.sqlite.execute("PRAGMA data_version").fetchone()[0]
        return object()  # no watch possible: always recompute


_WATCHES: dict[str, tuple[_ChangeWatch, Any, dict[str, Any]]] = {}


def db_fingerprint(db: Database, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Row count and content hash per table, plus the set of tables that exist.

    Recomputed only when a commit may have happened since the last call (`_ChangeWatch`),
    which keeps the role x route matrix's check after every request cheap.
    """
    key = db.engine.url.render_as_string(hide_password=False)
    watch = _WATCHES[key][0] if key in _WATCHES else _ChangeWatch(db)
    marker = watch.marker()
    if key in _WATCHES and _WATCHES[key][1] == marker:
        full = _WATCHES[key][2]
    else:
        full = _full_fingerprint(db)
        _WATCHES[key] = (watch, marker, full)
    return {k: v for k, v in full.items() if k not in exclude}


def _full_fingerprint(db: Database, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Rows are read raw (driver values, no ORM type processing)."""
    out: dict[str, Any] = {}
    with db.engine.connect() as conn:
        out["__tables__"] = tuple(sorted(inspect(conn).get_table_names()))
        quote = conn.dialect.identifier_preparer.quote
        if conn.dialect.name == "postgresql":  # one round trip, hashed by the server
            return out | _pg_fingerprint(conn, quote, exclude)
        for table in Base.metadata.sorted_tables:
            if table.name in exclude:
                continue
            order = [c.name for c in (table.primary_key.columns or table.columns)]
            sql = f"SELECT * FROM {quote(table.name)} ORDER BY {', '.join(map(quote, order))}"
            rows = conn.exec_driver_sql(sql).fetchall()
            digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
            out[table.name] = (len(rows), digest)
    return out


def _pg_fingerprint(conn: Any, quote: Any, exclude: tuple[str, ...]) -> dict[str, Any]:
    parts = []
    for table in Base.metadata.sorted_tables:
        if table.name in exclude:
            continue
        order = ", ".join(
            f"x.{quote(c.name)}" for c in (table.primary_key.columns or table.columns)
        )
        parts.append(
            f"SELECT '{table.name}', count(*), "
            f"md5(coalesce(string_agg(x::text, '|' ORDER BY {order}), '')) "
            f"FROM {quote(table.name)} x"
        )
    rows = conn.exec_driver_sql(" UNION ALL ".join(parts)).fetchall()
    return {name: (count, digest) for name, count, digest in rows}


def fingerprint_diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def storage_fingerprint(root: Path) -> tuple[tuple[str, int], ...]:
    """Sorted listing with sizes of everything under the data directory."""
    if not root.exists():
        return ()
    return tuple(
        sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file())
    )


# ------------------------------------------------------------------ responses


def assert_envelope(response: Any, *, context: str = "") -> dict[str, Any]:
    """A 4xx body is exactly `{"error": {"code", "message", "field"}}` with no internals."""
    assert response.headers.get("content-type", "").startswith("application/json"), (
        f"{context}: {response.status_code} is not JSON: {response.text[:200]}"
    )
    body = response.json()
    assert set(body) == {"error"}, f"{context}: not the error envelope: {body}"
    error = body["error"]
    # `errors` (a list of every problem, e.g. each bad line of a rejected import) may follow
    assert set(error) - {"errors"} == {"code", "message", "field"}, f"{context}: keys {set(error)}"
    assert isinstance(error.get("errors", []), list), f"{context}: errors is not a list"
    assert isinstance(error["code"], str) and re.fullmatch(r"[a-z][a-z0-9_]*", error["code"]), (
        f"{context}: bad code {error['code']!r}"
    )
    assert isinstance(error["message"], str) and error["message"], f"{context}: empty message"
    assert error["field"] is None or isinstance(error["field"], str), f"{context}: field type"
    assert_no_internals(response, context=context)
    return error


def assert_no_internals(response: Any, *, context: str = "") -> None:
    text_ = response.text
    for marker in LEAK_MARKERS:
        assert marker not in text_, f"{context}: response leaks {marker!r}: {text_[:300]}"


def send(client: Any, method: str, url: str, **kwargs: Any) -> Any:
    """One request with no cookies carried over from earlier responses (the jar is cleared)."""
    client.cookies.clear()
    try:
        return client.request(method, url, **kwargs)
    finally:
        client.cookies.clear()


def session_headers(db: Database, person: Person) -> dict[str, str]:
    """Headers of a logged-in browser: the session cookie and its CSRF token."""
    with db.write() as session:
        raw, csrf = authn.create_session(session, person.user_id)
    return {"Cookie": f"datadam_session={raw}", "X-CSRF-Token": csrf}


# ------------------------------------------------------------------ the world


@dataclass
class Tenant:
    """One institution with its vendor, projects, people and some finished work."""

    name: str
    inst: int
    vendor: int
    project: int  # owned by inst, granted to vendor
    project2: int  # owned by inst, granted to vendor
    private_project: int  # owned by inst, granted to nobody
    import_id: int
    item: int  # an item of `project` that the worker was never given
    people: dict[str, Person]
    spare_tokens: dict[str, int]  # role -> id of a second token the role may revoke
    worker2: Person  # another worker of the vendor, with submitted work
    assignment: int  # the worker's live assignment on `project`
    assignment2: int  # the worker's live assignment on `project2`
    annotations: list[int] = field(default_factory=list)


@dataclass
class SecurityWorld:
    world: World
    program_office: int
    quality_agency: int
    outsider_vendor: int  # a vendor no project grants
    shared: dict[str, Person]
    spare_tokens: dict[str, int]
    a: Tenant
    b: Tenant
    dual_worker: Person  # worker in both tenants' vendors
    mixed: Person  # manager in A's vendor, worker in B's vendor

    @property
    def db(self) -> Database:
        return self.world.db

    def person(self, role: str, tenant: str = "a") -> Person | None:
        if role == "anonymous":
            return None
        if role in self.shared:
            return self.shared[role]
        return getattr(self, tenant).people[role]

    def everyone(self) -> list[Person]:
        people = list(self.shared.values()) + [self.dual_worker, self.mixed]
        for t in (self.a, self.b):
            people += list(t.people.values()) + [t.worker2]
        return people

    def headers(self, role: str, tenant: str = "a") -> dict[str, str]:
        person = self.person(role, tenant)
        return {} if person is None else person.headers


def _reserve_user_ids(db: Database) -> None:
    """Make every user id of this world a seven-digit number (see USER_ID_BASE)."""
    with db.write() as session:
        session.add(
            User(
                id=USER_ID_BASE,
                email="reserved@example.invalid",
                display_name="Reserved Placeholder",
                pseudonym="w_reserved0000",
                password_hash="!",
                is_active=False,
            )
        )
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('user_account', 'id'), :n)"),
                {"n": USER_ID_BASE},
            )


def _spare_token(db: Database, person: Person) -> int:
    with db.write() as session:
        token, _raw = authn.create_token(
            session, person.user_id, name="spare", expires_in=timedelta(days=1)
        )
        return token.id


def _work(db: Database, actor: Actor, project: int, *, submit: bool, key: str) -> int:
    task = next_task(db, actor, project)
    assert task is not None, f"no task left in project {project}"
    if submit:
        submit_task(
            db,
            actor,
            task.assignment_id,
            result={"sentiment": "positive"},
            client_submission_id=key,
        )
    return task.assignment_id


def _tenant(world: World, name: str) -> Tenant:
    db = world.db
    inst = world.org(OrgKind.INSTITUTION)
    vendor = world.org(OrgKind.VENDOR)
    orgs = {"inst": inst, "vendor": vendor}
    people = {
        role: world.person(
            (orgs[where], r), name=f"{role.replace('_', ' ').title()} {name.upper()}"
        )
        for role, (where, r) in TENANT_ROLES.items()
    }
    worker2 = world.person((vendor, Role.WORKER), name=f"Second Worker {name.upper()}")
    project = world.project(inst, vendors=(vendor,), name=f"Project {name.upper()} one")
    project2 = world.project(inst, vendors=(vendor,), name=f"Project {name.upper()} two")
    private = world.project(inst, name=f"Project {name.upper()} private")
    for p in (project, project2, private):
        world.texts(p, 6)
    with db.read() as session:
        import_id = session.execute(
            select(ImportJob.id).where(ImportJob.project_id == project).order_by(ImportJob.id)
        ).scalar_one()
    with db.read() as session:
        item = (
            session.execute(
                select(Item.id).where(Item.project_id == project).order_by(Item.id.desc())
            )
            .scalars()
            .first()
        )
    assert item is not None
    other = world.actor(worker2)
    annotations = [
        _work(db, other, p, submit=True, key=f"seed-{name}-{p}") for p in (project, project2)
    ]
    me = world.actor(people["worker"])
    assignment = _work(db, me, project, submit=False, key="")
    assignment2 = _work(db, me, project2, submit=False, key="")
    spare = {role: _spare_token(db, person) for role, person in people.items()}
    return Tenant(
        name=name,
        inst=inst,
        vendor=vendor,
        project=project,
        project2=project2,
        private_project=private,
        import_id=import_id,
        item=item,
        people=people,
        spare_tokens=spare,
        worker2=worker2,
        assignment=assignment,
        assignment2=assignment2,
        annotations=annotations,
    )


def build_security_world(world: World) -> SecurityWorld:
    """Program office, quality agency, an outsider vendor and two mirror tenants A and B."""
    _reserve_user_ids(world.db)
    po = world.org(OrgKind.PROGRAM_OFFICE)
    qa = world.org(OrgKind.QUALITY_AGENCY)
    outsider = world.org(OrgKind.VENDOR)
    shared = {
        "program_officer": world.person((po, Role.ADMIN), name="Program Officer Pat"),
        "quality_auditor": world.person((qa, Role.AUDITOR), name="Quality Auditor Quinn"),
        "ungranted_worker": world.person((outsider, Role.WORKER), name="Outsider Worker Olu"),
        "no_membership": world.person(name="Lonely Newcomer Lee"),
    }
    a = _tenant(world, "a")
    b = _tenant(world, "b")
    dual = world.person((a.vendor, Role.WORKER), (b.vendor, Role.WORKER), name="Dual Worker Dee")
    mixed = world.person((a.vendor, Role.MANAGER), (b.vendor, Role.WORKER), name="Mixed Member Max")
    spare = {role: _spare_token(world.db, person) for role, person in shared.items()}
    return SecurityWorld(world, po, qa, outsider, shared, spare, a, b, dual, mixed)


__all__ = [
    "CHOICE_SCHEMA",
    "PASSWORD",
    "ROLES",
    "SecurityWorld",
    "Tenant",
    "assert_envelope",
    "build_security_world",
    "db_fingerprint",
    "send",
    "session_headers",
]
