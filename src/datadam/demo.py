"""Demo data: organisations of every kind, people in every role, and sample projects in Korean
and English. Seeding is idempotent: running `datadam demo` twice creates nothing new.

Demo logins exist only in a data dir created by `datadam demo` (a `.demo` marker file says so).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from datadam.access import people
from datadam.access.passwords import hash_password
from datadam.accountability.demo import seed_accountability_demo
from datadam.audit import record_event
from datadam.domain.enums import OrgKind, Role
from datadam.gold.demo import seed_gold_demo
from datadam.importing.service import import_file
from datadam.inspection.demo import seed_inspection_demo
from datadam.pay.demo_pay import seed_pay_demo
from datadam.quality.demo import seed_quality_demo
from datadam.schema import example_schema, parse_schema
from datadam.settings import Settings
from datadam.storage.db import Database
from datadam.storage.tables import Item, Organization, Project, ProjectAccess, User

DEMO_PASSWORD = "demo-datadam-2026"  # noqa: S105 - printed to the person running the demo
DEMO_DOMAIN = "demo.datadam.org"

ORGS = [
    ("program-office", "National Data Program Office (데이터 사업단)", OrgKind.PROGRAM_OFFICE),
    ("quality-agency", "Data Quality Agency (품질검증기관)", OrgKind.QUALITY_AGENCY),
    ("hangul-institute", "Hangul Language Institute (한글언어연구원)", OrgKind.INSTITUTION),
    ("seoul-hospital", "Seoul Sleep Hospital (서울수면병원)", OrgKind.INSTITUTION),
    ("crowd-works", "Crowd Works Co. (크라우드웍스)", OrgKind.VENDOR),
    ("label-partners", "Label Partners (라벨파트너스)", OrgKind.VENDOR),
]

PEOPLE = [
    ("officer", "Kim Min-ji (김민지)", [("program-office", Role.ADMIN)], "program officer"),
    ("auditor", "Lee Jun-ho (이준호)", [("quality-agency", Role.AUDITOR)], "quality auditor"),
    (
        "manager",
        "Park Seo-yeon (박서연)",
        [
            ("hangul-institute", Role.ADMIN),
            ("hangul-institute", Role.MANAGER),
            ("seoul-hospital", Role.MANAGER),
        ],
        "project manager (institutions)",
    ),
    (
        "inspector",
        "Choi Ha-eun (최하은)",
        [("hangul-institute", Role.INSPECTOR), ("seoul-hospital", Role.INSPECTOR)],
        "inspector",
    ),
    ("vendor", "Jung Ye-jin (정예진)", [("crowd-works", Role.ADMIN)], "vendor manager"),
    ("worker1", "Kang Ji-woo (강지우)", [("crowd-works", Role.WORKER)], "crowdworker"),
    ("worker2", "Yoon Su-bin (윤수빈)", [("crowd-works", Role.WORKER)], "crowdworker"),
    ("worker3", "Han Do-yun (한도윤)", [("label-partners", Role.WORKER)], "crowdworker"),
    (
        "sleeptech",
        "Dr. Oh Eun-seo (오은서)",
        [("seoul-hospital", Role.WORKER)],
        "sleep technologist",
    ),
]

SENTENCES_KO = [
    "배송이 정말 빨라서 기분이 좋았어요.",
    "음식이 식어서 왔고 맛도 별로였습니다.",
    "그냥 평범한 하루였다.",
    "직원분들이 친절하게 안내해 주셔서 감사했습니다.",
    "화면이 자꾸 꺼져서 너무 불편해요.",
    "가격 대비 품질이 훌륭합니다.",
    "버스가 20분이나 늦게 와서 지각했다.",
    "오늘 회의는 예정대로 3시에 시작합니다.",
    "이 책은 두 번 읽어도 감동적이에요.",
    "포장이 찢어진 채로 도착했어요.",
    "날씨가 흐리지만 비는 오지 않았다.",
    "아이들이 정말 좋아하는 장난감이에요!",
]
SENTENCES_EN = [
    "The delivery was fast and the packaging was perfect.",
    "The app crashes every time I log in.",
    "The meeting is scheduled for Tuesday.",
    "Staff were friendly and explained everything.",
    "I waited an hour and nobody answered the phone.",
    "Great value for the price.",
]
NER_TEXTS = [
    "Park Ji-sung joined Manchester United in 2005.",
    "서울대학교 병원은 서울 종로구에 있다.",
    "Samsung opened a new research centre in Suwon.",
    "이순신 장군은 한산도에서 승리했다.",
    "The Korea Meteorological Administration issued a warning for Busan.",
    "김연아는 밴쿠버 올림픽에서 금메달을 땄다.",
]


def _email(handle: str) -> str:
    return f"{handle}@{DEMO_DOMAIN}"


def seed_demo(db: Database, settings: Settings) -> list[tuple[str, str]]:
    """Create (or find) the demo world; returns the logins to print."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / ".demo").write_text("created by `datadam demo`\n")
    with db.write() as session:
        orgs = _ensure_orgs(session)
        _ensure_people(session, orgs, settings)
        projects = _ensure_projects(session, orgs, settings)
    for project_id, rows in projects:
        if callable(rows):
            with db.read() as session:
                if session.execute(select(Item.id).where(Item.project_id == project_id)).first():
                    continue
            rows = rows()
        _import_rows(db, project_id, rows)
    seed_pay_demo(db, settings, domain=DEMO_DOMAIN)
    seed_gold_demo(db)
    seed_inspection_demo(db, domain=DEMO_DOMAIN)
    seed_accountability_demo(db, settings)
    seed_quality_demo(db, domain=DEMO_DOMAIN)  # last: its snapshot sees the others' work
    return [(_email(handle), what) for handle, _name, _roles, what in PEOPLE]


