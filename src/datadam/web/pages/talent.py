"""The talent pool pages: a worker chooses the fields they show their history in and answers
offers; hiring organisations browse the pool and send offers, then record hires.

Forms post with the session's CSRF token and redirect back (post/redirect/get); refusals
come back as the page with the problem named.
"""

from __future__ import annotations

from fastapi import Request, Response

from datadam import errors
from datadam.access.actor import Actor
from datadam.accountability import talent
from datadam.domain.enums import Role
from datadam.i18n import N_
from datadam.web.deps import Db
from datadam.web.pages.common import PageActor, page_router, redirect, render

router = page_router()
NOTICES = {
    "fields": N_("Your talent pool choices are saved."),
    "offer_sent": N_("The offer was sent. You will see the person's name if they accept."),
    "accepted": N_("You accepted the offer. The organisation can now see your name and e-mail."),
    "declined": N_("You declined the offer."),
    "hired": N_("The hire is recorded."),
}
STATUS_NAMES = {
    "sent": N_("Waiting for an answer"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
    "withdrawn": N_("Withdrawn"),
    "hired": N_("Hired"),
}


def _secret(request: Request) -> str:
    return request.app.state.secret_key


async def _fields(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    found: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            found.setdefault(key, []).append(value)
    return found


def _page(
    request: Request,
    actor: Actor,
    db: Db,
    *,
    field: str = "",
    notice: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    secret = _secret(request)
    with db.read() as session:
        known = talent.known_fields(session)
        is_worker = bool(actor.orgs_with_role(Role.WORKER))
        mine = talent.my_fields(session, actor) if is_worker else []
        orgs = talent.hiring_orgs(session, actor)
        offers = talent.offers_for(session, actor, secret=secret)
        chosen = field if field in known else (known[0] if known and orgs else "")
        candidates = (
            talent.pool(session, actor, secret=secret, field=chosen) if orgs and chosen else []
        )
    return render(
        request,
        "talent/home.html",
        {
            "known": known,
            "is_worker": is_worker,
            "mine": mine,
            "orgs": orgs,
            "field": chosen,
            "candidates": candidates,
            "received": offers["received"],
            "sent": offers["sent"],
            "status_names": STATUS_NAMES,
            "notice": NOTICES.get(notice or ""),
            "problem": problem,
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/talent")
def talent_page(
    request: Request, actor: PageActor, db: Db, field: str = "", done: str = ""
) -> Response:
    return _page(request, actor, db, field=field[:64], notice=done)


@router.post("/talent/fields")
async def fields_submit(request: Request, actor: PageActor, db: Db) -> Response:
    form = await _fields(request)
    try:
        with db.write() as session:
            talent.set_fields(session, actor, form.get("field", []))
    except errors.InputError as exc:
        return _page(request, actor, db, problem=exc.message, status_code=422)
    return redirect("/talent?done=fields")


@router.post("/talent/offers")
async def offer_submit(request: Request, actor: PageActor, db: Db) -> Response:
    form = {k: v[0] for k, v in (await _fields(request)).items()}
    field = form.get("field", "")[:64]
    try:
        organization_id = int(form.get("organization_id", "0") or 0)
        with db.write() as session:
            talent.send_offer(
                session,
                actor,
                secret=_secret(request),
                organization_id=organization_id,
                candidate=form.get("candidate", "")[:40],
                field=field,
                title=form.get("title", "")[:200],
                message=form.get("message", "")[:5000],
            )
    except ValueError:
        return _page(
            request, actor, db, field=field, problem="choose an organisation", status_code=422
        )
    except (errors.InputError, errors.Conflict) as exc:
        status = 409 if isinstance(exc, errors.Conflict) else 422
        return _page(request, actor, db, field=field, problem=exc.message, status_code=status)
    return redirect(f"/talent?field={field}&done=offer_sent")


@router.post("/talent/offers/{offer_id}/respond")
async def respond_submit(request: Request, offer_id: int, actor: PageActor, db: Db) -> Response:
    form = {k: v[0] for k, v in (await _fields(request)).items()}
    accept = form.get("decision") == "accept"
    try:
        with db.write() as session:
            talent.respond(session, actor, offer_id, accept=accept)
    except errors.Conflict as exc:
        return _page(request, actor, db, problem=exc.message, status_code=409)
    return redirect("/talent?done=" + ("accepted" if accept else "declined"))


@router.post("/talent/offers/{offer_id}/hire")
def hire_submit(request: Request, offer_id: int, actor: PageActor, db: Db) -> Response:
    try:
        with db.write() as session:
            talent.record_hire(session, actor, offer_id)
    except errors.Conflict as exc:
        return _page(request, actor, db, problem=exc.message, status_code=409)
    return redirect("/talent?done=hired")
