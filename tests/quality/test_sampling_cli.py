"""`datadam sampling-plan`: one JSON line, or one `error:` line with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from datadam.cli.main import app

runner = CliRunner()


def test_prints_one_json_line() -> None:
    result = runner.invoke(
        app, ["sampling-plan", "--lot-size", "1000", "--level", "II", "--aql", "1.0"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    got = json.loads(lines[0])
    assert {k: got[k] for k in ("code_letter", "sample_size", "accept", "reject")} == {
        "code_letter": "J",
        "sample_size": 80,
        "accept": 2,
        "reject": 3,
    }
    assert got["whole_lot"] is False
    assert (got["severity"], got["level"], got["aql"]) == ("normal", "II", 1.0)


@pytest.mark.parametrize(
    ("severity", "expected"), [("tightened", (80, 1, 2)), ("reduced", (32, 1, 3))]
)
def test_severity_option(severity: str, expected: tuple[int, int, int]) -> None:
    args = ["sampling-plan", "--lot-size", "1000", "--aql", "1.0", "--severity", severity]
    got = json.loads(runner.invoke(app, args).stdout)
    assert (got["sample_size"], got["accept"], got["reject"]) == expected


def test_whole_lot_in_output() -> None:
    got = json.loads(runner.invoke(app, ["sampling-plan", "--lot-size", "4", "--aql", "10"]).stdout)
    assert got["whole_lot"] is True and got["sample_size"] == 4


@pytest.mark.parametrize(
    "args",
    [
        ["--lot-size", "1", "--aql", "1.0"],
        ["--lot-size", "ten", "--aql", "1.0"],
        ["--lot-size", "100", "--level", "IV", "--aql", "1.0"],
        ["--lot-size", "100", "--aql", "0.3"],
        ["--lot-size", "100", "--aql", "25"],
        ["--lot-size", "100", "--aql", "1.0", "--severity", "lenient"],
        ["--aql", "1.0"],
        ["--lot-size", "100"],
    ],
)
def test_bad_input_is_one_error_line(args: list[str]) -> None:
    result = runner.invoke(app, ["sampling-plan", *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr


def test_real_process() -> None:
    command = [sys.executable, "-m", "datadam.cli.main", "sampling-plan"]
    ok = subprocess.run(
        [*command, "--lot-size", "500", "--level", "S-3", "--aql", "4.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["code_letter"] == "D"
    bad = subprocess.run(
        [*command, "--lot-size", "0", "--aql", "1"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and bad.stdout == ""
    assert "Traceback" not in bad.stderr
