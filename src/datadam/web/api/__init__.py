"""JSON API under /api/v1: one router module per resource."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from datadam.web.api import (
        accountability,
        assignments,
        auth,
        health,
        inspection,
        media,
        organizations,
        pay,
        projects,
        quality,
        quality_report,
    )

    return [
        auth.router,
        health.router,
        organizations.router,
        projects.router,
        assignments.router,
        media.router,
        pay.router,
        accountability.router,
        quality.router,
        quality_report.router,
        inspection.router,
    ]
