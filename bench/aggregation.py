"""Benchmark of the aggregation engine: accuracy and fit time, ours beside Crowd-Kit's.

    .venv/bin/python bench/aggregation.py                 # everything, writes the Markdown
    .venv/bin/python bench/aggregation.py --no-crowdkit   # ours only
    .venv/bin/python bench/aggregation.py --only synthetic

Parts: `sets` (every categorical set under ../shared/datasets/crowd/, each method of ours and,
when a Crowd-Kit interpreter is available, Crowd-Kit's same-named method on the same files),
`agreement` (our metrics' time, Krippendorff's alpha ours vs the `krippendorff` library),
`overlap` (dynamic-overlap replay vs full overlap) and `synthetic` (1,000,000 answers: time
and peak memory of every method). Every figure is printed as one JSON line; the tables go to
docs/benchmarks/aggregation.md.

Crowd-Kit is never a dependency of datadam: it runs in its own interpreter, found by
`--crowdkit-python`, else $DATADAM_CROWDKIT_PYTHON, else /tmp/ckenv/bin/python. Make one with

    python3 -m venv /tmp/ckenv
    /tmp/ckenv/bin/pip install crowd-kit==1.4.2 'scikit-learn<1.6' 'pandas<3'

Each Crowd-Kit fit runs in a fresh process with a timeout (`--timeout`, default 120 s); only
the fit is timed, inside that process. Our fit time is the median of `--repeat` runs (default
3), each on a fresh `Answers` object so no cached matrix is reused; it includes building the
sparse answer matrix.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from datadam.aggregation import METHODS, Answers, aggregate
from datadam.aggregation.agreement import (
    cohen_kappa_pairs,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)
from datadam.aggregation.io import read_gold, read_labels
from datadam.aggregation.overlap import OverlapPolicy, replay
from datadam.aggregation.synthetic import simulate_crowd

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETS = ROOT.parent / "shared" / "datasets" / "crowd"
DEFAULT_MD = ROOT / "docs" / "benchmarks" / "aggregation.md"
OURS = ["mv", "wawa", "ds", "onecoin", "glad", "mace", "auto"]
#: Crowd-Kit class for each of our method names (ZeroBasedSkill has no twin of ours but is one
#: of the "best Crowd-Kit method" candidates).
CROWDKIT = {
    "mv": "MajorityVote",
    "wawa": "Wawa",
    "zbs": "ZeroBasedSkill",
    "ds": "DawidSkene",
    "onecoin": "OneCoinDawidSkene",
    "glad": "GLAD",
    "mace": "MACE",
}

# Runs inside the Crowd-Kit interpreter: fit one method on one file, print JSON.
CROWDKIT_SCRIPT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from crowdkit import aggregation as agg
path, name = sys.argv[1], sys.argv[2]
df = pd.read_csv(path, dtype=str, keep_default_na=False)[["task", "worker", "label"]]
model = getattr(agg, name)()
start, cpu = time.perf_counter(), time.process_time()
labels = model.fit_predict(df)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"seconds": seconds, "cpu": cpu,
                  "labels": {str(k): str(v) for k, v in labels.items()}}))
"""


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def list_sets(root: Path) -> list[Path]:
    """Categorical sets: folders with labels.csv and gold.csv whose meta.json (if any) is not
    numeric."""
    out = []
    for d in sorted(root.iterdir()):
        if not (d / "labels.csv").is_file() or not (d / "gold.csv").is_file():
            continue
        meta = d / "meta.json"
        if meta.is_file() and json.loads(meta.read_text()).get("kind") == "numeric":
            continue
        out.append(d)
    return out


def fresh(answers: Answers) -> Answers:
    """A copy without cached matrices, so each timed fit pays for its own set-up."""
    return Answers(
        task_idx=answers.task_idx.copy(),
        worker_idx=answers.worker_idx.copy(),
        label_idx=answers.label_idx.copy(),
        tasks=answers.tasks,
        workers=answers.workers,
        labels=answers.labels,
    )


