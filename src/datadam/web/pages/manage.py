"""The project manager's pages: projects list, new project with a schema editor, project page.

Handlers parse, authorize (through `projects.service.get_project_for` and the policies), call
the domain service and render. Everything a manager changes goes through a form with the
session's CSRF token, or through the JSON API with the `X-CSRF-Token` header (import upload).
A project page needs `manage` on the project; anyone else gets 404, as for a project they
cannot see, so the page never confirms that someone else's project exists.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from datadam import errors
from datadam.access import people
from datadam.access.actor import Actor
from datadam.access.policies import ProjectAction, can_create_project_in, can_manage_members
from datadam.domain.enums import OrgKind, Role
from datadam.i18n import N_
from datadam.i18n.js import JS_MESSAGES
from datadam.pay.summary import pay_summary
from datadam.projects import progress, service
from datadam.schema import example_result, example_schema, example_schema_names, parse_schema
from datadam.storage.tables import Organization, User
from datadam.web.deps import Db
from datadam.web.pages.common import PageActor, gettext, page_router, redirect, render

router = page_router()

MAX_PREVIEW_PAYLOAD = 64 * 1024
WORKER_ROWS = 50
MEMBER_ROLES = (Role.WORKER, Role.INSPECTOR, Role.MANAGER, Role.ADMIN, Role.AUDITOR)
STAGES = ("collected", "refined", "labeling", "inspection", "accepted", "released")
STAGE_NAMES = {
    "collected": N_("Collected"),
    "refined": N_("Refined"),
    "labeling": N_("Labeling"),
    "inspection": N_("Inspection"),
    "accepted": N_("Accepted"),
    "released": N_("Released"),
}
STATE_NAMES = {
    progress.WAITING: N_("Waiting for a worker"),
    progress.IN_PROGRESS: N_("Being labelled"),
    progress.COMPLETE: N_("All labels in"),
}
ROLE_NAMES = {
    "admin": N_("Admin"),
    "manager": N_("Manager"),
    "worker": N_("Worker"),
    "inspector": N_("Inspector"),
    "auditor": N_("Auditor"),
}
NOTICES = {
    "vendor_added": N_("The vendor may now work on this project."),
    "vendor_removed": N_("The vendor's access was removed."),
    "member_added": N_("The person was added to the organisation."),
}
PROBLEMS = {
    "vendor_conflict": N_("This vendor already has access."),
    "member_conflict": N_("This person already holds that role in the organisation."),
    "email": N_("No registered person has this e-mail address."),
    "role": N_("Please choose a role."),
    "organization_id": N_("Please choose a vendor organisation."),
}
SAMPLE_TEXT = (
    "Park Ji-sung joined Manchester United in 2005. 박지성은 2005년 맨체스터 유나이티드에 입단했다."
)


# ---------------------------------------------------------------- helpers


def _secret(request: Request) -> str:
    return request.app.state.secret_key


def _managed_project(session: Session, actor: Actor, project_id: int) -> service.ProjectView:
    """The project if the actor may manage it; 404 otherwise (even when they may view it)."""
    view = service.get_project_for(session, actor, project_id)
    if ProjectAction.MANAGE not in view.actions:
        raise errors.NotFound(f"no project {project_id}", field="project_id")
    return view


def _creatable_orgs(session: Session, actor: Actor) -> list[Organization]:
    return [
        org
        for org in people.list_visible_organizations(session, actor)
        if can_create_project_in(actor, org.id, OrgKind(org.kind))
    ]


def _vendor_organizations(session: Session) -> list[Organization]:
    """Every vendor organisation: the choices for granting access to a project."""
    query = select(Organization).where(Organization.kind == OrgKind.VENDOR.value)
    return list(session.execute(query.order_by(Organization.name)).scalars())


def _int_field(fields: dict[str, str], name: str, default: int | None = None) -> int:
    raw = fields.get(name, "").strip()
    if not raw and default is not None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise errors.InputError(f"{name} must be a whole number", field=name) from None


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def sample_payload(schema: dict[str, Any]) -> dict[str, Any]:
    """An item that every control of `schema` can be shown on, for the editor's preview."""
    payload: dict[str, Any] = {}
    for control in schema.get("controls", []):
        source = control.get("source")
        if not source or source in payload:
            continue
        kind = control.get("type")
        if kind == "shapes":
            payload[source] = {"width": 320, "height": 200}
        elif kind == "epochs":
            payload[source] = {
                "n_epochs": 6,
                "sfreq": 100,
                "synthetic_seed": 1,
                "channels": ["EEG Fpz-Cz", "EOG horizontal"],
            }
        elif kind == "transcription":
            payload[source] = {"duration_s": 12}
        else:
            payload[source] = SAMPLE_TEXT
    return payload


