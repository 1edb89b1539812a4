"""The database tables (SQLAlchemy 2 declarative). Migrations in `storage/migrations` mirror them.

Invariants that the assignment engine relies on are also database constraints, so that no
isolation-level surprise can break them: one assignment per (item, worker), one annotation per
(item, worker), one annotation per (project, worker, client submission id).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from datadam.storage.types import JsonColumn, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class Organization(Base):
    __tablename__ = "organization"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organization_id", "role"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginSession(Base):
    """A browser session. The cookie holds a random id; only its SHA-256 is stored."""

    __tablename__ = "login_session"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiToken(Base):
    """A token for scripts. Shown once at creation; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LoginAttempt(Base):
    """Failed logins, in the database so that every server process sees the same counts."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Project(Base):
    __tablename__ = "project"
    __table_args__ = (CheckConstraint("overlap >= 1", name="ck_project_overlap"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(64), default="general")
    modality: Mapped[str] = mapped_column(String(64), default="text")
    schema: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    overlap: Mapped[int] = mapped_column(Integer, default=1)
    lease_seconds: Mapped[int] = mapped_column(Integer, default=1800)
    instructions: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProjectAccess(Base):
    """A vendor organisation allowed to work on a project it does not own."""

    __tablename__ = "project_access"
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportJob(Base):
    """One import of a file. `rows_done` moves in the same transaction as each batch of items."""

    __tablename__ = "import_job"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    source_path: Mapped[str] = mapped_column(Text, default="")
    file_format: Mapped[str] = mapped_column(String(16))
    file_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running")
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]] = mapped_column(JsonColumn, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Item(Base):
    """One unit of work. `n_taken` counts submitted plus live assignments; `n_done` submitted."""

    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("project_id", "content_hash", name="uq_item_project_hash"),
        Index("ix_item_queue", "project_id", "stage", "n_taken", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    media_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    # Checked by the database on SQLite only: on PostgreSQL migration 0009 dropped the check,
    # a fifth of a large import's time (import jobs are never deleted).
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_job.id"), nullable=True)
    stage: Mapped[str] = mapped_column(String(16), default="labeling")
    n_taken: Mapped[int] = mapped_column(Integer, default=0)
    n_done: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assignment(Base):
    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("item_id", "worker_id", name="uq_assignment_item_worker"),
        Index("ix_assignment_worker_status", "worker_id", "project_id", "status"),
        Index("ix_assignment_expiry", "project_id", "status", "expires_at"),
        Index(  # one live lease per worker and project (migration 0008)
            "uq_assignment_live_worker",
            "project_id",
            "worker_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    leased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    skip_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)


class Annotation(Base):
    __tablename__ = "annotation"
    __table_args__ = (
        UniqueConstraint("item_id", "worker_id", name="uq_annotation_item_worker"),
        UniqueConstraint(
            "project_id", "worker_id", "client_submission_id", name="uq_annotation_submission"
        ),
        Index("ix_annotation_project_item", "project_id", "item_id"),
        Index("ix_annotation_project_submitted", "project_id", "submitted_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), unique=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    result: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    client_submission_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active_seconds: Mapped[float] = mapped_column(default=0.0)


class Event(Base):
    """The append-only audit log: who did what to which object, when, before and after.

    Rows are hash-chained (`prev_hash` -> `hash`) so that an edited or removed row is detectable.
    """

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_object", "object_type", "object_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    organization_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    project_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# --- pay ---
# Working time, pay terms, minimum wages and the append-only, hash-chained pay ledger
# (issue 7). Money is integer minor units plus an ISO 4217 currency; durations are integer
# microseconds, so that no float ever reaches a payment.


class WorkHeartbeat(Base):
    """A sign of life from a worker's open task page, stamped with the server's clock only."""

    __tablename__ = "work_heartbeat"
    __table_args__ = (Index("ix_work_heartbeat_assignment_at", "assignment_id", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkFlag(Base):
    """A pattern worth a look (e.g. heartbeats faster than any page sends), counted per
    assignment. A flag never reduces pay by itself."""

    __tablename__ = "work_flag"
    __table_args__ = (UniqueConstraint("assignment_id", "kind", name="uq_work_flag"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkedTime(Base):
    """Paid time outside labeling: training, qualification tests, rework, other.

    The quality workflow appends rows; `work_ref` names the work (unique, so a retried
    recording is harmless). A row belongs to the pay period of `recorded_at` (server time).
    """

    __tablename__ = "worked_time"
    __table_args__ = (
        CheckConstraint("duration_us > 0", name="ck_worked_time_positive"),
        CheckConstraint(
            "source IN ('training', 'qualification', 'rework', 'other')",
            name="ck_worked_time_source",
        ),
        Index("ix_worked_time_worker_at", "worker_id", "recorded_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    source: Mapped[str] = mapped_column(String(16))
    duration_us: Mapped[int] = mapped_column(BigInteger)
    work_ref: Mapped[str] = mapped_column(String(160), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)


class ProjectPay(Base):
    """A project's pay terms from `effective_from` on. Rows are history: the latest row whose
    `effective_from` is not after a piece of work applies to it."""

    __tablename__ = "project_pay"
    __table_args__ = (
        CheckConstraint("piece_rate_minor >= 0", name="ck_project_pay_piece"),
        CheckConstraint("hourly_rate_minor >= 0", name="ck_project_pay_hourly"),
        Index("ix_project_pay_project_from", "project_id", "effective_from"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    currency: Mapped[str] = mapped_column(String(3), default="KRW")
    country: Mapped[str] = mapped_column(String(2), default="KR")
    piece_rate_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    hourly_rate_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)


class MinimumWage(Base):
    """The legal minimum hourly wage of a country from a date on (program office edits)."""

    __tablename__ = "minimum_wage"
    __table_args__ = (
        UniqueConstraint("country", "effective_from", name="uq_minimum_wage_country_from"),
        CheckConstraint("hourly_minor > 0", name="ck_minimum_wage_positive"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    effective_from: Mapped[date] = mapped_column(Date)
    hourly_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)


class LedgerEntry(Base):
    """One double-entry posting. Append-only (database triggers refuse UPDATE and DELETE).

    `seq` is contiguous from 1; `hash` covers the canonical content and `prev_hash`, the
    previous entry's hash. `UNIQUE(kind, work_ref)` makes every posting idempotent.
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("kind", "work_ref", name="uq_ledger_entry_kind_ref"),
        CheckConstraint("amount > 0", name="ck_ledger_entry_amount"),
        CheckConstraint("seq >= 1", name="ck_ledger_entry_seq"),
        CheckConstraint("debit_account <> credit_account", name="ck_ledger_entry_accounts"),
        CheckConstraint(
            "kind IN ('earning', 'top_up', 'bonus', 'payout', 'reversal')",
            name="ck_ledger_entry_kind",
        ),
        Index("ix_ledger_entry_worker", "worker_id", "organization_id"),
        Index("ix_ledger_entry_period", "period", "organization_id"),
    )
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    debit_account: Mapped[str] = mapped_column(String(96))
    credit_account: Mapped[str] = mapped_column(String(96))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    work_ref: Mapped[str] = mapped_column(String(160))
    worker_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    organization_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    project_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    period: Mapped[str | None] = mapped_column(String(7), nullable=True)
    reverses_seq: Mapped[int | None] = mapped_column(BigId, nullable=True)
    memo: Mapped[str] = mapped_column(String(200), default="")
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class LedgerBalance(Base):
    """Each account's balance (credits minus debits), kept with every append for fast reads.

    A cache only: `ledger verify` recomputes every balance from the entries and names any
    account whose cached value differs.
    """

    __tablename__ = "ledger_balance"
    account: Mapped[str] = mapped_column(String(96), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerCheckpoint(Base):
    """A signed statement "the chain had `seq` entries ending in `head_hash`" (Ed25519, with
    the platform key kept outside the database). Catches tail truncation and full rewrites."""

    __tablename__ = "ledger_checkpoint"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    period: Mapped[str | None] = mapped_column(String(7), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(128))


# --- quality: gold questions, pauses, training and qualification ---
# Items with known answers (issue 6): gold questions mixed into the queue, training items that
# show their answer, qualification tests. Such items sit at stage 'gold', outside the queue.


class GoldAnswer(Base):
    """The known answer of a gold, training or qualification item (a result valid for the
    project's schema), with the explanation shown after a training answer."""

    __tablename__ = "gold_answer"
    __table_args__ = (
        CheckConstraint(
            "purpose IN ('gold', 'training', 'qualification')", name="ck_gold_answer_purpose"
        ),
        Index("ix_gold_answer_project_purpose", "project_id", "purpose"),
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    answer: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    explanation: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(String(16), default="gold")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QualitySettings(Base):
    """A project's gold and qualification settings; a project without a row uses defaults."""

    __tablename__ = "quality_settings"
    __table_args__ = (
        CheckConstraint("gold_rate >= 0 AND gold_rate <= 0.5", name="ck_quality_gold_rate"),
        CheckConstraint(
            "pause_threshold >= 0 AND pause_threshold <= 1", name="ck_quality_pause_threshold"
        ),
        CheckConstraint("min_gold_answers >= 1", name="ck_quality_min_gold"),
        CheckConstraint("pass_mark >= 0 AND pass_mark <= 1", name="ck_quality_pass_mark"),
        CheckConstraint("max_attempts >= 1", name="ck_quality_attempts"),
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), primary_key=True)
    gold_rate: Mapped[float] = mapped_column(default=0.0)
    pause_threshold: Mapped[float] = mapped_column(default=0.7)
    min_gold_answers: Mapped[int] = mapped_column(Integer, default=10)
    qualification_required: Mapped[bool] = mapped_column(Boolean, default=False)
    pass_mark: Mapped[float] = mapped_column(default=0.8)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoldResult(Base):
    """A worker's scored answer to a gold question, written when the annotation is stored."""

    __tablename__ = "gold_result"
    __table_args__ = (Index("ix_gold_result_project_worker", "project_id", "worker_id", "at"),)
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    score: Mapped[float] = mapped_column()
    correct: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkerPause(Base):
    """A worker paused on a project (low gold accuracy), with their appeal and its outcome.

    `status`: 'paused' -> 'appealed' -> 'reinstated' | 'upheld'; a reinstated worker's gold
    accuracy counts again from the reinstatement on.
    """

    __tablename__ = "worker_pause"
    __table_args__ = (
        CheckConstraint(
            "status IN ('paused', 'appealed', 'reinstated', 'upheld')",
            name="ck_worker_pause_status",
        ),
        Index("ix_worker_pause_project_worker", "project_id", "worker_id", "status"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason_code: Mapped[str] = mapped_column(String(32), default="gold_accuracy")
    reason: Mapped[str] = mapped_column(Text)
    accuracy: Mapped[float | None] = mapped_column(nullable=True)
    gold_answers: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="paused")
    appeal_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QualificationAttempt(Base):
    """One try at a project's qualification test: 'open' until every question is answered."""

    __tablename__ = "qualification_attempt"
    __table_args__ = (
        UniqueConstraint("project_id", "worker_id", "attempt_no", name="uq_qualification_attempt"),
        CheckConstraint(
            "status IN ('open', 'passed', 'failed')", name="ck_qualification_attempt_status"
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    attempt_no: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    n_items: Mapped[int] = mapped_column(Integer)
    n_correct: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float | None] = mapped_column(nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PracticeAnswer(Base):
    """A training or qualification question served to a worker, then answered.

    `served_at` is stamped when the question is shown, `answered_at` when the answer arrives
    (server clock); the time between, capped, is recorded as paid `worked_time`.
    """

    __tablename__ = "practice_answer"
    __table_args__ = (
        CheckConstraint(
            "purpose IN ('training', 'qualification')", name="ck_practice_answer_purpose"
        ),
        UniqueConstraint("attempt_id", "item_id", name="uq_practice_answer_attempt_item"),
        Index("ix_practice_answer_worker", "project_id", "worker_id", "purpose"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    purpose: Mapped[str] = mapped_column(String(16))
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("qualification_attempt.id"), nullable=True
    )
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn, nullable=True)
    score: Mapped[float | None] = mapped_column(nullable=True)
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    served_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# --- quality: inspection, corrections, lots ---


class InspectionSettings(Base):
    """A project's inspection workflow settings and its ISO 2859-1 switching state.

    `rework_to`: rejected work returns to its own worker ('same') or to another ('other').
    `rejected_lot_action`: a rejected lot goes to full inspection ('full') or back for rework
    ('rework'). `lot_size`: form a lot automatically every N pooled annotations (None: only
    when a manager closes one). `switching` is `quality.switching.SwitchingState` as a dict.
    """

    __tablename__ = "inspection_settings"
    __table_args__ = (
        CheckConstraint("rework_to IN ('same', 'other')", name="ck_inspection_settings_rework"),
        CheckConstraint(
            "rejected_lot_action IN ('full', 'rework')", name="ck_inspection_settings_lot_action"
        ),
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), primary_key=True)
    rework_to: Mapped[str] = mapped_column(String(8), default="same")
    rejected_lot_action: Mapped[str] = mapped_column(String(8), default="full")
    lot_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    switching: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    production_steady: Mapped[bool] = mapped_column(Boolean, default=True)
    reduced_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)


class InspectionStage(Base):
    """One inspection stage of a project, in order (`position` 1, 2, ...).

    `inspector_side`: who inspects: the vendors' inspectors ('vendor'), the owner institution's
    ('owner') or either ('any'). `mode` 'all' inspects every piece of work; 'sample' groups work
    into lots and inspects an ISO 2859-1 sample at `level` and `aql`.
    """

    __tablename__ = "inspection_stage"
    __table_args__ = (
        UniqueConstraint("project_id", "position", name="uq_inspection_stage_position"),
        CheckConstraint("position >= 1", name="ck_inspection_stage_position"),
        CheckConstraint(
            "inspector_side IN ('vendor', 'owner', 'any')", name="ck_inspection_stage_side"
        ),
        CheckConstraint("mode IN ('all', 'sample')", name="ck_inspection_stage_mode"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    inspector_side: Mapped[str] = mapped_column(String(8), default="any")
    mode: Mapped[str] = mapped_column(String(8), default="all")
    level: Mapped[str | None] = mapped_column(String(4), nullable=True)
    aql: Mapped[str | None] = mapped_column(String(8), nullable=True)


class RejectionReason(Base):
    """A reason an inspector may give for rejecting work on a project.

    `bad_faith` marks reasons that say the work was not done honestly (failed attention check,
    impossibly fast); only those may cost the worker pay, and only when no appeal is upheld.
    """

    __tablename__ = "rejection_reason"
    __table_args__ = (UniqueConstraint("project_id", "code", name="uq_rejection_reason_code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    bad_faith: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class InspectionVerdict(Base):
    """An inspector's judgement of one version of one annotation at one stage (append-only
    except for the appeal columns). `version` is the annotation version that was judged."""

    __tablename__ = "inspection_verdict"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('accept', 'reject', 'correct')", name="ck_inspection_verdict_outcome"
        ),
        CheckConstraint(
            "appeal_status IN ('none', 'open', 'upheld', 'denied')",
            name="ck_inspection_verdict_appeal",
        ),
        CheckConstraint("stage >= 1", name="ck_inspection_verdict_stage"),
        Index("ix_inspection_verdict_project_at", "project_id", "at"),
        Index("ix_inspection_verdict_annotation", "annotation_id"),
        Index("ix_inspection_verdict_worker", "worker_id", "project_id"),
        Index("ix_inspection_verdict_inspector", "inspector_id", "project_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    stage: Mapped[int] = mapped_column(Integer, default=1)
    version: Mapped[int] = mapped_column(Integer, default=1)
    outcome: Mapped[str] = mapped_column(String(8))
    reason_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    bad_faith: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    lot_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    appeal_status: Mapped[str] = mapped_column(String(8), default="none")
    appeal_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    appeal_resolved_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), nullable=True
    )
    appeal_resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AnnotationVersion(Base):
    """Every version of an annotation's result. Version 1 is the worker's original; later ones
    are inspectors' corrections or reworks. `annotation.result` always holds the latest, so
    export and metrics read the latest without a join; the history stays here."""

    __tablename__ = "annotation_version"
    __table_args__ = (
        UniqueConstraint("annotation_id", "version", name="uq_annotation_version"),
        CheckConstraint(
            "source IN ('original', 'correction', 'rework')", name="ck_annotation_version_source"
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    source: Mapped[str] = mapped_column(String(12))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InspectionState(Base):
    """Where one annotation stands in the inspection workflow.

    A submitted annotation without a row is waiting at stage 1 (rows are written on the first
    verdict or lot, so submitting work costs nothing extra). `status`: 'queued' (in inspectors'
    queues at `stage`), 'pooled' (at a sampling stage, waiting for a lot), 'held' (in an open lot,
    not sampled), 'rework' (back with `rework_worker_id`), 'done' (passed every stage).
    """

    __tablename__ = "inspection_state"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'pooled', 'held', 'rework', 'done')",
            name="ck_inspection_state_status",
        ),
        Index("ix_inspection_state_queue", "project_id", "status", "stage"),
        Index("ix_inspection_state_rework", "rework_worker_id", "status"),
    )
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    stage: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(8), default="queued")
    version: Mapped[int] = mapped_column(Integer, default=1)
    lot_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    rework_worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), nullable=True
    )
    verdict_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InspectionLot(Base):
    """A lot: a batch of submitted work at a sampling stage, with its ISO 2859-1 plan, the seed
    its sample was drawn with, and its outcome. `switching_before`/`after` record the project's
    switching state around this lot."""

    __tablename__ = "inspection_lot"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'accepted', 'rejected')", name="ck_inspection_lot_status"
        ),
        Index("ix_inspection_lot_project", "project_id", "status"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    stage: Mapped[int] = mapped_column(Integer, default=1)
    size: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(4))
    aql: Mapped[str] = mapped_column(String(8))
    severity: Mapped[str] = mapped_column(String(12))
    code_letter: Mapped[str] = mapped_column(String(2))
    sample_size: Mapped[int] = mapped_column(Integer)
    accept_number: Mapped[int] = mapped_column(Integer)
    reject_number: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8), default="open")
    nonconforming: Mapped[int] = mapped_column(Integer, default=0)
    judged: Mapped[int] = mapped_column(Integer, default=0)
    action: Mapped[str | None] = mapped_column(String(8), nullable=True)
    switching_before: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    switching_after: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn, nullable=True)
    switch_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class InspectionLotItem(Base):
    """One annotation in a lot; `sampled` if it is in the drawn sample."""

    __tablename__ = "inspection_lot_item"
    lot_id: Mapped[int] = mapped_column(ForeignKey("inspection_lot.id"), primary_key=True)
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    sampled: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(8), nullable=True)


