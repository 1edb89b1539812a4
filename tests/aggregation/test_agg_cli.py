"""The aggregate, agreement and overlap-replay commands, end to end on small generated files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from datadam.aggregation.synthetic import simulate_crowd
from datadam.cli.main import app

runner = CliRunner()


@pytest.fixture
def label_files(tmp_path: Path) -> tuple[Path, Path]:
    """A 300-task crowd as labels.csv, and gold.csv with one extra task nobody answered."""
    answers, truth = simulate_crowd(n_tasks=300, n_workers=25, n_classes=3, answers_per_task=5)
    names = np.array(["cat", "dog", "emu"])
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["task", "worker", "label"])
        for t, wk, lab in zip(answers.task_idx, answers.worker_idx, answers.label_idx, strict=True):
            w.writerow([f"item-{t}", f"w{wk}", names[lab]])
    gold = tmp_path / "gold.csv"
    with gold.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["task", "label"])
        for t, lab in enumerate(truth):
            w.writerow([f"item-{t}", names[lab]])
        w.writerow(["item-unanswered", "cat"])
    return labels, gold


@pytest.mark.parametrize("method", ["mv", "wawa", "ds", "onecoin", "glad", "mace", "auto"])
def test_aggregate_writes_labels_and_reports_accuracy(
    label_files: tuple[Path, Path], tmp_path: Path, method: str
) -> None:
    labels, gold = label_files
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app, ["aggregate", str(labels), "--method", method, "--gold", str(gold), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 300 and set(rows[0]) == {"task", "label", "confidence"}
    assert all(0.0 <= float(r["confidence"]) <= 1.0 for r in rows)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["method"] == method
    assert report["n_gold"] == 301  # the unanswered gold task counts, as wrong
    assert 0.7 < report["accuracy"] < 300 / 301 + 1e-9
    assert {"n_tasks", "n_workers", "n_answers", "seconds"} <= set(report)


def test_aggregate_prints_csv_to_stdout_without_output(label_files: tuple[Path, Path]) -> None:
    labels, _ = label_files
    result = runner.invoke(app, ["aggregate", str(labels), "--method", "mv"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "task,label,confidence"
    assert result.stderr == ""


def test_fix_gold_agrees_with_gold(label_files: tuple[Path, Path]) -> None:
    labels, gold = label_files
    result = runner.invoke(
        app, ["aggregate", str(labels), "--method", "ds", "--gold", str(gold), "--fix-gold"]
    )
    assert json.loads(result.stderr)["accuracy"] == pytest.approx(300 / 301)


def test_agreement_prints_one_json_line(label_files: tuple[Path, Path]) -> None:
    labels, _ = label_files
    result = runner.invoke(app, ["agreement", str(labels)])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    for key in ("percent_agreement", "fleiss_kappa", "krippendorff_alpha", "cohen_kappa_mean"):
        assert -1.0 <= report[key] <= 1.0
    assert len(report["worker_agreement"]) == 25


def test_overlap_replay_prints_policy_and_full(label_files: tuple[Path, Path]) -> None:
    labels, gold = label_files
    result = runner.invoke(
        app,
        ["overlap-replay", str(labels), "--gold", str(gold), "--threshold", "0.9", "--seed", "1"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["labels_full"] == 1500 and report["labels_used"] <= 1500
    assert report["max"] == 5 and report["seed"] == 1
    assert 0.0 <= report["accuracy"] <= 1.0 and 0.0 <= report["accuracy_full"] <= 1.0


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header = tmp_path / "header.csv"
    header.write_text("item,annotator,answer\na,b,c\n")
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    return {
        "missing": tmp_path / "missing.csv",
        "empty": empty,
        "header": header,
        "binary": binary,
    }


@pytest.mark.parametrize("case", ["missing", "empty", "header", "binary"])
@pytest.mark.parametrize("command", ["aggregate", "agreement", "overlap-replay"])
def test_bad_label_files_exit_2_with_one_line(
    label_files: tuple[Path, Path], tmp_path: Path, case: str, command: str
) -> None:
    bad = _bad_inputs(tmp_path)[case]
    _, gold = label_files
    args = [command, str(bad)] + (["--gold", str(gold)] if command == "overlap-replay" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("case", ["missing", "empty", "header", "binary"])
def test_bad_gold_files_exit_2(label_files: tuple[Path, Path], tmp_path: Path, case: str) -> None:
    labels, _ = label_files
    bad = _bad_inputs(tmp_path)[case]
    for args in (
        ["aggregate", str(labels), "--gold", str(bad)],
        ["overlap-replay", str(labels), "--gold", str(bad)],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_method_exit_2(label_files: tuple[Path, Path]) -> None:
    labels, _ = label_files
    result = runner.invoke(app, ["aggregate", str(labels), "--method", "median"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unknown method")


def test_bad_policy_settings_exit_2(label_files: tuple[Path, Path]) -> None:
    labels, gold = label_files
    result = runner.invoke(
        app, ["overlap-replay", str(labels), "--gold", str(gold), "--min", "4", "--max", "2"]
    )
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