def _preview(schema_text: str, payload_text: str | None) -> dict[str, Any]:
    """Parse the schema; on success, a sample item and a valid example answer for it."""
    schema = parse_schema(schema_text)
    as_dict = schema.to_dict()
    payload = sample_payload(as_dict)
    if payload_text and payload_text.strip():
        if len(payload_text) > MAX_PREVIEW_PAYLOAD:
            raise errors.InputError("the sample item is too large", field="payload")
        try:
            payload = json.loads(payload_text)
        except ValueError as exc:
            raise errors.InputError(
                f"the sample item is not valid JSON ({exc.args[0][:80]})", field="payload"
            ) from None
        if not isinstance(payload, dict):
            raise errors.InputError("the sample item must be a JSON object", field="payload")
    return {"schema": as_dict, "payload": payload, "result": example_result(schema, payload)}


def widget_strings(request: Request, actor: Actor) -> dict[str, str]:
    _ = gettext(request, actor)
    return {msgid: _(msgid) for msgid in JS_MESSAGES}


# ---------------------------------------------------------------- projects list


@router.get("/manage")
def manage_home(request: Request, actor: PageActor, db: Db) -> Response:
    """Projects the actor manages, and where they may open new ones."""
    with db.read() as session:
        views = [
            service.get_project_for(session, actor, p.id)
            for p in service.list_projects(session, actor, limit=500)
        ]
        managed = [v.project for v in views if ProjectAction.MANAGE in v.actions]
        orgs = {o.id: o.name for o in people.list_visible_organizations(session, actor)}
        can_create = bool(_creatable_orgs(session, actor))
    return render(
        request,
        "manage/home.html",
        {"projects": managed, "org_names": orgs, "can_create": can_create},
        actor=actor,
    )


# ---------------------------------------------------------------- new project


def _editor_context(
    session: Session, actor: Actor, values: dict[str, Any], request: Request
) -> dict[str, Any]:
    orgs = _creatable_orgs(session, actor)
    if not orgs:
        raise errors.NotAllowed(
            "only admins and managers of an institution can create projects", code="forbidden"
        )
    return {
        "orgs": orgs,
        "examples": example_schema_names(),
        "values": values,
        "widget_strings": widget_strings(request, actor),
    }


@router.get("/manage/projects/new")
def new_project_page(
    request: Request, actor: PageActor, db: Db, example: str = "choice"
) -> Response:
    if example not in example_schema_names():
        example = "choice"
    values = {
        "name": "",
        "schema": json.dumps(example_schema(example), indent=2, ensure_ascii=False),
        "example": example,
        "overlap": 1,
        "instructions": "",
        "owner_org_id": None,
    }
    with db.read() as session:
        context = _editor_context(session, actor, values, request)
    return render(request, "manage/new.html", context, actor=actor)


