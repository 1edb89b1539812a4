"""Liveness and readiness for load balancers and the test harness."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from datadam.web.deps import Db

router = APIRouter(tags=["health"])


@router.get("/health")
def health(db: Db) -> dict[str, str]:
    """200 when the server can reach its database."""
    with db.read() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok"}
