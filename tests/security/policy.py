"""The route inventory and `policy.yaml`: enumerate what the app serves, and turn a policy case
into a concrete request for a given role."""

from __future__ import annotations

import functools
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from starlette.routing import Mount, WebSocketRoute

from datadam.domain.enums import OrgKind
from tests.security.support import (
    CHOICE_SCHEMA,
    PASSWORD,
    ROLES,
    SecurityWorld,
    session_headers,
)

POLICY_PATH = Path(__file__).with_name("policy.yaml")
DEFAULT_PARAMS = {
    "project_id": "$project",
    "org_id": "$inst",
    "organization_id": "$revocable_vendor",
    "import_id": "$import",
    "assignment_id": "$assignment",
    "token_id": "$spare_token",
    "item_id": "$item",
    "annotation_id": "$annotation",
}
_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?}")
_unique = itertools.count(1)


def tiny_png() -> bytes:
    """A valid 1x1 grey PNG, built here rather than committed as a binary fixture."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@functools.cache
def load_policy() -> dict[str, Any]:
    return yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))


def _iter_routes(app: Any) -> list[Any]:
    try:  # FastAPI >= 0.1xx keeps included routers lazily; this flattens them
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI: app.routes is already flat
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def route_keys(app: Any) -> dict[str, Any]:
    """Every "METHOD /path" the app answers (HEAD folded into GET), mapped to its route."""
    keys: dict[str, Any] = {}
    for route in _iter_routes(app):
        original = getattr(route, "original_route", route)
        path = route.path
        if isinstance(original, Mount):
            keys[f"MOUNT {path}"] = route
            continue
        if isinstance(original, WebSocketRoute):
            keys[f"WEBSOCKET {path}"] = route
            continue
        methods = set(route.methods or ())
        if "GET" in methods:
            methods.discard("HEAD")
        for method in sorted(methods):
            keys[f"{method} {path}"] = route
    return keys


def skeleton(key: str) -> str:
    """The policy.yaml entry to add for an unclassified route (outcomes to be decided)."""
    lines = [f'  "{key}":', "    expect:"]
    lines += [f"      {role}: FILL_IN  # allow | 401 | 403 | 404 | redirect" for role in ROLES]
    if _PARAM.search(key):
        names = ", ".join(f"{n}: $..." for n in _PARAM.findall(key) if n not in DEFAULT_PARAMS)
        if names:
            lines.insert(1, f"    params: {{{names}}}")
    return "\n".join(lines)


def cases_of(entry: Any) -> list[dict[str, Any]]:
    return entry if isinstance(entry, list) else [entry]


@dataclass(frozen=True)
class Outcome:
    kind: str  # "allow", "redirect" or "status"
    status: int | None = None
    code: str | None = None

    @classmethod
    def parse(cls, raw: Any) -> Outcome:
        text = str(raw)
        head, _, code = text.partition(":")
        if head == "allow":
            return cls("allow")
        if head == "redirect":
            return cls("redirect")
        return cls("status", int(head), code or None)

    def matches(self, status: int, code: str | None) -> bool:
        if self.kind == "allow":
            return 200 <= status < 300
        if self.kind == "redirect":
            return 300 <= status < 400
        return status == self.status and (self.code is None or self.code == code)

    def __str__(self) -> str:
        if self.kind != "status":
            return self.kind
        return f"{self.status}:{self.code}" if self.code else str(self.status)


@dataclass
class Bindings:
    """Values that `$name` placeholders stand for, for one role."""

    sworld: SecurityWorld
    role: str
    extra: dict[str, Any] = field(default_factory=dict)
    _session: dict[str, str] | None = None

    def value(self, name: str) -> Any:
        w, a = self.sworld, self.sworld.a
        person = w.person(self.role)
        fixed: dict[str, Any] = {
            "project": a.project,
            "project2": a.project2,
            "inst": a.inst,
            "vendor": a.vendor,
            "import": a.import_id,
            "item": a.item,
            "png": tiny_png(),
            "annotation": a.annotations[0],
            "worker_pseudonym": a.people["worker"].pseudonym,
            "worker_id": a.people["worker"].user_id,
            "assignment": a.assignment,
            "assignment2": a.assignment2,
            "schema": CHOICE_SCHEMA,
            "schema_text": json.dumps(CHOICE_SCHEMA),
            "password": PASSWORD,
            "email": person.email if person else "nobody-at-all@example.invalid",
        }
        if name == "unique":
            return f"matrix-{next(_unique)}"
        if name == "spare_token":
            if self.role in w.shared:
                return w.spare_tokens[self.role]
            if self.role in a.spare_tokens:
                return a.spare_tokens[self.role]
            return a.spare_tokens["worker"]
        if name in self.extra:
            return self.extra[name]
        if name in fixed:
            return fixed[name]
        raise KeyError(f"policy.yaml uses ${name}, which tests/security/policy.py does not bind")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("$"):
            return self.value(value[1:])
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def auth_headers(self, auth: str) -> dict[str, str]:
        person = self.sworld.person(self.role)
        if person is None:
            return {}
        if auth == "session":
            if self._session is None:
                self._session = session_headers(self.sworld.db, person)
            return dict(self._session)
        return dict(person.headers)


def prepare_role_targets(sworld: SecurityWorld) -> dict[str, dict[str, Any]]:
    """Per role: a vendor it may grant and one it may revoke, and a person it may add, so
    that one role's allowed write never changes what the next role sees."""
    from datadam.storage.tables import ProjectAccess

    world = sworld.world
    out: dict[str, dict[str, Any]] = {}
    for role in ROLES:
        out[role] = {}
        for suffix in ("", "2"):  # one set for the API, one for the pages
            grantable = world.org(OrgKind.VENDOR)
            revocable = world.org(OrgKind.VENDOR)
            with world.db.write() as session:
                session.add(ProjectAccess(project_id=sworld.a.project, organization_id=revocable))
            candidate = world.person(name=f"Candidate {suffix or 1} For {role.title()}")
            out[role] |= {
                f"grantable_vendor{suffix}": grantable,
                f"revocable_vendor{suffix}": revocable,
                f"candidate_email{suffix}": candidate.email,
            }
    return out


@dataclass
class Request:
    method: str
    url: str
    kwargs: dict[str, Any]


def build_request(key: str, case: dict[str, Any], bindings: Bindings) -> Request:
    method, _, template = key.partition(" ")
    if method == "MOUNT":
        method, template = "GET", case.get("path", template.rstrip("/") + "/missing.txt")
    params = dict(DEFAULT_PARAMS) | dict(case.get("params") or {})

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise KeyError(f'{key}: add "params: {{{name}: ...}}" to its policy.yaml entry')
        return str(bindings.resolve(params[name]))

    url = _PARAM.sub(fill, template)
    kwargs: dict[str, Any] = {
        "headers": bindings.auth_headers(case.get("auth", "token")),
        "follow_redirects": False,
    }
    if "query" in case:
        kwargs["params"] = bindings.resolve(case["query"])
    if "headers" in case:
        kwargs["headers"] |= bindings.resolve(case["headers"])
    if "json" in case:
        kwargs["json"] = bindings.resolve(case["json"])
    if "data" in case:
        kwargs["data"] = bindings.resolve(case["data"])
    if "files" in case:
        kwargs["files"] = {}
        for name, spec in case["files"].items():
            content = bindings.resolve(spec[1])
            content = content.encode() if isinstance(content, str) else content
            kind = spec[2] if len(spec) > 2 else "application/octet-stream"
            kwargs["files"][name] = (spec[0], content, kind)
    return Request(method, url, kwargs)


def error_code(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None
