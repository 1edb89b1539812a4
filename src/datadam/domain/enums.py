"""The vocabulary of the platform: kinds of organisation, roles, stages and statuses.

Values are stored as their lower-case strings, so they read the same in SQL, JSON and logs.
"""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    """What an organisation is to the program."""

    PROGRAM_OFFICE = "program_office"
    QUALITY_AGENCY = "quality_agency"
    INSTITUTION = "institution"
    VENDOR = "vendor"


class Role(StrEnum):
    """A person's role inside one organisation (a person may hold several)."""

    ADMIN = "admin"
    MANAGER = "manager"
    WORKER = "worker"
    INSPECTOR = "inspector"
    AUDITOR = "auditor"


class Stage(StrEnum):
    """An item's place in the dataset's life. Only `stages.transitions` may change it."""

    COLLECTED = "collected"
    REFINED = "refined"
    LABELING = "labeling"
    INSPECTION = "inspection"
    ACCEPTED = "accepted"
    RELEASED = "released"
    # Known-answer items (gold questions, training, qualification): outside the labeling queue,
    # never counted toward overlap or progress, never exported as dataset items.
    GOLD = "gold"


class ProjectStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"


class AssignmentStatus(StrEnum):
    ACTIVE = "active"
    SUBMITTED = "submitted"
    EXPIRED = "expired"
    SKIPPED = "skipped"


class ImportStatus(StrEnum):
    """`interrupted` is what a crashed `running` import is found as; `--resume` finishes it."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
