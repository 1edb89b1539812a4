"""Wire types of the pay API. Inputs forbid unknown fields; money is integer minor units."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_MINOR = 10**12


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectPayUpdate(_Input):
    piece_rate_minor: int = Field(0, ge=0, le=MAX_MINOR, description="Per submitted item.")
    hourly_rate_minor: int = Field(0, ge=0, le=MAX_MINOR, description="Per measured hour.")
    currency: str = Field("KRW", pattern="^[A-Z]{3}$")
    country: str = Field("KR", pattern="^[A-Z]{2}$", description="Whose minimum wage applies.")


class ProjectPayPublic(BaseModel):
    project_id: int
    piece_rate_minor: int
    hourly_rate_minor: int
    currency: str
    country: str
    effective_from: datetime | None


class BonusCreate(_Input):
    worker_pseudonym: str = Field(min_length=1, max_length=32)
    amount_minor: int = Field(gt=0, le=MAX_MINOR)
    reason: str = Field(min_length=1, max_length=200)
    client_ref: str = Field(
        min_length=1, max_length=64, description="Your id for this bonus; retries reuse it."
    )


class EntryPublic(BaseModel):
    seq: int
    kind: str
    amount_minor: int
    currency: str
    work_ref: str
    at: datetime


class MinimumWageSet(_Input):
    country: str = Field(pattern="^[A-Z]{2}$")
    effective_from: date
    hourly_minor: int = Field(gt=0, le=MAX_MINOR)
    currency: str = Field(pattern="^[A-Z]{3}$")


class MinimumWagePublic(BaseModel):
    country: str
    effective_from: date
    hourly_minor: int
    currency: str


class PlatformKeyPublic(BaseModel):
    algorithm: str
    key_id: str
    public_key_pem: str


class CertificateRequest(_Input):
    include_display_name: bool = Field(
        False, description="Put your name in the certificate (otherwise only your pseudonym)."
    )


class PaySummaryWorker(BaseModel):
    worker: str | None
    worked_seconds: int
    items: int
    earnings_minor: int
    effective_hourly_minor: int | None
    below_minimum: bool
    piece_rate_needed_minor: int | None


class PaySummary(BaseModel):
    project_id: int
    period: str
    from_: datetime = Field(alias="from")
    to: datetime
    currency: str
    country: str
    piece_rate_minor: int
    hourly_rate_minor: int
    minimum_hourly_minor: int | None
    median_effective_hourly_minor: int | None
    below_minimum: bool
    workers_below_minimum: int
    suggested_piece_rate_minor: int | None
    piece_rate_for_every_worker_minor: int | None
    workers: list[PaySummaryWorker]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    @classmethod
    def of(cls, summary: dict[str, Any]) -> PaySummary:
        return cls.model_validate(summary)


class TaskRateSet(_Input):
    task_type: str = Field(pattern="^(labeling|training|qualification|rework|other)$")
    piece_rate_minor: int = Field(0, ge=0, le=MAX_MINOR, description="Labeling and rework only.")
    hourly_rate_minor: int = Field(0, ge=0, le=MAX_MINOR)


class TaskRatePublic(BaseModel):
    task_type: str
    piece_rate_minor: int
    hourly_rate_minor: int
    effective_from: datetime | None


class PayoutRequestCreate(_Input):
    organization_id: int = Field(ge=1, le=2**63 - 1, description="Who owes you the money.")
    amount_minor: int = Field(gt=0, le=MAX_MINOR)
    currency: str = Field("KRW", pattern="^[A-Z]{3}$")


class PayoutDecision(_Input):
    note: str = Field("", max_length=200)


class PayoutRequestPublic(BaseModel):
    id: int
    organization_id: int
    amount_minor: int
    currency: str
    status: str
    requested_at: datetime
    decided_at: datetime | None
    ledger_seq: int | None
    note: str


class BalancePublic(BaseModel):
    organization_id: int
    organization_name: str
    currency: str
    balance_minor: int
    requested_minor: int
    available_minor: int


class ProfileUpdate(_Input):
    legal_name: str | None = Field(None, max_length=120)
    phone: str | None = Field(None, max_length=40)
    contact_email: str | None = Field(None, max_length=254)
    bank_name: str | None = Field(None, max_length=80)
    bank_account: str | None = Field(None, max_length=64)
    account_holder: str | None = Field(None, max_length=120)


class ProfilePublic(BaseModel):
    user_id: int
    pseudonym: str
    display_name: str
    legal_name: str
    phone: str
    contact_email: str
    bank_name: str
    bank_account: str
    account_holder: str