@router.post("/manage/projects/new")
async def create_project_submit(request: Request, actor: PageActor, db: Db) -> Response:
    fields = await _form_fields(request)
    values: dict[str, Any] = {
        "name": fields.get("name", "")[:200],
        "schema": fields.get("schema", ""),
        "example": fields.get("example", ""),
        "overlap": fields.get("overlap", "1")[:6],
        "instructions": fields.get("instructions", "")[:100_000],
        "owner_org_id": fields.get("owner_org_id", ""),
    }
    try:
        with db.write() as session:
            project = service.create_project(
                session,
                actor,
                owner_org_id=_int_field(fields, "owner_org_id"),
                name=values["name"],
                schema=values["schema"],
                overlap=_int_field(fields, "overlap", 1),
                instructions=values["instructions"],
            )
            project_id = project.id
    except errors.InputError as exc:
        with db.read() as session:
            context = _editor_context(session, actor, values, request)
        field = exc.field or ""
        context["error"] = {
            "message": exc.message,
            "field": field,
            "in_schema": exc.code == "invalid_schema",
        }
        return render(request, "manage/new.html", context, actor=actor, status_code=422)
    return redirect(f"/manage/projects/{project_id}")


@router.get("/manage/schema/examples/{name}")
def schema_example(name: str, actor: PageActor) -> Response:
    """A bundled example schema as editable text, for the editor's example picker."""
    del actor  # pages are for logged-in people only
    if name not in example_schema_names():
        raise errors.NotFound(f"no example schema {name!r}", field="name")
    text = json.dumps(example_schema(name), indent=2, ensure_ascii=False)
    return JSONResponse({"name": name, "text": text})


@router.post("/manage/schema/preview")
async def schema_preview(request: Request, actor: PageActor) -> Response:
    """Check a schema as the manager types; answer with the preview's data or the problem.

    A POST (the schema may be large), so it carries the CSRF token like any other; it
    changes nothing.
    """
    del actor  # only a logged-in person may use the parser
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
        return JSONResponse(
            {"ok": False, "error": {"message": "send {schema: text}", "field": "schema"}}, 422
        )
    payload = body.get("payload")
    try:
        data = _preview(body["schema"], payload if isinstance(payload, str) else None)
    except errors.InputError as exc:
        return JSONResponse(
            {"ok": False, "error": {"message": exc.message, "field": exc.field, "code": exc.code}}
        )
    return JSONResponse({"ok": True, **data})


# ---------------------------------------------------------------- project page


def _chart_data(summary: progress.ProjectProgress) -> dict[str, Any]:
    running = 0
    cumulative = []
    for bucket in summary.over_time.buckets:
        running += bucket.labels
        cumulative.append(running)
    before = summary.labels - running  # labels older than the series' window
    return {
        "unit": summary.over_time.unit,
        "buckets": [b.start.isoformat() for b in summary.over_time.buckets],
        "counts": [b.labels for b in summary.over_time.buckets],
        "cumulative": [before + n for n in cumulative],
    }


