"""The `datadam` command line: one Typer app; each concept registers its own commands."""

from __future__ import annotations

import typer

from datadam.cli import aggregation, pay, platform, quality_metrics, sampling

app = typer.Typer(
    help="datadam: build AI training data together.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

platform.register(app)
aggregation.register(app)
pay.register(app)
sampling.register(app)
quality_metrics.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()
