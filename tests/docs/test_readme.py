"""The README documents every setting and every CLI command (so they cannot drift apart)."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command

from datadam.cli.main import app
from datadam.settings import Settings

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [
        f"DATADAM_{name.upper()}"
        for name in Settings.model_fields
        if f"`DATADAM_{name.upper()}`" not in README
    ]
    assert missing == []


def test_every_setting_has_a_description() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_every_cli_command_is_documented() -> None:
    command = get_command(app)
    names = sorted(command.commands)  # type: ignore[attr-defined]
    assert {"serve", "demo", "import", "export", "aggregate"} <= set(names)
    missing = [name for name in names if f"`datadam {name}" not in README]
    assert missing == []
