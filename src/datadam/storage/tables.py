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
    String,
    Text,
    UniqueConstraint,
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


# --- quality: inspection, corrections, lots ---


# --- quality: metrics and report ---


# --- pay: payouts, rejection policy, private bank details ---


# --- accountability: scorecards, talent pool ---
