"""Worker timings from the environment."""

from __future__ import annotations

import pytest

from importer.settings import ConfigError
from importer.worker_config import WorkerConfig


def test_defaults_and_overrides():
    """Unset variables give the defaults; set ones override them and reach the worker options."""
    assert WorkerConfig.from_env({}) == WorkerConfig()
    config = WorkerConfig.from_env({"IMPORTER_WORKER_HEARTBEAT_SECONDS": "0.5",
                                    "IMPORTER_WORKER_STALLED_SECONDS": "2",
                                    "IMPORTER_RECOVERY_EVERY_SECONDS": "3",
                                    "IMPORTER_WORKER_SHUTDOWN_GRACE_SECONDS": "1"})
    assert config.worker_options() == {"update_heartbeat_interval": 0.5, "stalled_worker_timeout": 2.0,
                                       "shutdown_graceful_timeout": 1.0}
    assert config.recovery_cron == "* * * * * */3"


def test_stalled_timeout_must_exceed_heartbeat():
    """A worker would be declared dead between two of its own heartbeats: refused."""
    with pytest.raises(ConfigError):
        WorkerConfig.from_env({"IMPORTER_WORKER_HEARTBEAT_SECONDS": "5",
                               "IMPORTER_WORKER_STALLED_SECONDS": "5"})


def test_bad_numbers_are_refused():
    """Non-numbers and non-positive values are configuration errors, not silent defaults."""
    for value in ("soon", "0", "-1"):
        with pytest.raises(ConfigError):
            WorkerConfig.from_env({"IMPORTER_WORKER_HEARTBEAT_SECONDS": value})
