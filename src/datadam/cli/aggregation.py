"""Commands of the aggregation engine: aggregate, agreement, overlap-replay.

Each command reads CSV files through `datadam.aggregation.io`; any problem with the input is a
`LabelFileError` (or a bad option value), printed as one `error: ...` line on stderr with exit
code 2, never a traceback.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from datadam.aggregation import METHODS, Answers, aggregate
from datadam.aggregation.agreement import agreement_report
from datadam.aggregation.io import LabelFileError, read_gold, read_labels
from datadam.aggregation.overlap import OverlapPolicy, replay

LabelsArg = Annotated[Path, typer.Argument(help="CSV file with header task,worker,label.")]
MethodOpt = Annotated[str, typer.Option("--method", "-m", help=f"One of: {', '.join(METHODS)}.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (auto's split, replay order).")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise _fail(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    return method


def _gold_array(answers: Answers, gold_path: Path) -> tuple[np.ndarray, int]:
    tasks, labels = read_gold(gold_path)
    return answers.encode_gold(tasks, labels)


def aggregate_command(
    labels: LabelsArg,
    method: MethodOpt = "auto",
    gold: Annotated[
        Path | None,
        typer.Option("--gold", help="CSV task,label: report accuracy as JSON on stderr."),
    ] = None,
    fix_gold: Annotated[
        bool,
        typer.Option("--fix-gold", help="Also fix the gold tasks' truth while fitting."),
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write task,label,confidence here.")
    ] = None,
    seed: SeedOpt = 0,
) -> None:
    """Aggregate crowd answers into one label per task with a confidence."""
    _check_method(method)
    try:
        answers = read_labels(labels)
        gold_idx, unscorable = _gold_array(answers, gold) if gold is not None else (None, 0)
    except LabelFileError as exc:
        raise _fail(str(exc)) from None
    start = time.perf_counter()
    result = aggregate(
        answers, method, gold=gold_idx if (fix_gold and gold_idx is not None) else None, seed=seed
    )
    seconds = time.perf_counter() - start
    names = answers.labels.astype(str)[result.labels]
    conf = result.confidence
    try:
        handle = output.open("w", newline="") if output is not None else sys.stdout
    except OSError as exc:
        raise _fail(f"{output}: cannot write ({exc.strerror or exc})") from None
    try:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["task", "label", "confidence"])
        writer.writerows(
            zip(answers.tasks.astype(str), names, (f"{c:.6f}" for c in conf), strict=True)
        )
    finally:
        if output is not None:
            handle.close()
    if gold_idx is not None:
        known = gold_idx >= 0
        correct = int((result.labels[known] == gold_idx[known]).sum())
        n_gold = int(known.sum()) + unscorable
        report = {
            "method": method,
            "selected": result.method,
            "accuracy": round(correct / max(n_gold, 1), 6),
            "n_tasks": answers.n_tasks,
            "n_workers": answers.n_workers,
            "n_answers": answers.n_answers,
            "n_gold": n_gold,
            "seconds": round(seconds, 6),
        }
        typer.echo(json.dumps(report), err=True)


def agreement_command(
    labels: LabelsArg,
    method: Annotated[
        str, typer.Option("--method", "-m", help="Method whose labels workers are compared to.")
    ] = "ds",
    min_shared: Annotated[
        int, typer.Option("--min-shared", help="Tasks two workers must share for Cohen's kappa.")
    ] = 5,
) -> None:
    """Print agreement metrics as one JSON line."""
    _check_method(method)
    try:
        answers = read_labels(labels)
    except LabelFileError as exc:
        raise _fail(str(exc)) from None
    labels_idx = aggregate(answers, method).labels
    report = agreement_report(answers, labels_idx, min_shared=max(min_shared, 1))
    report["method"] = method
    typer.echo(json.dumps(report))


def overlap_replay_command(
    labels: LabelsArg,
    gold: Annotated[Path, typer.Option("--gold", help="CSV task,label with the truth.")],
    threshold: Annotated[float, typer.Option("--threshold", help="Stop at this confidence.")] = 0.9,
    min_labels: Annotated[int, typer.Option("--min", help="Never stop before this many.")] = 1,
    max_labels: Annotated[
        int | None,
        typer.Option("--max", help="Never ask beyond this many (default: the most any task has)."),
    ] = None,
    method: MethodOpt = "ds",
    seed: SeedOpt = 0,
) -> None:
    """Replay a full label set under the dynamic-overlap policy; print one JSON line."""
    _check_method(method)
    try:
        answers = read_labels(labels)
        gold_idx, unscorable = _gold_array(answers, gold)
    except LabelFileError as exc:
        raise _fail(str(exc)) from None
    cap = max_labels if max_labels is not None else int(answers.task_counts.max())
    try:
        policy = OverlapPolicy(threshold=threshold, min_labels=min_labels, max_labels=cap)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    report = replay(answers, gold_idx, policy, method=method, seed=seed, n_unscorable=unscorable)
    out = report.as_dict()
    out.update(threshold=threshold, min=min_labels, max=cap, seed=seed)
    typer.echo(json.dumps(out))


def register(app: typer.Typer) -> None:
    """Add the aggregation commands to the main app."""
    app.command("aggregate")(aggregate_command)
    app.command("agreement")(agreement_command)
    app.command("overlap-replay")(overlap_replay_command)
