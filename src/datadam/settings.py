"""All configuration, from `DATADAM_*` environment variables, in one class.

Every field is documented in the README's configuration table (a test checks this).
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_BYTES = 32
_KNOWN_BAD_SECRETS = {"changeme", "secret", "datadam", "development", "test"}


class Settings(BaseSettings):
    """Runtime configuration of a datadam server or command."""

    model_config = SettingsConfigDict(env_prefix="DATADAM_", extra="ignore")

    env: Literal["development", "production", "test"] = Field(
        "development", description="development, production or test; production hides /docs."
    )
    data_dir: Path = Field(
        Path("datadam-data"), description="Folder for the SQLite database, media and secrets."
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default SQLite at DATA_DIR/datadam.db."
    )
    secret_key: str | None = Field(
        None, description="Signing key (>= 32 bytes); generated into DATA_DIR/secret_key if unset."
    )
    storage_url: str | None = Field(
        None,
        description="Media storage: a folder path or s3://bucket/prefix; default DATA_DIR/media.",
    )
    s3_endpoint_url: str | None = Field(None, description="Endpoint of S3-compatible storage.")
    password_profile: Literal["rfc9106", "cheapest"] = Field(
        "rfc9106", description="argon2 cost; 'cheapest' is refused outside the test environment."
    )
    session_idle_minutes: int = Field(120, description="A session unused this long expires.")
    session_absolute_hours: int = Field(24, description="A session expires this long after login.")
    max_upload_bytes: int = Field(
        512 * 1024 * 1024, description="Largest import upload accepted (bytes)."
    )
    max_body_bytes: int = Field(
        4 * 1024 * 1024, description="Largest JSON request body accepted (bytes)."
    )
    max_jobs_per_user: int = Field(
        2, ge=1, description="Imports and exports one person may run at once (per process)."
    )
    docs_enabled: bool | None = Field(
        None, description="Serve /docs and /openapi.json; default on except in production."
    )
    trust_proxy: bool = Field(
        False, description="Trust X-Forwarded-Proto from a reverse proxy (for Secure cookies)."
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'datadam.db').resolve()}"

    @property
    def show_docs(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else self.env != "production"

    def resolved_secret_key(self) -> str:
        """The signing key: configured, or generated once into the data dir with mode 0600."""
        if self.secret_key is not None:
            check_secret_key(self.secret_key)
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


def check_secret_key(key: str) -> None:
    """Refuse short or well-known keys: a guessable key lets anyone forge sessions."""
    if len(key.encode()) < MIN_SECRET_BYTES or key.lower() in _KNOWN_BAD_SECRETS:
        raise ValueError(
            f"DATADAM_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes of random text"
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
