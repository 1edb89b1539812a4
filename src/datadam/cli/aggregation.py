"""Commands of the aggregation engine: aggregate, agreement, overlap-replay."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the aggregation commands to the main app."""
