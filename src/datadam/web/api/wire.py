"""Wire types of the JSON API. Inputs forbid unknown fields (no mass assignment) and NUL
characters anywhere in their strings, keys included: PostgreSQL cannot store U+0000 in text or
JSON, so such a value is refused with 422 on every database rather than failing on one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_ID = 2**63 - 1  # ids are 64-bit in both databases; a larger number is not an id

# A path parameter holding an object id. Bounded so that a huge number is a 422 here and
# never reaches the database driver (which overflows on it: a 500 on SQLite and PostgreSQL).
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


def refuse_nul(value: Any) -> Any:
    """`value` unchanged, or ValueError when a string in it (at any depth) holds U+0000."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL (U+0000) characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key)
            refuse_nul(item)
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_nul(item)
    return value


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class OrganizationPublic(BaseModel):
    id: int
    slug: str
    name: str
    kind: str


class OrganizationCreate(Input):
    slug: str = Field(min_length=2, max_length=63)
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(pattern="^(program_office|quality_agency|institution|vendor)$")


class MemberPublic(BaseModel):
    pseudonym: str
    display_name: str
    role: str


class MemberAdd(Input):
    email: str = Field(min_length=3, max_length=254)
    role: str = Field(pattern="^(admin|manager|worker|inspector|auditor)$")


class ProjectCreate(Input):
    owner_org_id: int = Field(ge=1, le=MAX_ID)
    name: str = Field(min_length=1, max_length=200)
    labeling_schema: dict[str, Any] = Field(description="The labeling schema (see docs).")
    overlap: int = Field(1, ge=1, le=50)
    lease_seconds: int = Field(1800, ge=30, le=604800)
    instructions: str = Field("", max_length=100_000)
    field: str = Field("general", max_length=64)
    modality: str = Field("text", max_length=64)


class ProjectUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    labeling_schema: dict[str, Any] | None = None
    overlap: int | None = Field(None, ge=1, le=50)
    lease_seconds: int | None = Field(None, ge=30, le=604800)
    instructions: str | None = Field(None, max_length=100_000)
    status: str | None = Field(None, pattern="^(draft|active|paused|closed)$")
    field: str | None = Field(None, max_length=64)
    modality: str | None = Field(None, max_length=64)


class ProjectPublic(BaseModel):
    id: int
    owner_org_id: int
    name: str
    field: str
    modality: str
    labeling_schema: dict[str, Any]
    schema_version: int
    overlap: int
    lease_seconds: int
    instructions: str
    status: str
    vendor_ids: list[int]
    actions: list[str]
    created_at: datetime


class ProjectStats(BaseModel):
    items: int
    annotations: int
    complete: int
    by_stage: dict[str, int]


class VendorGrant(Input):
    organization_id: int = Field(ge=1, le=MAX_ID)


class ItemPublic(BaseModel):
    id: int
    external_id: str | None
    stage: str
    payload: dict[str, Any]
    labels_done: int


class ImportPublic(BaseModel):
    id: int
    project_id: int
    filename: str
    status: str
    rows_total: int
    rows_done: int
    imported: int
    duplicates: int
    errors: list[dict[str, Any]]
    created_at: datetime


class TaskPublic(BaseModel):
    assignment_id: int
    project_id: int
    item_id: int
    payload: dict[str, Any]
    expires_at: datetime


class SubmitRequest(Input):
    result: dict[str, Any]
    client_submission_id: str = Field(min_length=1, max_length=64)


class SubmitResponse(BaseModel):
    annotation_id: int
    assignment_id: int
    item_id: int
    submitted_at: datetime
    replayed: bool
    next_checked: bool = Field(
        False,
        description="True when `?next_in_project=ID` asked for the next task in the same call.",
    )
    next: TaskPublic | None = Field(
        None,
        description="With `?next_in_project=ID`: your next task, or null when none is left.",
    )


class SkipRequest(Input):
    reason: str = Field(min_length=1, max_length=500)


class AnnotationPublic(BaseModel):
    id: int
    item_id: int
    worker: str
    result: dict[str, Any]
    submitted_at: datetime
    active_seconds: float


def file_upload_body(description: str) -> dict[str, Any]:
    """OpenAPI extra for a route that reads one multipart file named `file` itself (streamed,
    so FastAPI does not parse the form)."""
    file_field = {"type": "string", "format": "binary", "description": description}
    schema = {"type": "object", "required": ["file"], "properties": {"file": file_field}}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }
