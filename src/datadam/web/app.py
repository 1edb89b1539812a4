"""The web application: `create_app()` wires settings, database, routers and error handling.

Run with `datadam serve`, or `uvicorn --factory datadam.web.app:create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI

from datadam import __version__
from datadam.access.passwords import check_password_profile
from datadam.settings import Settings, get_settings
from datadam.storage.db import Database, open_database
from datadam.web.errors import install_error_handlers
from datadam.web.fastpath import WorkerLoopFastPath
from datadam.web.limits import RequestLimits, request_limits
from datadam.web.security import SecurityHeaders


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = db or open_database(settings.resolved_database_url)
    app = FastAPI(
        title="datadam",
        version=__version__,
        description="Build AI training data together: projects, items, assignments, labels.",
        docs_url="/docs" if settings.show_docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.show_docs else None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.secret_key = settings.resolved_secret_key()
    check_password_profile(settings)
    install_error_handlers(app)
    _include_routers(app)
    app.add_middleware(WorkerLoopFastPath)  # innermost: after the limits, inside the headers
    app.add_middleware(RequestLimits, **request_limits(settings))
    app.add_middleware(SecurityHeaders, trust_proxy=settings.trust_proxy)
    return app


def _include_routers(app: FastAPI) -> None:
    from datadam.web import api, pages

    for router in api.routers():
        app.include_router(router, prefix="/api/v1")
    for router in pages.routers():
        app.include_router(router)
    app.mount("/static", pages.static_files(), name="static")