def gold_accuracy(predicted: dict[str, str], gold: tuple[np.ndarray, np.ndarray]) -> float:
    tasks, labels = gold
    hits = sum(
        predicted.get(t) == lab for t, lab in zip(tasks.tolist(), labels.tolist(), strict=True)
    )
    return hits / len(tasks)


def run_ours(answers: Answers, method: str, repeat: int) -> tuple[Any, float, float]:
    """Fit `repeat` times; the result and the median wall and CPU seconds."""
    times, cpus, result = [], [], None
    for _ in range(repeat):
        a = fresh(answers)
        start, cpu = time.perf_counter(), time.process_time()
        result = aggregate(a, method)
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return result, float(np.median(times)), float(np.median(cpus))


def run_crowdkit(python: str, labels: Path, name: str, timeout: float) -> dict[str, Any]:
    try:
        proc = subprocess.run(
            [python, "-c", CROWDKIT_SCRIPT, str(labels), name],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"status": "error", "error": tail[:200]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"status": "ok", **out}


def bench_sets(args: argparse.Namespace, ck_python: str | None) -> list[dict[str, Any]]:
    rows = []
    for d in list_sets(args.datasets):
        answers = read_labels(d / "labels.csv")
        gold = read_gold(d / "gold.csv")
        task_names = answers.tasks.astype(str)
        label_names = answers.labels.astype(str)
        row: dict[str, Any] = {
            "set": d.name,
            "answers": answers.n_answers,
            "tasks": answers.n_tasks,
            "classes": answers.n_classes,
            "per_task": answers.n_answers / answers.n_tasks,
            "ours": {},
            "crowdkit": {},
        }
        for method in OURS:
            result, seconds, cpu = run_ours(answers, method, args.repeat)
            predicted = dict(
                zip(task_names.tolist(), label_names[result.labels].tolist(), strict=True)
            )
            acc = gold_accuracy(predicted, gold)
            row["ours"][method] = {
                "accuracy": acc,
                "seconds": seconds,
                "cpu": cpu,
                "chosen": result.method,
            }
            emit(
                {
                    "part": "sets",
                    "impl": "datadam",
                    "set": d.name,
                    "method": method,
                    "accuracy": round(acc, 4),
                    "seconds": round(seconds, 4),
                    "cpu": round(cpu, 4),
                    "chosen": result.method,
                }
            )
        if ck_python:
            for method, name in CROWDKIT.items():
                res = run_crowdkit(ck_python, d / "labels.csv", name, args.timeout)
                if res["status"] == "ok":
                    res["accuracy"] = gold_accuracy(res.pop("labels"), gold)
                row["crowdkit"][method] = res
                emit(
                    {
                        "part": "sets",
                        "impl": "crowdkit",
                        "set": d.name,
                        "method": name,
                        **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()},
                    }
                )
        rows.append(row)
    return rows


