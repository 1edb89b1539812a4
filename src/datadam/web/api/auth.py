"""Login, logout, the current user, password change and API tokens.

Login CSRF (an attacker logging a victim into the attacker's account) is stopped because the
login body must be JSON: a cross-site form can only send the "simple" types, and a cross-site
`fetch` with `application/json` needs a CORS preflight that this server never grants.
`web/limits.py` answers 415 for text/plain, form-encoded and untyped bodies on the API; a
multipart body is never parsed as JSON and fails validation (422). Browsers that send
`Sec-Fetch-Site` must also say the request is same-origin.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from datadam.access import authn
from datadam.access import login as login_service
from datadam.access.actor import Actor
from datadam.errors import NotAuthenticated
from datadam.storage.tables import Membership, Organization, User
from datadam.web.deps import (
    SESSION_COOKIE,
    AppSettings,
    CurrentActor,
    Db,
    SessionActor,
    check_fetch_site,
    client_ip,
    is_https,
)

router = APIRouter(tags=["auth"])

MAX_TOKEN_DAYS = 366
_NO_STORE = {"Cache-Control": "no-store"}


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Input):
    email: str = Field(max_length=254)
    password: str


class PasswordChange(_Input):
    current_password: str
    new_password: str


class TokenCreate(_Input):
    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int | None = Field(None, ge=1, le=MAX_TOKEN_DAYS)


class UserPublic(BaseModel):
    id: int
    email: str
    display_name: str
    pseudonym: str
    locale: str


class OrganizationRef(BaseModel):
    id: int
    slug: str
    name: str
    kind: str


class MembershipPublic(BaseModel):
    organization: OrganizationRef
    role: str


class LoginResult(BaseModel):
    user: UserPublic
    csrf_token: str


class MePublic(BaseModel):
    user: UserPublic
    memberships: list[MembershipPublic]
    csrf_token: str | None = None


class TokenPublic(BaseModel):
    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="The token itself. Shown only now; store it safely.")


def _user_public(actor: Actor) -> UserPublic:
    return UserPublic(
        id=actor.user_id,
        email=actor.email,
        display_name=actor.display_name,
        pseudonym=actor.pseudonym,
        locale=actor.locale,
    )


@router.post(
    "/auth/login",
    response_model=LoginResult,
    responses={415: {"description": "The body is not JSON (see web/limits.py)"}},
)
def log_in(
    body: LoginRequest, request: Request, response: Response, db: Db, settings: AppSettings
) -> LoginResult:
    """Log in with e-mail and password; sets the session cookie and returns the CSRF token."""
    check_fetch_site(request)
    result = login_service.login(
        db,
        email=body.email,
        password=body.password,
        ip=client_ip(request, settings),
        settings=settings,
        replaces_session=request.cookies.get(SESSION_COOKIE),
    )
    response.set_cookie(
        SESSION_COOKIE,
        result.session_id,
        httponly=True,
        samesite="lax",
        path="/",
        secure=is_https(request, settings),
    )
    response.headers.update(_NO_STORE)
    return LoginResult(user=_user_public(result.actor), csrf_token=result.csrf_token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def log_out(actor: CurrentActor, request: Request, db: Db, settings: AppSettings) -> Response:
    """End this browser session and clear its cookie."""
    login_service.logout(db, actor=actor)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request, settings)
    )
    return response


@router.get("/me", response_model=MePublic)
def read_me(actor: CurrentActor, db: Db, response: Response) -> MePublic:
    """The logged-in user and their memberships (read afresh on every request)."""
    with db.read() as session:
        user = session.get(User, actor.user_id)
        if user is None:  # pragma: no cover - deleted between resolving and reading
            raise NotAuthenticated("This account is not active.", code="account_inactive")
        rows = session.execute(
            select(Organization, Membership.role)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == actor.user_id)
            .order_by(Organization.id, Membership.role)
        ).all()
    memberships = [
        MembershipPublic(
            organization=OrganizationRef(id=org.id, slug=org.slug, name=org.name, kind=org.kind),
            role=role,
        )
        for org, role in rows
    ]
    response.headers.update(_NO_STORE)
    return MePublic(user=_user_public(actor), memberships=memberships, csrf_token=actor.csrf_token)


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_my_password(
    body: PasswordChange, actor: SessionActor, request: Request, db: Db, settings: AppSettings
) -> Response:
    """Change the password; every other session of this user ends, this one stays."""
    login_service.change_password(
        db,
        actor=actor,
        current_password=body.current_password,
        new_password=body.new_password,
        ip=client_ip(request, settings),
        settings=settings,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_api_token(
    body: TokenCreate, actor: SessionActor, db: Db, response: Response
) -> TokenCreated:
    """Create an API token for scripts. The token is in this response only."""
    with db.write() as session:
        token, raw = authn.issue_token(
            session, user_id=actor.user_id, name=body.name, expires_in_days=body.expires_in_days
        )
        public = TokenPublic.model_validate(token, from_attributes=True)
    response.headers.update(_NO_STORE)
    return TokenCreated(**public.model_dump(), token=raw)


@router.get("/tokens", response_model=list[TokenPublic])
def list_api_tokens(actor: CurrentActor, db: Db) -> list[TokenPublic]:
    """The user's API tokens, without their values (only a hash of each is stored)."""
    with db.read() as session:
        rows = authn.list_tokens_of_user(session, actor.user_id)
        return [TokenPublic.model_validate(row, from_attributes=True) for row in rows]


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_token(token_id: Annotated[int, Path(ge=1)], actor: CurrentActor, db: Db) -> Response:
    """Revoke one of your tokens; it stops working at once. Other users' tokens are 404."""
    with db.write() as session:
        authn.revoke_token_of_user(session, user_id=actor.user_id, token_id=token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
