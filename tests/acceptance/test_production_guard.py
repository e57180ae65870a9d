"""IMPORTER_ENV=production refuses to start without DATABASE_URL or with the development JWT secret:
every service entry point exits non-zero with a message naming the variable, before it creates
anything (no embedded Postgres in the data directory). The choice of database itself (the
warning in development) is tests/unit/test_database_choice.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from importer import embedded
from importer.settings import DEV_JWT_SECRET
from tests.live_server import IMPORTER

SECRET = "a-production-secret-" + "0123456789abcdef" * 4
# Never reached: the guard refuses before any connection is tried.
UNREACHABLE_URL = "postgresql://postgres@127.0.0.1:9/nowhere?connect_timeout=2"
PROCRASTINATE = str(Path(sys.executable).with_name("procrastinate"))
ENTRY_POINTS = {
    "serve": [IMPORTER, "serve", "--port", "0", "--with-worker"],
    "worker": [IMPORTER, "worker"],
    "migrate": [IMPORTER, "migrate"],
    "procrastinate": [PROCRASTINATE, "--app=importer.tasks.app", "worker"],
}


def start(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The command in `cwd` with only `env` besides PATH; a process that starts instead of
    refusing is killed after a minute (and the embedded Postgres it may have made, stopped)."""
    base = {"PATH": os.environ["PATH"], "IMPORTER_DATA_DIR": str(cwd / ".data"), "IMPORTER_LOG_FORMAT": "text"}
    try:
        return subprocess.run(command, cwd=cwd, env={**base, **env}, capture_output=True, text=True,
                              timeout=60, check=False)
    except subprocess.TimeoutExpired as exc:
        embedded.stop(cwd / ".data")
        pytest.fail(f"{command[1:]} started instead of refusing: {exc.stdout!r} {exc.stderr!r}")


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_production_without_database_url_refuses_to_start(entry: str, tmp_path: Path) -> None:
    """No DATABASE_URL in production: exit non-zero, DATABASE_URL named, no .data/pg created."""
    result = start(ENTRY_POINTS[entry], tmp_path, IMPORTER_ENV="production", IMPORTER_JWT_SECRET=SECRET)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "IMPORTER_ENV=production refuses to start" in result.stderr
    assert "DATABASE_URL is not set" in result.stderr and "IMPORTER_JWT_SECRET" not in result.stderr
    assert "Traceback" not in result.stderr or entry == "procrastinate", result.stderr
    assert not (tmp_path / ".data" / "pg").exists()


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("secret", [None, DEV_JWT_SECRET], ids=["unset", "dev-secret"])
def test_production_with_the_development_secret_refuses_to_start(entry: str, secret: str | None,
                                                                tmp_path: Path) -> None:
    """The development JWT secret (unset, or set to it) in production: exit non-zero, the variable named."""
    env = {"IMPORTER_ENV": "production", "DATABASE_URL": UNREACHABLE_URL}
    if secret is not None:
        env["IMPORTER_JWT_SECRET"] = secret
    result = start(ENTRY_POINTS[entry], tmp_path, **env)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "IMPORTER_JWT_SECRET is not set (or is the development secret)" in result.stderr, result.stderr
    assert "DATABASE_URL is not set" not in result.stderr
    assert not (tmp_path / ".data").exists()


def test_importer_commands_exit_2_with_the_message(tmp_path: Path) -> None:
    """`importer` itself exits 2 (usage) with one line naming both variables, not a traceback."""
    result = start(ENTRY_POINTS["worker"], tmp_path, IMPORTER_ENV="production")
    assert result.returncode == 2
    assert result.stderr.startswith("importer: IMPORTER_ENV=production refuses to start:\n  ")
    assert "DATABASE_URL" in result.stderr and "IMPORTER_JWT_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_with_both_set_starts(db_url: str, tmp_path: Path) -> None:
    """With DATABASE_URL and a real secret, production starts: `importer migrate` runs and exits 0."""
    result = start([IMPORTER, "migrate"], tmp_path, IMPORTER_ENV="production", DATABASE_URL=db_url,
                   IMPORTER_JWT_SECRET=SECRET)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "refuses" not in result.stderr and "EMBEDDED" not in result.stderr
    assert not (tmp_path / ".data").exists()