def _ensure_orgs(session: Any) -> dict[str, int]:
    found: dict[str, int] = {}
    for slug, name, kind in ORGS:
        org = session.execute(select(Organization).where(Organization.slug == slug)).scalar()
        if org is None:
            org = people.create_organization(session, slug=slug, name=name, kind=kind)
        found[slug] = org.id
    return found


def _ensure_people(session: Any, orgs: dict[str, int], settings: Settings) -> None:
    password_hash = None
    for handle, name, roles, _what in PEOPLE:
        email = _email(handle)
        if session.execute(select(User.id).where(User.email == email)).first():
            continue
        password_hash = password_hash or hash_password(DEMO_PASSWORD, settings=settings)
        locale = "en" if handle in ("officer", "auditor") else "ko"
        user = people.create_user(
            session, email=email, display_name=name, password_hash=password_hash, locale=locale
        )
        for slug, role in roles:
            people.add_membership(session, user_id=user.id, organization_id=orgs[slug], role=role)


Rows = Callable[[], list[dict[str, Any]]]


def _media_rows(settings: Settings, kind: str) -> Rows:
    """Rows whose media (EDF nights, street PNGs, voice WAVs) are generated and stored on demand,
    only when the project has no items yet: generating is the slow part of the demo."""

    def rows() -> list[dict[str, Any]]:
        from datadam.media import demo_media
        from datadam.media.store import open_store

        store = open_store(settings)
        if kind == "sleep":
            return demo_media.sleep_nights(store, nights=5, n_epochs=120)
        if kind == "street":
            return demo_media.street_items(store, count=4)
        return demo_media.voice_items(store)

    return rows


def _ensure_projects(
    session: Any, orgs: dict[str, int], settings: Settings
) -> list[tuple[int, list[dict[str, Any]] | Rows]]:
    plans = [
        (
            "감정 분류 (Korean sentiment)",
            "hangul-institute",
            "sentiment_ko",
            "language",
            "text",
            3,
            "문장을 읽고 감정을 고르세요. Read the sentence and pick its sentiment.",
            [{"text": t, "lang": "ko"} for t in SENTENCES_KO]
            + [{"text": t, "lang": "en"} for t in SENTENCES_EN],
            ["crowd-works", "label-partners"],
        ),
        (
            "Named entities (개체명 인식)",
            "hangul-institute",
            "spans",
            "language",
            "text",
            2,
            "Mark every person (PER), organisation (ORG) and place (LOC).",
            [{"text": t} for t in NER_TEXTS],
            ["crowd-works"],
        ),
        (
            "Sleep staging (수면 단계 판독)",
            "seoul-hospital",
            "sleep_staging",
            "healthcare",
            "time-series",
            1,
            "Score each 30-s epoch W/N1/N2/N3/REM; the model's stages are pre-filled.",
            _media_rows(settings, "sleep"),
            [],
        ),
        (
            "Street objects (도로 객체 표시)",
            "hangul-institute",
            "shapes",
            "vision",
            "image",
            1,
            "Box or outline every car, person and bicycle. 모든 차와 사람을 표시하세요.",
            _media_rows(settings, "street"),
            ["crowd-works"],
        ),
        (
            "Voice transcription (음성 전사)",
            "hangul-institute",
            "transcription",
            "language",
            "audio",
            1,
            "Write exactly what is said; correct the model's draft. 들리는 대로 적으세요.",
            _media_rows(settings, "voice"),
            ["crowd-works"],
        ),
    ]
    out = []
    for name, owner, schema_name, field, modality, overlap, instructions, rows, vendors in plans:
        existing = session.execute(select(Project).where(Project.name == name)).scalar()
        if existing is not None:
            out.append((existing.id, rows))
            continue
        project = Project(
            owner_org_id=orgs[owner],
            name=name,
            schema=parse_schema(example_schema(schema_name)).to_dict(),
            field=field,
            modality=modality,
            overlap=overlap,
            instructions=instructions,
            status="active",
        )
        session.add(project)
        session.flush()
        for vendor in vendors:
            session.add(ProjectAccess(project_id=project.id, organization_id=orgs[vendor]))
        record_event(
            session,
            actor_id=None,
            action="project.create",
            object_type="project",
            object_id=project.id,
            organization_id=orgs[owner],
            project_id=project.id,
            after={"name": name, "via": "demo"},
        )
        out.append((project.id, rows))
    return out


def _import_rows(db: Database, project_id: int, rows: list[dict[str, Any]]) -> None:
    """Import through the normal path; content hashes make a second run a no-op."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.jsonl"
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
        import_file(db, project_id=project_id, path=path, filename="demo.jsonl")
