"""JSON API under /api/v1: one router module per resource."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from datadam.web.api import (
        assignments,
        auth,
        health,
        inspection,
        media,
        organizations,
        pay,
        projects,
        quality,
    )

    return [
        auth.router,
        health.router,
        organizations.router,
        projects.router,
        assignments.router,
        media.router,
        pay.router,
        quality.router,
        inspection.router,
    ]
