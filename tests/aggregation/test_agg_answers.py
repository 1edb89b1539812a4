from __future__ import annotations

import numpy as np
import pytest

from datadam.aggregation import Answers


def test_from_columns_encodes_names_in_natural_order() -> None:
    a = Answers.from_columns(["t2", "t1", "t1"], ["w", "v", "w"], ["10", "2", "2"])
    assert list(a.tasks) == ["t1", "t2"]
    assert list(a.workers) == ["v", "w"]
    assert list(a.labels) == ["2", "10"]  # integer-like names sort by value
    assert a.n_answers == 3
    # canonical order: by task, then worker, then label
    assert a.task_idx.tolist() == [0, 0, 1]
    assert a.worker_idx.tolist() == [0, 1, 1]
    assert a.label_idx.tolist() == [0, 0, 1]


def test_row_order_does_not_change_encoding() -> None:
    rows = [("a", "x", "1"), ("b", "y", "0"), ("a", "y", "0"), ("c", "x", "1")]
    one = Answers.from_columns(*zip(*rows, strict=True))
    two = Answers.from_columns(*zip(*rows[::-1], strict=True))
    for field in ("task_idx", "worker_idx", "label_idx"):
        assert np.array_equal(getattr(one, field), getattr(two, field))


def test_integer_columns_are_accepted() -> None:
    a = Answers.from_columns(np.array([5, 3]), np.array([1, 1]), np.array([0, 7]))
    assert a.tasks.tolist() == [3, 5]
    assert a.labels.tolist() == [0, 7]


def test_vote_counts_and_one_hot() -> None:
    a = Answers.from_indices([0, 0, 1, 1], [0, 1, 0, 0], [1, 1, 0, 0], n_classes=2)
    assert a.vote_counts.tolist() == [[0, 2], [2, 0]]
    dense = a.one_hot.toarray()
    assert dense.shape == (2, 4)
    assert dense[1, 0] == 2  # worker 0 answered label 0 twice on task 1 (a repeat is kept)


def test_index_out_of_range_is_rejected() -> None:
    with pytest.raises(ValueError):
        Answers(
            task_idx=np.array([0]),
            worker_idx=np.array([3]),
            label_idx=np.array([0]),
            tasks=np.array(["t"]),
            workers=np.array(["w"]),
            labels=np.array(["l"]),
        )


def test_encode_gold_marks_unknown_tasks_and_labels() -> None:
    a = Answers.from_columns(["t1", "t2"], ["w", "w"], ["yes", "no"])
    gold, unscorable = a.encode_gold(["t1", "t2", "t9", "t1"], ["no", "maybe", "yes", "no"])
    assert gold.tolist() == [0, -1]  # t1 = "no" (index 0); t2's "maybe" was never answered
    assert unscorable == 2


def test_subset_keeps_index_spaces() -> None:
    a = Answers.from_indices([0, 1, 2], [0, 0, 1], [0, 1, 0])
    sub = a.subset(a.task_idx != 1)
    assert sub.n_tasks == 3 and sub.n_answers == 2
    assert sub.task_counts.tolist() == [1, 0, 1]