def _project_page(
    request: Request,
    actor: Actor,
    db: Db,
    project_id: int,
    *,
    notice: str | None = None,
    problem: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """Render the project page; `problem` is (section, message) for a refused form."""
    with db.read() as session:
        view = _managed_project(session, actor, project_id)
        project = view.project
        summary = progress.project_progress(
            session, project, secret=_secret(request), worker_limit=WORKER_ROWS
        )
        vendors = _vendor_organizations(session)
        owner = session.get(Organization, project.owner_org_id)
        is_admin = can_manage_members(actor, project.owner_org_id)
        members = people.list_members(session, project.owner_org_id) if is_admin else []
        pay = pay_summary(session, actor, project_id)
    context = {
        "project": project,
        "owner": owner,
        "summary": summary,
        "chart": _chart_data(summary),
        "stages": [(s, summary.items.by_stage.get(s, 0)) for s in STAGES],
        "stage_names": STAGE_NAMES,
        "state_names": STATE_NAMES,
        "granted": [v for v in vendors if v.id in view.vendor_ids],
        "grantable": [v for v in vendors if v.id not in view.vendor_ids],
        "is_admin": is_admin,
        "members": members,
        "roles": [r.value for r in MEMBER_ROLES],
        "role_names": ROLE_NAMES,
        "notice": notice,
        "problem": problem,
        "can_export": ProjectAction.EXPORT in view.actions,
        "pay": pay,
        "pay_money": partial(_pay_money, currency=pay["currency"]),
    }
    return render(request, "manage/project.html", context, actor=actor, status_code=status_code)


def _pay_money(minor: int | None, *, currency: str) -> str:
    from datadam.web.pages.work import _money

    return "—" if minor is None else _money(minor, currency)


@router.get("/manage/projects/{project_id}")
def project_page(
    request: Request, project_id: int, actor: PageActor, db: Db, done: str = ""
) -> Response:
    return _project_page(request, actor, db, project_id, notice=NOTICES.get(done))


def _refused(
    request: Request, actor: Actor, db: Db, project_id: int, section: str, exc: errors.DatadamError
) -> Response:
    """Show a refused vendor or member form on the project page, naming the problem."""
    if isinstance(exc, errors.Conflict):
        message = PROBLEMS["vendor_conflict" if section == "vendors" else "member_conflict"]
    else:
        message = PROBLEMS.get(exc.field or "", PROBLEMS["organization_id"])
    status = 409 if isinstance(exc, errors.Conflict) else 422
    return _project_page(
        request, actor, db, project_id, problem=(section, message), status_code=status
    )


@router.post("/manage/projects/{project_id}/vendors")
async def grant_vendor_submit(
    request: Request, project_id: int, actor: PageActor, db: Db
) -> Response:
    fields = await _form_fields(request)
    try:
        organization_id = _int_field(fields, "organization_id")
        with db.write() as session:
            view = _managed_project(session, actor, project_id)
            try:
                service.grant_vendor(session, view, actor, organization_id)
            except errors.NotFound as exc:  # an unknown vendor, not an unknown project
                raise errors.InputError(exc.message, field="organization_id") from None
    except (errors.InputError, errors.Conflict) as exc:
        return _refused(request, actor, db, project_id, "vendors", exc)
    return redirect(f"/manage/projects/{project_id}?done=vendor_added#vendors")


@router.post("/manage/projects/{project_id}/vendors/{organization_id}/remove")
def revoke_vendor_submit(
    request: Request, project_id: int, organization_id: int, actor: PageActor, db: Db
) -> Response:
    with db.write() as session:
        view = _managed_project(session, actor, project_id)
        service.revoke_vendor(session, view, actor, organization_id)
    return redirect(f"/manage/projects/{project_id}?done=vendor_removed#vendors")


@router.post("/manage/projects/{project_id}/members")
async def add_member_submit(
    request: Request, project_id: int, actor: PageActor, db: Db
) -> Response:
    """Give a registered person a role in the organisation that owns the project (admins)."""
    fields = await _form_fields(request)
    email = fields.get("email", "").strip().lower()[:254]
    role = fields.get("role", "")
    try:
        with db.write() as session:
            view = _managed_project(session, actor, project_id)
            org_id = view.project.owner_org_id
            if not can_manage_members(actor, org_id):
                raise errors.NotAllowed("only admins can add members", code="forbidden")
            if role not in {r.value for r in MEMBER_ROLES}:
                raise errors.InputError("choose a role", field="role")
            user_id = session.execute(select(User.id).where(User.email == email)).scalar()
            if user_id is None:
                raise errors.InputError("no registered person with that e-mail", field="email")
            people.add_membership(
                session,
                user_id=user_id,
                organization_id=org_id,
                role=Role(role),
                actor_id=actor.user_id,
            )
    except (errors.InputError, errors.Conflict) as exc:
        return _refused(request, actor, db, project_id, "members", exc)
    return redirect(f"/manage/projects/{project_id}?done=member_added#members")
