"""C-03: the signing key is generated once with mode 0600, reused, and weak keys are refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from datadam.settings import Settings, check_secret_key


def test_generated_key_is_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path / "data", secret_key=None)
    first = settings.resolved_secret_key()
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.encode()) >= 32
    again = Settings(env="test", data_dir=tmp_path / "data", secret_key=None)
    assert again.resolved_secret_key() == first


@pytest.mark.parametrize("key", ["short", "x" * 31, "changeme", "Secret"])
def test_weak_keys_are_refused_naming_the_variable(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="DATADAM_SECRET_KEY"):
        check_secret_key(key)
    settings = Settings(env="test", data_dir=tmp_path, secret_key=key)
    with pytest.raises(ValueError, match="DATADAM_SECRET_KEY"):
        settings.resolved_secret_key()


def test_create_app_refuses_a_weak_key(tmp_path: Path) -> None:
    from datadam.storage.db import open_database
    from datadam.web.app import create_app

    db = open_database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with pytest.raises(ValueError, match="DATADAM_SECRET_KEY"):
            create_app(Settings(env="test", data_dir=tmp_path, secret_key="too short"), db)
    finally:
        db.dispose()
