"""JSON API under /api/v1: one router module per resource."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from datadam.web.api import assignments, health, organizations, projects

    found = [health.router, organizations.router, projects.router, assignments.router]
    try:
        from datadam.web.api import auth
    except ImportError:  # pragma: no cover - during bootstrap only
        return found
    return [auth.router, *found]
