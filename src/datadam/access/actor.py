"""Who is asking: the authenticated person with their memberships, loaded once per request."""

from __future__ import annotations

from dataclasses import dataclass, field

from datadam.domain.enums import OrgKind, Role


@dataclass(frozen=True)
class Grant:
    """One membership: a role held in an organisation of a kind."""

    organization_id: int
    kind: OrgKind
    role: Role


@dataclass(frozen=True)
class Actor:
    user_id: int
    email: str
    display_name: str
    pseudonym: str
    grants: tuple[Grant, ...] = ()
    via: str = "session"  # "session" (browser cookie) or "token" (API token)
    session_hash: str | None = None
    csrf_token: str | None = None
    locale: str = "en"
    _org_roles: dict[int, frozenset[Role]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        roles: dict[int, set[Role]] = {}
        for grant in self.grants:
            roles.setdefault(grant.organization_id, set()).add(grant.role)
        object.__setattr__(self, "_org_roles", {k: frozenset(v) for k, v in roles.items()})

    @property
    def organization_ids(self) -> frozenset[int]:
        return frozenset(self._org_roles)

    def roles_in(self, organization_id: int) -> frozenset[Role]:
        return self._org_roles.get(organization_id, frozenset())

    def has_role(self, organization_id: int, *roles: Role) -> bool:
        return bool(self.roles_in(organization_id) & set(roles))

    def is_in_kind(self, kind: OrgKind, *roles: Role) -> bool:
        """True when the actor holds one of `roles` (any role if none given) in an org of `kind`."""
        return any(g.kind == kind and (not roles or g.role in roles) for g in self.grants)

    def orgs_with_role(self, *roles: Role) -> frozenset[int]:
        return frozenset(g.organization_id for g in self.grants if g.role in roles)