def bench_agreement(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for d in list_sets(args.datasets):
        answers = read_labels(d / "labels.csv")
        timings: dict[str, Any] = {"set": d.name, "answers": answers.n_answers}
        for name, fn in (
            ("percent", percent_agreement),
            ("fleiss", fleiss_kappa),
            ("alpha_own", krippendorff_alpha),
            ("alpha_library", lambda a: krippendorff_alpha(a, engine="library")),
            ("cohen_pairs", lambda a: cohen_kappa_pairs(a).mean()),
        ):
            a = fresh(answers)
            start = time.perf_counter()
            value = fn(a)
            timings[name] = {"value": value, "seconds": time.perf_counter() - start}
        rows.append(timings)
        emit({"part": "agreement", **{k: v for k, v in timings.items()}})
    return rows


def bench_overlap(args: argparse.Namespace) -> dict[str, Any]:
    rows = []
    for d in list_sets(args.datasets):
        answers = read_labels(d / "labels.csv")
        if answers.n_answers / answers.n_tasks < 4:
            continue
        g_tasks, g_labels = read_gold(d / "gold.csv")
        gold, unscorable = answers.encode_gold(g_tasks, g_labels)
        cap = int(answers.task_counts.max())
        policy = OverlapPolicy(threshold=args.threshold, max_labels=cap)
        for seed in range(args.overlap_seeds):
            rep = replay(answers, gold, policy, method="ds", seed=seed, n_unscorable=unscorable)
            rows.append({"set": d.name, "seed": seed, **rep.as_dict()})
            emit({"part": "overlap", "set": d.name, "seed": seed, **rep.as_dict()})
    return {"threshold": args.threshold, "seeds": args.overlap_seeds, "rows": rows}


def bench_synthetic(args: argparse.Namespace) -> list[dict[str, Any]]:
    answers, truth = simulate_crowd(
        n_tasks=100_000, n_workers=1_000, n_classes=5, answers_per_task=10, seed=0
    )
    rows = []
    for method in OURS:
        result, seconds, cpu = run_ours(answers, method, args.repeat)
        a = fresh(answers)
        tracemalloc.start()
        aggregate(a, method)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        row = {
            "method": method,
            "chosen": result.method,
            "seconds": seconds,
            "cpu": cpu,
            "peak_mb": peak / 1e6,
            "accuracy": float((result.labels == truth).mean()),
            "iterations": result.iterations,
        }
        rows.append(row)
        emit({"part": "synthetic", "answers": answers.n_answers, **row})
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append({"method": "process", "max_rss_mb": rss})
    emit({"part": "synthetic", "process_max_rss_mb": round(rss, 1)})
    return rows


def _f(v: float | None, digits: int = 4) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def _ck_cell(res: dict[str, Any] | None, key: str, digits: int) -> str:
    if not res:
        return "n/a"
    if res["status"] != "ok":
        return res["status"]
    return _f(res[key], digits)


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Aggregation benchmark",
        "",
        f"Written by `bench/aggregation.py` on {report['when']} ({report['machine']}).",
        "Accuracy is over each set's gold tasks; times are fit seconds (ours: median of "
        f"{report['repeat']} runs, including building the sparse answer matrix; Crowd-Kit "
        f"{report.get('crowdkit_version', '1.4.2')}: one fit in a fresh process, "
        f"timeout {report['timeout']:.0f} s). Compare times within this run only. Command:",
        "",
        "```",
        report["command"],
        "```",
        "",
    ]
    if report.get("note"):
        lines += [report["note"], ""]
    sets = report.get("sets")
    if sets:
        cols = ["mv", "wawa", "ds", "onecoin", "glad", "mace"]
        lines += ["## Accuracy: ours / Crowd-Kit", ""]
        header = "| set | answers | " + " | ".join(cols) + " | auto (chosen) | best Crowd-Kit |"
        lines += [header, "|---|---:|" + "---:|" * (len(cols) + 2)]
        for r in sets:
            cells = []
            for m in cols:
                ck = _ck_cell(r["crowdkit"].get(m), "accuracy", 4)
                cells.append(f"{_f(r['ours'][m]['accuracy'])} / {ck}")
            auto = r["ours"]["auto"]
            best = _best_ck(r)
            best_txt = f"{best[1]:.4f} ({best[0]})" if best else "n/a"
            lines.append(
                f"| `{r['set']}` | {r['answers']:,} | "
                + " | ".join(cells)
                + f" | {_f(auto['accuracy'])} ({auto['chosen'].split(':')[-1]}) | {best_txt} |"
            )
        means = {m: np.mean([r["ours"][m]["accuracy"] for r in sets]) for m in [*cols, "auto"]}
        ck_means = {}
        for m in CROWDKIT:
            vals = [r["crowdkit"].get(m, {}) for r in sets]
            if vals and all(v.get("status") == "ok" for v in vals):
                ck_means[m] = np.mean([v["accuracy"] for v in vals])
        lines.append(
            "| **mean** | | "
            + " | ".join(
                f"{means[m]:.4f} / {ck_means[m]:.4f}" if m in ck_means else f"{means[m]:.4f} / —"
                for m in cols
            )
            + f" | {means['auto']:.4f} | |"
        )
        for key, title in (("seconds", "wall"), ("cpu", "CPU")):
            lines += ["", f"## Fit seconds ({title}): ours / Crowd-Kit", ""]
            lines += [
                "| set | answers | " + " | ".join(cols) + " | auto | DS speed-up |",
                "|---|---:|" + "---:|" * (len(cols) + 2),
            ]
            for r in sets:
                cells = [
                    f"{_f(r['ours'][m][key], 3)} / {_ck_cell(r['crowdkit'].get(m), key, 2)}"
                    for m in cols
                ]
                ck_ds = r["crowdkit"].get("ds", {})
                speed = (
                    f"{ck_ds[key] / r['ours']['ds'][key]:.0f}×"
                    if ck_ds.get("status") == "ok"
                    else "n/a"
                )
                lines.append(
                    f"| `{r['set']}` | {r['answers']:,} | "
                    + " | ".join(cells)
                    + f" | {_f(r['ours']['auto'][key], 3)} | {speed} |"
                )
        lines += ["", "## Targets", ""] + [f"- {t}" for t in targets(report)]
    agreement = report.get("agreement")
    if agreement:
        lines += [
            "",
            "## Agreement metrics: seconds (value)",
            "",
            "Krippendorff's alpha, ours (coincidence matrix from vote counts) vs the "
            "`krippendorff` library given the same vote counts.",
            "",
            "| set | answers | percent | Fleiss | alpha ours | alpha library | Cohen pairs |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in agreement:
            cells = [
                f"{r[k]['seconds']:.4f} ({_f(r[k]['value'], 3)})"
                for k in ("percent", "fleiss", "alpha_own", "alpha_library", "cohen_pairs")
            ]
            lines.append(f"| `{r['set']}` | {r['answers']:,} | " + " | ".join(cells) + " |")
    overlap = report.get("overlap")
    if overlap and overlap["rows"]:
        lines += [
            "",
            f"## Dynamic overlap (threshold {overlap['threshold']}, cap = full overlap, "
            f"final labels by `ds`, mean over seeds 0–{overlap['seeds'] - 1})",
            "",
            "Sets with at least 4 answers per task.",
            "",
            "| set | accuracy policy | accuracy full | labels used | share |",
            "|---|---:|---:|---:|---:|",
        ]
        per = _overlap_means(overlap["rows"])
        for name, v in per.items():
            lines.append(
                f"| `{name}` | {v['accuracy']:.4f} | {v['accuracy_full']:.4f} | "
                f"{v['labels_used']:.0f} / {v['labels_full']:.0f} | {v['share_used']:.3f} |"
            )
        mean = {
            k: np.mean([v[k] for v in per.values()])
            for k in ("accuracy", "accuracy_full", "share_used")
        }
        lines.append(
            f"| **mean** | {mean['accuracy']:.4f} | {mean['accuracy_full']:.4f} | | "
            f"{mean['share_used']:.3f} |"
        )
    synthetic = report.get("synthetic")
    if synthetic:
        lines += [
            "",
            "## Synthetic: 1,000,000 answers (100,000 tasks, 1,000 workers, 5 classes)",
            "",
            "Peak memory is what `tracemalloc` saw during one fit (NumPy buffers included).",
            "",
            "| method | seconds (wall) | seconds (CPU) | peak MB | accuracy | iterations |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in synthetic:
            if r["method"] == "process":
                continue
            name = r["method"] + (
                f" ({r['chosen'].split(':')[-1]})" if r["method"] == "auto" else ""
            )
            lines.append(
                f"| {name} | {r['seconds']:.3f} | {r['cpu']:.3f} | {r['peak_mb']:.0f} "
                f"| {r['accuracy']:.4f} "
                f"| {r['iterations']} |"
            )
        proc = [r for r in synthetic if r["method"] == "process"]
        if proc:
            lines += ["", f"Whole benchmark process: peak RSS {proc[0]['max_rss_mb']:.0f} MB."]
    lines += ["", NOTES]
    return "\n".join(lines) + "\n"


NOTES = """## Notes

- **`auto`** fits `ds`, `mace`, `glad` and `onecoin` on 90% of the answers (two seeded splits;
  never a task's or a worker's last answer), scores each on the log-probability of the hidden
  answers, and refits the chosen one on everything. Dawid–Skene, the best method on average
  here and in Crowd-Kit's own figures, is the default; another model replaces it only when it
  predicts the hidden answers better by more than two standard errors of the paired
  per-answer difference. No per-set constant is involved. On more than 100,000 answers the
  choice is made on a random set of whole tasks holding 100,000 of them, with one split.
- **Ties** in majority vote go to the label whose voters agree more often with the majority
  elsewhere, then to the crowd's most frequent class, then to the lower label index.
- **GLAD** keeps a uniform class prior: with item difficulty, a learned prior feeds back into
  contested tasks and floods the majority class (up to 13 points lost on these sets).
- **Dynamic overlap** replays each task's answers in a seeded random order; a task gets its
  next answer while the policy's confidence (a Dawid–Skene model whose worker skills are learned
  only from agreement with *other* workers, uniform class prior) is below the threshold, or its
  model label differs from the plurality, unless no answer still allowed by the cap could
  change the plurality. Final labels by `ds` on the revealed answers.
- Crowd-Kit ran with default parameters, in its own virtual environment (never a dependency
  of datadam). KOS and MMSR are not run: they are never the best method on these sets in
  Crowd-Kit's reference figures, and MMSR runs out of memory on larger ones.
"""


def _best_ck(row: dict[str, Any]) -> tuple[str, float] | None:
    ok = {CROWDKIT[m]: v["accuracy"] for m, v in row["crowdkit"].items() if v.get("status") == "ok"}
    if not ok:
        return None
    name = max(ok, key=lambda k: ok[k])
    return name, ok[name]


def _overlap_means(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    per: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(r["set"] for r in rows):
        mine = [r for r in rows if r["set"] == name]
        per[name] = {
            k: float(np.mean([r[k] for r in mine]))
            for k in ("accuracy", "accuracy_full", "labels_used", "labels_full", "share_used")
        }
    return per


def targets(report: dict[str, Any]) -> list[str]:
    """The issue's targets, each marked met or not from this run's figures."""
    out = []
    sets = report.get("sets") or []
    if sets and any(r["crowdkit"] for r in sets):
        misses = []
        for r in sets:
            for m in ["mv", "wawa", "ds", "onecoin", "glad", "mace"]:
                ck = r["crowdkit"].get(m, {})
                if ck.get("status") == "ok" and r["ours"][m]["accuracy"] < ck["accuracy"] - 0.005:
                    ours = r["ours"][m]["accuracy"]
                    misses.append(f"{m} on {r['set']} ({ours:.4f} vs {ck['accuracy']:.4f})")
        out.append(
            ("MET" if not misses else "NOT MET")
            + ": every method within 0.5 points of Crowd-Kit's same-named method"
            + (f" (misses: {'; '.join(misses)})" if misses else "")
        )
        ck_ds = [r["crowdkit"].get("ds", {}) for r in sets]
        if all(v.get("status") == "ok" for v in ck_ds):
            auto_mean = np.mean([r["ours"]["auto"]["accuracy"] for r in sets])
            ck_means = {}
            for m in CROWDKIT:
                vals = [r["crowdkit"].get(m, {}) for r in sets]
                if all(v.get("status") == "ok" for v in vals):
                    ck_means[m] = float(np.mean([v["accuracy"] for v in vals]))
            best_m = max(ck_means, key=lambda k: ck_means[k])
            out.append(
                ("MET" if auto_mean >= ck_means[best_m] else "NOT MET")
                + f": auto mean {auto_mean:.4f} vs best single Crowd-Kit method "
                f"({CROWDKIT[best_m]}) mean {ck_means[best_m]:.4f}"
            )
        worst = []
        for r in sets:
            best = _best_ck(r)
            if best and r["ours"]["auto"]["accuracy"] < best[1] - 0.015:
                worst.append(f"{r['set']} ({r['ours']['auto']['accuracy']:.4f} vs {best[1]:.4f})")
        out.append(
            ("MET" if not worst else "NOT MET")
            + ": auto never more than 1.5 points below the set's best Crowd-Kit method"
            + (f" (misses: {'; '.join(worst)})" if worst else "")
        )
        speed = []
        for r in sets:
            ck = r["crowdkit"].get("ds", {})
            if ck.get("status") != "ok":
                continue
            ratio = ck["seconds"] / r["ours"]["ds"]["seconds"]
            cpu_ratio = ck["cpu"] / r["ours"]["ds"]["cpu"]
            need = 30 if r["set"] == "cifar10n" else (10 if r["answers"] > 20_000 else None)
            if need:
                speed.append((r["set"], ratio, cpu_ratio, need))
        if speed:
            ok = all(ratio >= need for _, ratio, _, need in speed)
            out.append(
                ("MET" if ok else "NOT MET")
                + ": DS speed-up, wall (CPU): "
                + ", ".join(f"{s} {w:.0f}× ({c:.0f}×), need {n}×" for s, w, c, n in speed)
            )
    overlap = report.get("overlap")
    if overlap and overlap["rows"]:
        per = _overlap_means(overlap["rows"])
        acc = np.mean([v["accuracy"] for v in per.values()])
        full = np.mean([v["accuracy_full"] for v in per.values()])
        share = np.mean([v["share_used"] for v in per.values()])
        ok = acc >= full - 0.005 and share <= 0.6
        out.append(
            ("MET" if ok else "NOT MET")
            + f": dynamic overlap mean accuracy {acc:.4f} vs full {full:.4f} "
            f"({(acc - full) * 100:+.2f} points) with {share:.1%} of the answers"
        )
    synthetic = report.get("synthetic")
    if synthetic:
        fits = [r for r in synthetic if r["method"] != "process"]
        slow = [f"{r['method']} {r['seconds']:.2f} s" for r in fits if r["seconds"] >= 1.0]
        cpu_slow = [f"{r['method']} {r['cpu']:.2f} s" for r in fits if r["cpu"] >= 1.0]
        heavy = [f"{r['method']} {r['peak_mb']:.0f} MB" for r in fits if r["peak_mb"] >= 500]
        out.append(
            ("MET" if not slow else "NOT MET")
            + ": every method under 1 s (wall) on 1M answers"
            + (f" (over: {', '.join(slow)})" if slow else "")
            + "; CPU seconds "
            + ("all under 1 s" if not cpu_slow else f"over for {', '.join(cpu_slow)}")
        )
        out.append(
            ("MET" if not heavy else "NOT MET")
            + ": peak memory under 500 MB"
            + (f" (over: {', '.join(heavy)})" if heavy else "")
        )
    return out


def report_from_lines(path: Path, datasets: Path) -> dict[str, Any]:
    """Rebuild a report from the JSON lines an earlier run printed (to re-render Markdown)."""
    report: dict[str, Any] = {"sets": [], "agreement": [], "synthetic": []}
    overlap_rows: list[dict[str, Any]] = []
    by_set: dict[str, dict[str, Any]] = {}
    ck_names = {v: k for k, v in CROWDKIT.items()}
    for raw in path.read_text().splitlines():
        rec = json.loads(raw)
        part = rec.pop("part", None)
        if part == "sets":
            name = rec["set"]
            if name not in by_set:
                answers = read_labels(datasets / name / "labels.csv")
                by_set[name] = {
                    "set": name,
                    "answers": answers.n_answers,
                    "ours": {},
                    "crowdkit": {},
                }
                report["sets"].append(by_set[name])
            if rec["impl"] == "datadam":
                by_set[name]["ours"][rec["method"]] = rec
            else:
                by_set[name]["crowdkit"][ck_names[rec["method"]]] = rec
        elif part == "agreement":
            report["agreement"].append(rec)
        elif part == "overlap":
            overlap_rows.append(rec)
        elif part == "synthetic":
            if "process_max_rss_mb" in rec:
                report["synthetic"].append(
                    {"method": "process", "max_rss_mb": rec["process_max_rss_mb"]}
                )
            else:
                report["synthetic"].append(rec)
    if overlap_rows:
        report["overlap"] = {
            "threshold": None,
            "seeds": max(r["seed"] for r in overlap_rows) + 1,
            "rows": overlap_rows,
        }
    return {k: v for k, v in report.items() if v}


def _shown_args(argv: list[str] | None) -> list[str]:
    """The command-line arguments minus `--render FILE` and `--note TEXT` (a re-render shows
    the original run's command)."""
    args = list(argv if argv is not None else sys.argv[1:])
    for flag in ("--render", "--note"):
        if flag in args:
            i = args.index(flag)
            del args[i : i + 2]
    return args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_SETS)
    parser.add_argument("--crowdkit-python", default=os.environ.get("DATADAM_CROWDKIT_PYTHON"))
    parser.add_argument("--no-crowdkit", action="store_true")
    parser.add_argument("--timeout", type=float, default=120.0, help="per Crowd-Kit fit, seconds")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=0.99, help="overlap policy")
    parser.add_argument("--overlap-seeds", type=int, default=10)
    parser.add_argument("--only", nargs="*", choices=["sets", "agreement", "overlap", "synthetic"])
    parser.add_argument("--synthetic", action="store_true", help="same as --only synthetic")
    parser.add_argument("--markdown", type=Path, default=DEFAULT_MD)
    parser.add_argument("--no-markdown", action="store_true")
    parser.add_argument(
        "--render", type=Path, help="only re-render the Markdown from a saved JSON-lines output"
    )
    parser.add_argument("--note", default="", help="a paragraph to print under the command")
    args = parser.parse_args(argv)
    parts = set(
        args.only
        or (["synthetic"] if args.synthetic else ["sets", "agreement", "overlap", "synthetic"])
    )

    ck_python = None
    if not args.no_crowdkit:
        candidate = args.crowdkit_python or "/tmp/ckenv/bin/python"
        if Path(candidate).exists():
            ck_python = candidate
        else:
            emit({"note": f"Crowd-Kit interpreter {candidate} not found; ours only"})
    report: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        ),
        "repeat": args.repeat,
        "timeout": args.timeout,
        "note": args.note,
        "command": " ".join([".venv/bin/python bench/aggregation.py", *_shown_args(argv)]),
    }
    if args.render:
        report.update(report_from_lines(args.render, args.datasets))
        if "overlap" in report:
            report["overlap"]["threshold"] = args.threshold
        parts = set()
    if "sets" in parts and args.datasets.is_dir():
        report["sets"] = bench_sets(args, ck_python)
    if "agreement" in parts and args.datasets.is_dir():
        report["agreement"] = bench_agreement(args)
    if "overlap" in parts and args.datasets.is_dir():
        report["overlap"] = bench_overlap(args)
    if "synthetic" in parts:
        report["synthetic"] = bench_synthetic(args)
    for line in targets(report):
        emit({"target": line})
    if not args.no_markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(report))
        emit({"markdown": str(args.markdown)})
    return 0


if __name__ == "__main__":
    assert set(OURS) == set(METHODS)
    raise SystemExit(main())
