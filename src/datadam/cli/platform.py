"""Platform commands: serve, demo, db, user, project, import, export."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the platform commands to the main app."""
