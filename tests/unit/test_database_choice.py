"""The database a process uses: DATABASE_URL, else the embedded Postgres of its data directory
with a loud WARNING (workers and servers must share one database), refused in production."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from importer.db import database_choice
from importer.settings import ConfigError, Settings

SECRET = "a-production-secret-" + "0123456789abcdef" * 4
URL = "postgresql://postgres@127.0.0.1:9/nowhere"


def test_embedded_database_is_chosen_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Without DATABASE_URL (development) the embedded database of the data directory is chosen
    and a WARNING says so, naming .data/pg's place and the shared DATABASE_URL workers need."""
    settings = Settings.from_env({"IMPORTER_DATA_DIR": str(tmp_path / ".data")})
    with caplog.at_level(logging.WARNING, logger="importer.embedded"):
        assert database_choice(settings) == tmp_path / ".data"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert str((tmp_path / ".data" / "pg").resolve()) in message
    assert "EMBEDDED Postgres" in message and "Workers and servers must share one DATABASE_URL" in message
    assert not (tmp_path / ".data").exists()  # choosing starts nothing


def test_database_url_is_chosen_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """With DATABASE_URL set, production or not, it is the choice and nothing is logged."""
    for environment in ("development", "production"):
        settings = Settings.from_env({"DATABASE_URL": URL, "IMPORTER_ENV": environment,
                                      "IMPORTER_JWT_SECRET": SECRET})
        with caplog.at_level(logging.WARNING):
            assert database_choice(settings) == URL
    assert not caplog.records


def test_production_refuses_the_embedded_database(tmp_path: Path) -> None:
    """In production the choice itself refuses the embedded database (`importer jobs` and others)."""
    settings = Settings.from_env({"IMPORTER_DATA_DIR": str(tmp_path / ".data"), "IMPORTER_ENV": "production",
                                  "IMPORTER_JWT_SECRET": SECRET})
    with pytest.raises(ConfigError, match="DATABASE_URL is not set"):
        database_choice(settings)
    assert not (tmp_path / ".data").exists()
