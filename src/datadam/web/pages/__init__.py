"""Server-rendered HTML pages (Jinja2 + htmx), and the static files they use.

Each page module exposes `router`, made with `common.page_router()` so errors render as
HTML. Manager and inspector pages register here when their modules exist.
"""

from __future__ import annotations

from importlib import import_module

from fastapi import APIRouter
from starlette.staticfiles import StaticFiles

from datadam.web.pages.common import STATIC_DIR

# Order matters only for identical paths. Optional modules are skipped until they exist.
_MODULES = ("common", "work", "pay", "quality")
_OPTIONAL_MODULES = ("manage", "inspect")
_MODULES += ("program", "talent")  # oversight pages and the talent pool
_MODULES += ("quality_report",)  # live quality metrics and the quality report


def routers() -> list[APIRouter]:
    found = [import_module(f"datadam.web.pages.{name}").router for name in _MODULES]
    for name in _OPTIONAL_MODULES:
        try:
            module = import_module(f"datadam.web.pages.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"datadam.web.pages.{name}":
                raise
            continue
        found.append(module.router)
    return found


def static_files() -> StaticFiles:
    """The `/static` mount: CSS, the page scripts, widgets and vendored libraries."""
    return StaticFiles(directory=STATIC_DIR)
