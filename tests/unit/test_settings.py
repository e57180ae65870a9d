"""Configuration from the environment: defaults of API.md, clear errors for bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from importer.settings import DEV_JWT_SECRET, ConfigError, LoadSettings, Settings, WorkerSettings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_those_of_the_contract():
    """An empty environment gives API.md's defaults and the development secret."""
    s = Settings.from_env({})
    assert s.database_url is None
    assert s.jwt_secret == DEV_JWT_SECRET and s.uses_dev_secret
    assert (s.email_threshold, s.max_upload_bytes, s.max_active_jobs, s.retention_days) == (
        200, 104_857_600, 3, 7)
    assert s.app_url == "http://localhost:8080"
    assert str(s.outbox_dir) == ".data/outbox"
    assert (s.max_streams_per_user, s.max_streams, s.max_stored_bytes_per_user) == (16, 10_000, 1 << 30)
    assert (s.environment, s.metrics_token) == ("development", None)


def test_limits_environment_and_metrics_token_are_read():
    """The hardening limits of API.md's table, IMPORTER_ENV and IMPORTER_METRICS_TOKEN."""
    s = Settings.from_env({"IMPORTER_MAX_STREAMS_PER_USER": "4", "IMPORTER_MAX_STREAMS": "900",
                           "IMPORTER_MAX_STORED_BYTES_PER_USER": "1000", "IMPORTER_ENV": "production",
                           "IMPORTER_METRICS_TOKEN": "m3trics"})
    assert (s.max_streams_per_user, s.max_streams, s.max_stored_bytes_per_user) == (4, 900, 1000)
    assert (s.environment, s.metrics_token) == ("production", "m3trics")


def test_request_body_pace_defaults_and_overrides():
    """A body may idle 30 s and must average 4096 B/s by default; both can be set."""
    assert (Settings.from_env({}).body_idle_seconds, Settings.from_env({}).body_min_rate) == (30.0, 4096)
    s = Settings.from_env({"IMPORTER_BODY_IDLE_SECONDS": "2.5", "IMPORTER_BODY_MIN_RATE": "100"})
    assert (s.body_idle_seconds, s.body_min_rate) == (2.5, 100)


def test_values_are_read_and_trimmed():
    """Set variables override the defaults; APP_URL loses a trailing slash."""
    s = Settings.from_env({"IMPORTER_MAX_ACTIVE_JOBS": "5", "APP_URL": "https://hjul.example/",
                           "IMPORTER_CORS_ORIGINS": "https://a.example, https://b.example",
                           "IMPORTER_JWT_SECRET": "s3cret"})
    assert s.max_active_jobs == 5
    assert s.app_url == "https://hjul.example"
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert not s.uses_dev_secret


@pytest.mark.parametrize("name,value", [("IMPORTER_MAX_ACTIVE_JOBS", "three"),
                                        ("IMPORTER_MAX_UPLOAD_BYTES", "0"),
                                        ("IMPORTER_LOG_FORMAT", "xml"),
                                        ("IMPORTER_EMAIL_RETRY_WAIT", "soon"),
                                        ("IMPORTER_MAX_STORED_REJECTIONS", "many"),
                                        ("IMPORTER_RECOVERY_EVERY_SECONDS", "often"),
                                        ("IMPORTER_MAX_STREAMS_PER_USER", "0"),
                                        ("IMPORTER_MAX_STORED_BYTES_PER_USER", "1G"),
                                        ("IMPORTER_ENV", "prod"),
                                        ("IMPORTER_BODY_IDLE_SECONDS", "0"),
                                        ("IMPORTER_BODY_MIN_RATE", "fast")])
def test_bad_values_are_refused_with_the_variable_named(name, value):
    """A value the service cannot use stops start-up with a message naming the variable."""
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_load_defaults_and_the_stored_rejections_override():
    """The load's tunables default to the bench's best; IMPORTER_MAX_STORED_REJECTIONS sets its cap."""
    assert Settings.from_env({}).load == LoadSettings()
    assert (LoadSettings().chunk_rows, LoadSettings().process_min_bytes, LoadSettings().statement_rows) == (
        5000, 2_000_000, 10_000)
    assert Settings.from_env({"IMPORTER_MAX_STORED_REJECTIONS": "25"}).load.max_stored_rejections == 25


# Worker timings (formerly tests/unit/test_worker_config.py).

def test_defaults_and_overrides():
    """Unset variables give the defaults; set ones override them and reach the worker options."""
    assert Settings.from_env({}).worker == WorkerSettings()
    config = Settings.from_env({"IMPORTER_WORKER_HEARTBEAT_SECONDS": "0.5",
                                "IMPORTER_WORKER_STALLED_SECONDS": "2",
                                "IMPORTER_RECOVERY_EVERY_SECONDS": "3",
                                "IMPORTER_WORKER_SHUTDOWN_GRACE_SECONDS": "1"}).worker
    assert config.worker_options() == {"update_heartbeat_interval": 0.5, "stalled_worker_timeout": 2.0,
                                       "shutdown_graceful_timeout": 1.0}
    assert config.recovery_cron == "* * * * * */3"


def test_stalled_timeout_must_exceed_heartbeat():
    """A worker would be declared dead between two of its own heartbeats: refused."""
    with pytest.raises(ConfigError):
        Settings.from_env({"IMPORTER_WORKER_HEARTBEAT_SECONDS": "5",
                           "IMPORTER_WORKER_STALLED_SECONDS": "5"})


def test_bad_numbers_are_refused():
    """Non-numbers and non-positive values are configuration errors, not silent defaults."""
    for value in ("soon", "0", "-1"):
        with pytest.raises(ConfigError):
            Settings.from_env({"IMPORTER_WORKER_HEARTBEAT_SECONDS": value})


def test_no_module_reads_the_environment_when_imported():
    """Every module of importer/ and server/ imports under unusable settings; the stock CLI's App then refuses them."""
    script = """
import importlib, pkgutil, importer, server
names = [m.name for package in (importer, server)
         for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
         if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
import importer.tasks
from importer.settings import ConfigError
try:
    importer.tasks.app
except ConfigError as exc:
    print("refused:", exc)
"""
    bad = {name: "bad" for name in ("IMPORTER_LOG_FORMAT", "IMPORTER_MAX_ACTIVE_JOBS", "IMPORTER_EMAIL_RETRY_WAIT",
                                    "IMPORTER_MAX_STORED_REJECTIONS", "IMPORTER_WORKER_HEARTBEAT_SECONDS",
                                    "IMPORTER_RECOVERY_EVERY_SECONDS", "IMPORTER_RETENTION_DAYS")}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("IMPORTER_")}, **bad}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("refused: IMPORTER_"), proc.stdout + proc.stderr


def test_bench_switches_are_off_by_default_and_parsed_at_the_edge():
    """IMPORTER_BENCH_TASKS and IMPORTER_BENCH_PROGRESS_NOTIFY take on/off; anything else stops start-up."""
    default = Settings.from_env({}).bench
    assert (default.tasks, default.progress_notify, default.session_options) == (False, True, None)
    bench = Settings.from_env({"IMPORTER_BENCH_TASKS": "on", "IMPORTER_BENCH_PROGRESS_NOTIFY": "off"}).bench
    assert (bench.tasks, bench.progress_notify) == (True, False)
    assert bench.session_options == "-c importer.bench_progress_notify=off"
    with pytest.raises(ConfigError, match="IMPORTER_BENCH_PROGRESS_NOTIFY must be on or off"):
        Settings.from_env({"IMPORTER_BENCH_PROGRESS_NOTIFY": "maybe"})
