"""Importing files into a project: validate everything first, then store; duplicates counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from datadam.importing.service import ImportRejected, import_file
from datadam.storage.tables import ImportJob
from tests.factories import labeling_team


def _items(db, project: int) -> list[tuple[str | None, str]]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT external_id, payload FROM item WHERE project_id = :p ORDER BY id"),
            {"p": project},
        ).all()
    return [
        (r[0], r[1] if isinstance(r[1], str) else json.dumps(r[1], ensure_ascii=False))
        for r in rows
    ]


@pytest.fixture
def labeling_project(world, monkeypatch):  # type: ignore[no-untyped-def]
    import tests.factories as factories

    monkeypatch.setattr(factories.World, "texts", lambda _self, _project, _n: 0)
    *_, project = labeling_team(world, items=0)
    return project


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "a.jsonl",
            '{"text": "하나", "id": 1}\n{"text": "둘", "id": 2}\n{"text": "하나", "id": 1}\n',
        ),
        (
            "a.json",
            '[{"text": "하나", "id": 1}, {"text": "둘", "id": 2}, {"text": "하나", "id": 1}]',
        ),
        ("a.csv", "text,id\n하나,1\n둘,2\n하나,1\n"),
    ],
)
def test_happy_paths_store_items_and_count_duplicates(  # type: ignore[no-untyped-def]
    db, labeling_project, tmp_path: Path, name: str, content: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    summary = import_file(db, project_id=labeling_project, path=path)
    assert (summary.status, summary.rows, summary.imported, summary.duplicates) == (
        "done",
        3,
        2,
        1,
    )
    stored = _items(db, labeling_project)
    assert [e for e, _ in stored] == ["1", "2"]
    assert "하나" in stored[0][1] and "둘" in stored[1][1]
    again = import_file(db, project_id=labeling_project, path=path)
    assert (again.imported, again.duplicates) == (0, 3)


def test_malformed_line_rejects_the_whole_file(db, labeling_project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a"}\n{"text": "b"}\n{"text": "c",}\n', encoding="utf-8")
    with pytest.raises(ImportRejected) as rejected:
        import_file(db, project_id=labeling_project, path=path)
    assert rejected.value.errors[0]["message"].startswith("line 3: ")
    assert "column" in rejected.value.errors[0]["message"]
    assert _items(db, labeling_project) == []
    with db.read() as session:
        job = session.get(ImportJob, rejected.value.import_id)
        assert job is not None and job.status == "failed" and job.rows_done == 0


def test_missing_field_read_by_a_control_names_field_and_line(  # type: ignore[no-untyped-def]
    db, labeling_project, tmp_path: Path
) -> None:
    path = tmp_path / "missing.jsonl"
    path.write_text('{"text": "a"}\n{"body": "b"}\n{"text": "c"}\n{"title": "d"}\n')
    with pytest.raises(ImportRejected) as rejected:
        import_file(db, project_id=labeling_project, path=path)
    messages = [e["message"] for e in rejected.value.errors]
    assert messages == [
        "line 2: missing field 'text' (read by control 'sentiment')",
        "line 4: missing field 'text' (read by control 'sentiment')",
    ]
    assert rejected.value.errors[0]["field"] == "text"
    assert _items(db, labeling_project) == []


def test_csv_header_without_a_needed_column_is_invalid_header(  # type: ignore[no-untyped-def]
    db, labeling_project, tmp_path: Path
) -> None:
    path = tmp_path / "items.csv"
    path.write_text("body,id\na,1\nb,2\n")
    with pytest.raises(ImportRejected) as rejected:
        import_file(db, project_id=labeling_project, path=path)
    assert rejected.value.code == "invalid_header"
    assert "'text'" in rejected.value.errors[0]["message"]
    assert len(rejected.value.errors) == 1


def test_empty_file_is_rejected(db, labeling_project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    with pytest.raises(ImportRejected) as rejected:
        import_file(db, project_id=labeling_project, path=path)
    assert rejected.value.errors[0]["code"] == "empty_file"


def test_batches_keep_file_order_and_count_duplicates_across_batches(  # type: ignore[no-untyped-def]
    db, labeling_project, tmp_path: Path, monkeypatch
) -> None:
    import datadam.importing.service as service

    monkeypatch.setattr(service, "BATCH", 2)
    texts = ["a", "b", "a", "c", "", "b", "d", "c"]
    path = tmp_path / "many.jsonl"
    path.write_text(
        "".join(f'{{"text": "{t}"}}\n' if t else "\n" for t in texts),
        encoding="utf-8",
    )
    summary = import_file(db, project_id=labeling_project, path=path)
    assert (summary.rows, summary.imported, summary.duplicates) == (7, 4, 3)
    assert [json.loads(p)["text"] for _, p in _items(db, labeling_project)] == list("abcd")
    with db.read() as session:
        job = session.get(ImportJob, summary.import_id)
        assert job is not None and (job.rows_done, job.imported, job.duplicates) == (7, 4, 3)


def test_a_rejected_file_leaves_nothing_staged_for_the_next_import(  # type: ignore[no-untyped-def]
    db, labeling_project, tmp_path: Path, monkeypatch
) -> None:
    import datadam.importing.service as service

    monkeypatch.setattr(service, "BATCH", 2)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(f'{{"text": "x{i}"}}\n' for i in range(5)) + "[1]\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as rejected:
        import_file(db, project_id=labeling_project, path=bad)
    assert rejected.value.errors[0]["message"].startswith("line 6: ")
    assert _items(db, labeling_project) == []
    good = tmp_path / "good.jsonl"
    good.write_text('{"text": "y0"}\n{"text": "y1"}\n{"text": "y2"}\n', encoding="utf-8")
    summary = import_file(db, project_id=labeling_project, path=good)
    assert (summary.imported, summary.duplicates) == (3, 0)
    assert [json.loads(p)["text"] for _, p in _items(db, labeling_project)] == ["y0", "y1", "y2"]
