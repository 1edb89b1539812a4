"""Builders for test worlds: organisations, people with tokens, projects and items."""

from __future__ import annotations

import itertools
import json
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from datadam.access import people
from datadam.access.actor import Actor
from datadam.access.authn import actor_for, create_token
from datadam.access.passwords import hash_password
from datadam.domain.enums import OrgKind, Role
from datadam.importing.service import import_file
from datadam.settings import Settings
from datadam.storage.db import Database
from datadam.storage.tables import Organization, Project, ProjectAccess, User

PASSWORD = "correct horse battery staple"
CHOICE_SCHEMA: dict[str, Any] = {
    "version": 1,
    "title": "Sentiment",
    "controls": [
        {
            "name": "sentiment",
            "type": "choice",
            "source": "text",
            "labels": ["positive", "negative", "neutral"],
        }
    ],
}
_seq = itertools.count(1)


@dataclass
class Person:
    user_id: int
    email: str
    token: str
    pseudonym: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class World:
    """A small, explicit world built through the domain services."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._hash: str | None = None

    def org(self, kind: OrgKind = OrgKind.INSTITUTION, slug: str | None = None) -> int:
        slug = slug or f"{kind.value.replace('_', '-')}-{next(_seq)}"
        with self.db.write() as session:
            return people.create_organization(session, slug=slug, name=slug.title(), kind=kind).id

    def person(self, *roles: tuple[int, Role], name: str | None = None) -> Person:
        n = next(_seq)
        self._hash = self._hash or hash_password(PASSWORD, settings=self.settings)
        with self.db.write() as session:
            user = people.create_user(
                session,
                email=f"user{n}@example.org",
                display_name=name or f"Person {n}",
                password_hash=self._hash,
            )
            for org_id, role in roles:
                people.add_membership(session, user_id=user.id, organization_id=org_id, role=role)
            _token, raw = create_token(session, user.id, name="tests", expires_in=timedelta(days=1))
            return Person(user.id, user.email, raw, user.pseudonym)

    def actor(self, person: Person) -> Actor:
        with self.db.read() as session:
            user = session.get(User, person.user_id)
            assert user is not None
            return actor_for(session, user, via="token")

    def project(
        self,
        owner_org_id: int,
        *,
        overlap: int = 1,
        schema: dict[str, Any] | None = None,
        vendors: tuple[int, ...] = (),
        lease_seconds: int = 1800,
        name: str = "Project",
    ) -> int:
        with self.db.write() as session:
            project = Project(
                owner_org_id=owner_org_id,
                name=name,
                schema=schema or CHOICE_SCHEMA,
                overlap=overlap,
                lease_seconds=lease_seconds,
                status="active",
            )
            session.add(project)
            session.flush()
            for vendor in vendors:
                session.add(ProjectAccess(project_id=project.id, organization_id=vendor))
            return project.id

    def items(self, project_id: int, rows: list[dict[str, Any]]) -> int:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "items.jsonl"
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
            return import_file(self.db, project_id=project_id, path=path).imported

    def texts(self, project_id: int, n: int) -> int:
        return self.items(project_id, [{"text": f"item number {i}"} for i in range(n)])

    def org_kind(self, org_id: int) -> str:
        with self.db.read() as session:
            org = session.get(Organization, org_id)
            assert org is not None
            return org.kind


def labeling_team(world: World, *, overlap: int = 1, workers: int = 3, items: int = 10):  # type: ignore[no-untyped-def]
    """An institution with a manager, a vendor with workers, and a project with items."""
    inst = world.org(OrgKind.INSTITUTION)
    vendor = world.org(OrgKind.VENDOR)
    manager = world.person((inst, Role.MANAGER))
    crew = [world.person((vendor, Role.WORKER)) for _ in range(workers)]
    project = world.project(inst, overlap=overlap, vendors=(vendor,))
    world.texts(project, items)
    return inst, vendor, manager, crew, project
