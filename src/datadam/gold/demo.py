"""Demo gold data: the Korean sentiment project gets gold questions, two training items and a
three-question qualification test, with gold mixed into one task in ten.

The test is offered but not required, so the demo's other walkthroughs keep working; a manager
can require it on the project's quality page. Idempotent: a project that already has known
answers gets nothing new.
"""

from __future__ import annotations

from sqlalchemy import select

from datadam.audit import record_event
from datadam.domain.enums import Stage
from datadam.importing.service import content_hash
from datadam.schema import parse_schema, validate_result
from datadam.storage.db import Database
from datadam.storage.tables import GoldAnswer, Item, Project, QualitySettings
from datadam.storage.types import utcnow

PROJECT = "감정 분류 (Korean sentiment)"
# (text, label, purpose, explanation)
KNOWN = [
    ("이 식당은 음식이 맛있고 직원도 친절해서 또 오고 싶어요.", "긍정", "gold", ""),
    ("주문한 지 한 시간이 지나도록 아무 연락이 없었습니다.", "부정", "gold", ""),
    ("회의는 오후 세 시에 2층 회의실에서 열립니다.", "중립", "gold", ""),
    ("The battery died after one day and support never answered.", "부정", "gold", ""),
    ("새로 산 운동화가 가볍고 발이 편해서 정말 만족합니다.", "긍정", "gold", ""),
    ("The museum opens at nine on weekdays.", "중립", "gold", ""),
    (
        "배송이 빨라서 좋았지만 포장이 조금 찢어져 있었어요.",
        "긍정",
        "training",
        "좋은 점과 아쉬운 점이 함께 있지만 글쓴이의 전체적인 평가는 만족입니다. "
        "Mixed, but the overall judgement is positive: pick 긍정.",
    ),
    (
        "내일 서울의 최저 기온은 영하 3도로 예보되었습니다.",
        "중립",
        "training",
        "사실을 전하는 문장이며 감정이 드러나지 않습니다. A plain fact carries no sentiment: 중립.",
    ),
    ("친구가 추천한 책인데 기대보다 훨씬 감동적이었어요.", "긍정", "qualification", ""),
    ("앱이 자꾸 멈춰서 결국 지웠습니다.", "부정", "qualification", ""),
    ("이번 주 토요일에 도서관은 문을 닫습니다.", "중립", "qualification", ""),
]


def seed_gold_demo(db: Database) -> None:
    """Give the demo sentiment project its gold, training and qualification items."""
    with db.write() as session:
        project = session.execute(select(Project).where(Project.name == PROJECT)).scalar()
        if project is None:
            return
        if session.execute(
            select(GoldAnswer.item_id).where(GoldAnswer.project_id == project.id)
        ).first():
            return
        schema = parse_schema(project.schema)
        now = utcnow()
        for text, label, purpose, explanation in KNOWN:
            payload = {"text": text, "lang": "en" if text.isascii() else "ko"}
            digest = content_hash(payload)
            item = session.execute(
                select(Item).where(Item.project_id == project.id, Item.content_hash == digest)
            ).scalar()
            if item is None:
                item = Item(
                    project_id=project.id,
                    payload=payload,
                    content_hash=digest,
                    stage=Stage.GOLD.value,
                    created_at=now,
                )
                session.add(item)
                session.flush()
            elif item.stage != Stage.GOLD.value:
                continue  # a sentence the demo already gives out as real work
            answer = validate_result(schema, {"sentiment": label}, payload)
            session.add(
                GoldAnswer(
                    item_id=item.id,
                    project_id=project.id,
                    answer=answer,
                    explanation=explanation,
                    purpose=purpose,
                    created_at=now,
                )
            )
        if session.get(QualitySettings, project.id) is None:
            session.add(
                QualitySettings(
                    project_id=project.id,
                    gold_rate=0.1,
                    pause_threshold=0.6,
                    min_gold_answers=8,
                    qualification_required=False,
                    pass_mark=0.67,
                    max_attempts=3,
                    updated_at=now,
                )
            )
        record_event(
            session,
            actor_id=None,
            action="gold.demo_seeded",
            object_type="project",
            object_id=project.id,
            organization_id=project.owner_org_id,
            project_id=project.id,
            after={"known_items": len(KNOWN), "gold_rate": 0.1},
        )
