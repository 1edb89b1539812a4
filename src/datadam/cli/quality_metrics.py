"""`datadam quality-refresh`: recompute the live quality metrics of projects with new work.

Run it from cron (or with `--every`) so snapshots follow the work in batches: a project is
refreshed once `--batch` annotations arrived since its last snapshot. Prints one JSON line
per refreshed project.
"""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from datadam.cli.context import open_migrated, reported_errors
from datadam.quality import metrics


def quality_refresh_command(
    project_id: Annotated[
        int | None, typer.Argument(help="Only this project (default: every active one).")
    ] = None,
    batch: Annotated[
        int, typer.Option("--batch", min=1, help="New annotations that make a refresh due.")
    ] = metrics.BATCH,
    full: Annotated[
        bool, typer.Option("--full", help="Recode every annotation and fit from scratch.")
    ] = False,
    every: Annotated[
        float, typer.Option("--every", min=0, help="Repeat every N seconds (0: once).")
    ] = 0,
) -> None:
    with reported_errors():
        db = open_migrated()
        while True:
            due = [project_id] if project_id is not None else metrics.projects_due(db, batch=batch)
            for pid in due:
                result = (
                    metrics.refresh_metrics(db, pid, full=full)
                    if full or project_id is not None
                    else metrics.refresh_if_due(db, pid, batch=batch)
                )
                if result is not None:
                    print(
                        json.dumps(
                            {
                                "project_id": pid,
                                "new_annotations": result.new_annotations,
                                "answers": result.n_answers,
                                "seconds": round(result.seconds, 3),
                            }
                        ),
                        flush=True,
                    )
            if not every:
                return
            time.sleep(every)


def register(app: typer.Typer) -> None:
    app.command("quality-refresh")(quality_refresh_command)
