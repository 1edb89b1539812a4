"""Export: every item with every annotation, pseudonymous workers, text intact, atomic file."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from unittest.mock import patch

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datadam.assignment.service import next_task, submit_task
from datadam.exporting.jsonl import worker_pseudonym, write_export
from tests.factories import World, labeling_team

SECRET = "e" * 48


def _team(world, **kw):  # type: ignore[no-untyped-def]
    """A labeling team whose project has no items yet."""
    with patch.object(World, "texts", lambda _self, _project, _n: 0):
        return labeling_team(world, items=0, **kw)


def _label_everything(world, db, crew, project) -> int:  # type: ignore[no-untyped-def]
    n = 0
    for person in crew:
        actor = world.actor(person)
        while (task := next_task(db, actor, project)) is not None:
            submit_task(
                db,
                actor,
                task.assignment_id,
                result={"sentiment": "positive"},
                client_submission_id=f"{person.user_id}-{task.assignment_id}",
            )
            n += 1
    return n


def test_export_round_trip_has_every_annotation_and_no_identities(world, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    *_, crew, project = _team(world, overlap=2, workers=3)
    world.items(project, [{"text": f"한국어 문장 {i} 😀", "id": f"e{i}"} for i in range(5)])
    labeled = _label_everything(world, db, crew, project)
    out = tmp_path / "export.jsonl"
    counts = write_export(db, project_id=project, secret=SECRET, out=out)
    assert counts == {"items": 5, "annotations": labeled} and labeled == 10
    assert not (tmp_path / "export.jsonl.partial").exists()
    raw = out.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in raw.splitlines()]
    assert [line["payload"]["text"] for line in lines] == [f"한국어 문장 {i} 😀" for i in range(5)]
    assert sum(len(line["annotations"]) for line in lines) == labeled
    expected = {worker_pseudonym(SECRET, project, p.user_id) for p in crew}
    seen = {a["worker"] for line in lines for a in line["annotations"]}
    assert seen <= expected and len(seen) == 2  # two workers fill overlap 2 on every item
    for person in crew:
        assert person.email not in raw and person.pseudonym not in raw
        assert f'"worker_id": {person.user_id}' not in raw
    assert all(len({a["worker"] for a in line["annotations"]}) == 2 for line in lines)


def test_pseudonyms_differ_across_projects() -> None:
    assert worker_pseudonym(SECRET, 1, 7) != worker_pseudonym(SECRET, 2, 7)
    assert worker_pseudonym(SECRET, 1, 7) == worker_pseudonym(SECRET, 1, 7)


_TEXT = st.text(
    alphabet=st.sampled_from(list('가나다라마바사한국어 abcXYZ😀🎉"\\\n\t/é')),
    min_size=1,
    max_size=30,
)
_PAYLOAD = st.fixed_dictionaries(
    {"text": _TEXT},
    optional={"n": st.integers(-(2**53), 2**53), "tags": st.lists(_TEXT, max_size=3)},
)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    payloads=st.lists(
        _PAYLOAD,
        min_size=1,
        max_size=8,
        unique_by=lambda p: orjson.dumps(p, option=orjson.OPT_SORT_KEYS),
    )
)
def test_export_of_import_gives_the_payloads_back(world, db, payloads) -> None:  # type: ignore[no-untyped-def]
    *_, project = _team(world, workers=1)
    world.items(project, payloads)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        write_export(db, project_id=project, secret=SECRET, out=out)
        back = [orjson.loads(line)["payload"] for line in out.read_bytes().splitlines()]
    assert back == payloads
