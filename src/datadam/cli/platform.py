"""Platform commands: serve, demo, db, user, project, import, export.

Their forms are fixed (scripts rely on them): see the README's CLI reference.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from datadam.cli.context import fail, open_migrated, reported_errors

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
user_app = typer.Typer(help="People and their roles.", no_args_is_help=True)
project_app = typer.Typer(help="Projects.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the platform commands to the main app."""
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.add_typer(db_app, name="db")
    app.add_typer(user_app, name="user")
    app.add_typer(project_app, name="project")
    app.command("import")(import_command)
    app.command("export")(export_command)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
) -> None:
    """Run the web server (API at /api/v1, pages at /)."""
    import uvicorn

    from datadam.settings import get_settings

    settings = get_settings()
    with reported_errors():
        try:
            settings.resolved_secret_key()
        except ValueError as exc:
            raise fail(str(exc), 2) from None
        open_migrated(settings).dispose()
    from datadam.web.server import HeadTimeoutProtocol

    uvicorn.run(
        "datadam.web.app:create_app",
        factory=True,
        http=HeadTimeoutProtocol,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


def demo(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Only create the demo data.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Create ./datadam-data with demo organisations, people and projects, then serve."""
    from datadam.demo import DEMO_PASSWORD, seed_demo
    from datadam.settings import get_settings

    settings = get_settings()
    with reported_errors():
        db = open_migrated(settings)
        logins = seed_demo(db, settings)
        db.dispose()
    print(f"datadam demo data in {settings.data_dir.resolve()}")
    print(f"open http://{host}:{port}/  — every demo login uses the password {DEMO_PASSWORD!r}:")
    for email, what in logins:
        print(f"  {email:<34} {what}")
    if not no_serve:
        serve(host=host, port=port, workers=1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending schema migration (safe to repeat)."""
    from datadam.storage.migrate import current_revision

    with reported_errors():
        db = open_migrated()
        print(json.dumps({"revision": current_revision(db.engine)}))


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Login e-mail.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    org: Annotated[str | None, typer.Option(help="Organisation slug to join.")] = None,
    role: Annotated[
        str, typer.Option(help="admin, manager, worker, inspector or auditor.")
    ] = "worker",
    password: Annotated[
        str | None,
        typer.Option(
            help="Password (asked for when not given; or DATADAM_PASSWORD).",
            envvar="DATADAM_PASSWORD",
        ),
    ] = None,
) -> None:
    """Register a person, optionally with a role in an organisation."""
    from datadam.access import people
    from datadam.access.passwords import check_new_password, hash_password
    from datadam.domain.enums import Role
    from datadam.settings import get_settings

    if role not in {r.value for r in Role}:
        raise fail(f"unknown role {role!r}; use admin, manager, worker, inspector or auditor")
    secret = password or getpass.getpass("password: ")
    settings = get_settings()
    with reported_errors():
        check_new_password(secret)
        db = open_migrated(settings)
        with db.write() as session:
            user = people.create_user(
                session,
                email=email,
                display_name=name or email,
                password_hash=hash_password(secret, settings=settings),
            )
            if org:
                organization = people.get_organization_by_slug(session, org)
                people.add_membership(
                    session, user_id=user.id, organization_id=organization.id, role=Role(role)
                )
            print(json.dumps({"id": user.id, "email": user.email, "pseudonym": user.pseudonym}))


def _default_institution(session: object, slug: str | None) -> int:
    from sqlalchemy import select

    from datadam.access import people
    from datadam.domain.enums import OrgKind
    from datadam.storage.tables import Organization

    if slug:
        org = people.get_organization_by_slug(session, slug)  # type: ignore[arg-type]
        if org.kind != OrgKind.INSTITUTION.value:
            raise fail(f"organisation {slug!r} is a {org.kind}; projects belong to institutions")
        return org.id
    rows = (
        session.execute(  # type: ignore[attr-defined]
            select(Organization).where(Organization.kind == OrgKind.INSTITUTION.value)
        )
        .scalars()
        .all()
    )
    if len(rows) == 1:
        return rows[0].id
    if rows:
        raise fail("several institutions exist; choose one with --org SLUG")
    org = people.create_organization(
        session,
        slug="local",
        name="Local institution",
        kind=OrgKind.INSTITUTION,  # type: ignore[arg-type]
    )
    return org.id


@project_app.command("create")
def project_create(
    name: Annotated[str, typer.Option(help="Project name.")],
    schema: Annotated[Path, typer.Option(help="Labeling schema file (JSON or YAML).")],
    org: Annotated[str | None, typer.Option(help="Owning institution's slug.")] = None,
    overlap: Annotated[int, typer.Option(help="Labels wanted per item.")] = 1,
) -> None:
    """Create a project; prints its id."""
    from datadam.audit import record_event
    from datadam.projects.service import _check_settings, parse_project_schema
    from datadam.storage.tables import Project

    with reported_errors():
        raw = schema.read_text(encoding="utf-8")
        parsed = parse_project_schema(raw)
        _check_settings(overlap, None)
        db = open_migrated()
        with db.write() as session:
            owner = _default_institution(session, org)
            project = Project(
                owner_org_id=owner,
                name=name.strip(),
                schema=parsed,
                overlap=overlap,
                status="active",
            )
            session.add(project)
            session.flush()
            record_event(
                session,
                actor_id=None,
                action="project.create",
                object_type="project",
                object_id=project.id,
                organization_id=owner,
                project_id=project.id,
                after={"name": project.name, "overlap": overlap, "via": "cli"},
            )
            print(project.id)


@project_app.command("list")
def project_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List projects with their item and annotation counts."""
    from sqlalchemy import func, select

    from datadam.storage.tables import Annotation, Item, Project

    with reported_errors():
        db = open_migrated()
        with db.read() as session:
            items = dict(
                session.execute(
                    select(Item.project_id, func.count()).group_by(Item.project_id)
                ).all()
            )
            notes = dict(
                session.execute(
                    select(Annotation.project_id, func.count()).group_by(Annotation.project_id)
                ).all()
            )
            for p in session.execute(select(Project).order_by(Project.id)).scalars():
                row = {
                    "id": p.id,
                    "name": p.name,
                    "owner_org_id": p.owner_org_id,
                    "overlap": p.overlap,
                    "status": p.status,
                    "items": items.get(p.id, 0),
                    "annotations": notes.get(p.id, 0),
                }
                if as_json:
                    print(json.dumps(row, ensure_ascii=False))
                else:
                    print(
                        f"{p.id:>5}  {p.name}  items={row['items']} "
                        f"annotations={row['annotations']}"
                    )


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    )


def import_command(
    project_id: Annotated[int | None, typer.Argument(help="Project id.")] = None,
    file: Annotated[Path | None, typer.Argument(help="JSONL, JSON array or CSV file.")] = None,
    resume: Annotated[int | None, typer.Option(help="Finish an interrupted import.")] = None,
) -> None:
    """Import items (one per JSON object or CSV row); prints imported, duplicates, seconds."""
    from datadam.importing.service import ImportRejected, import_file, resume_import

    if resume is None and (project_id is None or file is None):
        raise fail("give PROJECT_ID and FILE, or --resume IMPORT_ID")
    with reported_errors():
        db = open_migrated()
        with _progress() as bar:
            task = bar.add_task("importing", total=None)

            def on_progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            try:
                if resume is not None:
                    summary = resume_import(db, resume, progress=on_progress)
                else:
                    assert file is not None and project_id is not None
                    if not file.is_file():
                        raise fail(f"no such file: {file}")
                    summary = import_file(
                        db, project_id=project_id, path=file, progress=on_progress
                    )
            except ImportRejected as exc:
                for problem in exc.errors[1:]:
                    print(f"error: {problem['message']}", file=__import__("sys").stderr)
                raise
        print(
            json.dumps(
                {
                    "imported": summary.imported,
                    "duplicates": summary.duplicates,
                    "seconds": summary.seconds,
                    "import_id": summary.import_id,
                }
            )
        )


def export_command(
    project_id: Annotated[int, typer.Argument(help="Project id.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="JSONL file to write.")],
) -> None:
    """Export every item with its annotations as JSONL (written atomically)."""
    import time

    from datadam.errors import NotFound
    from datadam.exporting.jsonl import write_export
    from datadam.settings import get_settings
    from datadam.storage.tables import Project

    settings = get_settings()
    with reported_errors():
        db = open_migrated(settings)
        with db.read() as session:
            if session.get(Project, project_id) is None:
                raise NotFound(f"no project {project_id}")
        started = time.perf_counter()
        counts = write_export(
            db, project_id=project_id, secret=settings.resolved_secret_key(), out=output
        )
        print(json.dumps(counts | {"seconds": round(time.perf_counter() - started, 3)}))
