"""Property-based tests: invariances and the laws every method must keep."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from datadam.aggregation import METHODS, Answers, aggregate

ITERATIVE = ["wawa", "ds", "onecoin", "glad", "mace"]


@st.composite
def label_tables(draw: st.DrawFn, min_classes: int = 1) -> tuple[list[str], list[str], list[str]]:
    """A random `task, worker, label` table with string names (repeats allowed)."""
    n_classes = draw(st.integers(min_classes, 4))
    n_workers = draw(st.integers(1, 6))
    n_tasks = draw(st.integers(1, 10))
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, n_tasks - 1),
                st.integers(0, n_workers - 1),
                st.integers(0, n_classes - 1),
            ),
            min_size=1,
            max_size=40,
        )
    )
    return (
        [f"t{t}" for t, _, _ in rows],
        [f"w{w}" for _, w, _ in rows],
        [f"c{c}" for _, _, c in rows],
    )


def _rows(table: tuple[list[str], list[str], list[str]]) -> list[tuple[str, str, str]]:
    return list(zip(*table, strict=True))


def _clear_winner(posteriors: np.ndarray) -> np.ndarray:
    """Tasks whose top posterior beats the runner-up by a margin rounding cannot erase."""
    if posteriors.shape[1] < 2:
        return np.ones(posteriors.shape[0], dtype=bool)
    top2 = np.sort(posteriors, axis=1)[:, -2:]
    return (top2[:, 1] - top2[:, 0]) > 1e-6


@settings(max_examples=25)
@given(table=label_tables(), data=st.data())
def test_row_order_never_changes_results(table, data) -> None:
    rows = _rows(table)
    shuffled = data.draw(st.permutations(rows))
    one = Answers.from_columns(*zip(*rows, strict=True))
    two = Answers.from_columns(*zip(*shuffled, strict=True))
    for method in METHODS:
        r1, r2 = aggregate(one, method), aggregate(two, method)
        assert np.array_equal(r1.labels, r2.labels)
        assert np.array_equal(r1.posteriors, r2.posteriors)


@settings(max_examples=40)
@given(table=label_tables(), data=st.data())
def test_renaming_workers_does_not_change_results(table, data) -> None:
    tasks, workers, labels = table
    names = sorted(set(workers))
    new_names = data.draw(st.permutations([f"x{i}" for i in range(len(names))]))
    rename = dict(zip(names, new_names, strict=True))
    one = Answers.from_columns(tasks, workers, labels)
    two = Answers.from_columns(tasks, [rename[w] for w in workers], labels)
    for method in ["mv", *ITERATIVE]:  # auto's held-out split follows worker order
        r1, r2 = aggregate(one, method), aggregate(two, method)
        assert np.allclose(r1.posteriors, r2.posteriors, atol=1e-9)
        clear = _clear_winner(r1.posteriors)
        assert np.array_equal(r1.labels[clear], r2.labels[clear])


@settings(max_examples=40)
@given(table=label_tables(), data=st.data())
def test_renaming_labels_permutes_posteriors(table, data) -> None:
    tasks, workers, labels = table
    names = sorted(set(labels))
    new_names = data.draw(st.permutations([f"z{i}" for i in range(len(names))]))
    rename = dict(zip(names, new_names, strict=True))
    one = Answers.from_columns(tasks, workers, labels)
    two = Answers.from_columns(tasks, workers, [rename[c] for c in labels])
    # column j of `one` is column perm[j] of `two`
    perm = np.array([list(two.labels).index(rename[str(c)]) for c in one.labels])
    for method in ["mv", *ITERATIVE]:
        r1, r2 = aggregate(one, method), aggregate(two, method)
        assert np.allclose(r1.posteriors, r2.posteriors[:, perm], atol=1e-9)
        clear = _clear_winner(r1.posteriors)
        assert np.array_equal(perm[r1.labels[clear]], r2.labels[clear])


@settings(max_examples=40)
@given(table=label_tables())
def test_posteriors_are_distributions(table) -> None:
    a = Answers.from_columns(*table)
    for method in METHODS:
        r = aggregate(a, method)
        assert r.posteriors.shape == (a.n_tasks, a.n_classes)
        assert np.isfinite(r.posteriors).all()
        assert (r.posteriors >= 0).all() and (r.posteriors <= 1 + 1e-12).all()
        assert np.allclose(r.posteriors.sum(axis=1), 1.0)
        assert np.isfinite(r.worker_skill).all()
        assert np.array_equal(r.labels, np.argmax(r.posteriors, axis=1)) or np.allclose(
            r.confidence, r.posteriors.max(axis=1)
        )


@settings(max_examples=40)
@given(table=label_tables(min_classes=2), data=st.data())
def test_gold_is_never_contradicted(table, data) -> None:
    a = Answers.from_columns(*table)
    gold = np.array(
        data.draw(
            st.lists(st.integers(-1, a.n_classes - 1), min_size=a.n_tasks, max_size=a.n_tasks)
        )
    )
    known = gold >= 0
    for method in METHODS:
        r = aggregate(a, method, gold=gold)
        assert np.array_equal(r.labels[known], gold[known])
        assert np.allclose(r.posteriors[known, gold[known]], 1.0)
