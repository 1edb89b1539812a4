from __future__ import annotations

from pathlib import Path

import pytest

from datadam.aggregation.io import LabelFileError, read_gold, read_labels


def _write(tmp_path: Path, text: str | bytes, name: str = "labels.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def test_reads_labels_with_bom_spaces_and_extra_columns(tmp_path: Path) -> None:
    p = _write(tmp_path, "\ufeffTask, worker ,label,note\na,x,1,hi\n\nb,y,0,\n")
    a = read_labels(p)
    assert a.n_answers == 2 and list(a.tasks) == ["a", "b"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("\n\n", "empty file"),
        ("task,label\na,1\n", "header must be task,worker,label"),
        ("task,worker,label\n", "no rows after the header"),
        ("task,worker,label\na,x\n", "line 2: expected 3 fields, got 2"),
        ("task,worker,label\na,x,1\nb,,1\n", "line 3: empty worker"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a CSV text file"),
        (b"task,worker,label\na,x,\xff\xfe\n", "not a UTF-8 CSV file"),
    ],
)
def test_bad_files_raise_one_line_errors(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    p = _write(tmp_path, content)
    with pytest.raises(LabelFileError) as info:
        read_labels(p)
    assert message in str(info.value)
    assert str(p) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LabelFileError, match="no such file"):
        read_labels(tmp_path / "nope.csv")
    with pytest.raises(LabelFileError, match="not a file"):
        read_labels(tmp_path)


def test_gold_keeps_the_last_label_per_task(tmp_path: Path) -> None:
    p = _write(tmp_path, "task,label\na,1\nb,0\na,2\n", "gold.csv")
    tasks, labels = read_gold(p)
    assert dict(zip(tasks.tolist(), labels.tolist(), strict=True)) == {"a": "2", "b": "0"}
