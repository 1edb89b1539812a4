"""`datadam sampling-plan`: the ISO 2859-1 single sampling plan for a lot, as one JSON line.

Options are read as text and checked by `datadam.quality.sampling`, so any bad value (a lot size
that is not a whole number, an unknown level, an AQL outside the series) is one `error: ...` line
on stderr with exit code 2, never a traceback or a usage box.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from datadam.cli.context import reported_errors
from datadam.errors import InputError
from datadam.quality.sampling import LEVELS, SEVERITIES, plan


def _lot_size(text: str | None) -> int:
    if text is None:
        raise InputError("--lot-size is required", field="lot_size")
    try:
        return int(text.strip().replace("_", ""))
    except ValueError:
        raise InputError(
            f"lot size must be a whole number, not {text!r}", field="lot_size"
        ) from None


def sampling_plan_command(
    lot_size: Annotated[
        str | None, typer.Option("--lot-size", help="Items in the lot (at least 2).")
    ] = None,
    level: Annotated[
        str, typer.Option("--level", help=f"Inspection level: {', '.join(LEVELS)}.")
    ] = "II",
    aql: Annotated[
        str | None, typer.Option("--aql", help="AQL in percent, from 0.010 to 10 (e.g. 1.0).")
    ] = None,
    severity: Annotated[
        str, typer.Option("--severity", help=f"One of: {', '.join(SEVERITIES)}.")
    ] = "normal",
) -> None:
    """Print the ISO 2859-1 single sampling plan (code letter, sample size, Ac, Re) as JSON."""
    with reported_errors():
        size = _lot_size(lot_size)
        if aql is None:
            raise InputError("--aql is required", field="aql")
        result = plan(size, level, aql, severity.strip().lower())
    typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))


def register(app: typer.Typer) -> None:
    """Add the sampling commands to the main app."""
    app.command("sampling-plan")(sampling_plan_command)