# --- quality: metrics and report ---


class QualityCodes(Base):
    """Integer-coded categorical answers of a project, in append-only chunks, so live metrics
    recompute from the new annotations only (a cache: `datadam quality-refresh --full`
    rebuilds it). `data` holds NumPy arrays (`np.savez`); `last_annotation_id` is the highest
    annotation id coded up to and including this chunk."""

    __tablename__ = "quality_codes"
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_annotation_id: Mapped[int] = mapped_column(BigInteger, default=0)
    n_rows: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QualitySnapshot(Base):
    """Live quality metrics of a project at one moment: the project, each vendor and each
    worker (by user id; pages show pseudonyms), per day trends. Pages read the latest row."""

    __tablename__ = "quality_snapshot"
    __table_args__ = (Index("ix_quality_snapshot_project_at", "project_id", "computed_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    n_answers: Mapped[int] = mapped_column(BigInteger, default=0)
    last_annotation_id: Mapped[int] = mapped_column(BigInteger, default=0)
    seconds: Mapped[float] = mapped_column(default=0.0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    # fitted worker confusions, the warm start of the next recompute (never shown)
    state: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)


class QualityPlan(Base):
    """What the dataset should look like: target item count, class shares per control and
    the targets of the quality report (semantic accuracy, validity metric, tolerances)."""

    __tablename__ = "quality_plan"
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), primary_key=True)
    target_items: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    class_targets: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    targets: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QualityChecklist(Base):
    """The auditor's answer to one readiness or usefulness question of a project's report."""

    __tablename__ = "quality_checklist"
    __table_args__ = (
        CheckConstraint("answer IN ('yes', 'no', 'na')", name="ck_quality_checklist_answer"),
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    answer: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- pay: payouts, rejection policy, private bank details ---
# Rates per kind of work, work withheld from pay and why, payout requests, and the worker's
# private profile (name, contact, bank account) that only they and their vendor's admins see.


class PayTaskRate(Base):
    """A project's rate for one kind of work from `effective_from` on; kinds without a row
    are paid at the project's terms (`project_pay`)."""

    __tablename__ = "pay_task_rate"
    __table_args__ = (
        CheckConstraint("piece_rate_minor >= 0", name="ck_pay_task_rate_piece"),
        CheckConstraint("hourly_rate_minor >= 0", name="ck_pay_task_rate_hourly"),
        CheckConstraint(
            "task_type IN ('labeling', 'training', 'qualification', 'rework', 'other')",
            name="ck_pay_task_rate_type",
        ),
        Index("ix_pay_task_rate_project", "project_id", "task_type", "effective_from"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    task_type: Mapped[str] = mapped_column(String(16))
    piece_rate_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    hourly_rate_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)


class PayWithheld(Base):
    """Work a period close did not pay, and why (a bad-faith rejection whose appeal was not
    upheld). `released_at` is set when a later close pays it after all (appeal upheld)."""

    __tablename__ = "pay_withheld"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    work_ref: Mapped[str] = mapped_column(String(160), unique=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    verdict_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    duration_us: Mapped[int] = mapped_column(BigInteger, default=0)
    withheld_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PayoutRequest(Base):
    """A worker asks the organisation that owes them to pay out; a vendor admin approves
    (one `payout` ledger entry) or declines."""

    __tablename__ = "payout_request"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="ck_payout_request_amount"),
        CheckConstraint(
            "status IN ('requested', 'approved', 'declined')", name="ck_payout_request_status"
        ),
        Index("ix_payout_request_org_status", "organization_id", "status"),
        Index("ix_payout_request_worker", "worker_id", "organization_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="requested")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ledger_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")


class WorkerProfile(Base):
    """A worker's personal data. Only the worker and admins of a vendor they work for read it;
    everyone else knows the worker by pseudonym."""

    __tablename__ = "worker_profile"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    bank_name: Mapped[str] = mapped_column(String(80), default="")
    bank_account: Mapped[str] = mapped_column(String(64), default="")
    account_holder: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- accountability: scorecards, talent pool ---
# Workers opt in to a talent pool per field; organisations send them job offers. Scorecards
# are computed from the ledger, worked time, verdicts and these rows, so they need no table.


class TalentOptIn(Base):
    """A worker's consent to show their verified (pseudonymous) history to organisations
    hiring in `field`. Withdrawing deletes the row (audited)."""

    __tablename__ = "talent_opt_in"
    __table_args__ = (UniqueConstraint("worker_id", "field", name="uq_talent_opt_in"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    field: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobOffer(Base):
    """An organisation's offer to a pool candidate: sent -> accepted | declined | withdrawn;
    accepted -> hired. The worker's name and contact reach the organisation only once accepted."""

    __tablename__ = "job_offer"
    __table_args__ = (
        CheckConstraint(
            "status IN ('sent', 'accepted', 'declined', 'withdrawn', 'hired')",
            name="ck_job_offer_status",
        ),
        Index("ix_job_offer_org_created", "organization_id", "created_at"),
        Index("ix_job_offer_worker_status", "worker_id", "status"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    field: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="sent")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
