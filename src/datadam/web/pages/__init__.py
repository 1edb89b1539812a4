"""Server-rendered HTML pages (Jinja2 + htmx)."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    return []
