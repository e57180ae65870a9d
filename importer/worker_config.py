"""Worker timings from the environment, shared by `importer worker` and the stock CLI."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs

from importer.settings import ConfigError


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, not {value}")
    return value


@attrs.frozen(kw_only=True)
class WorkerConfig:
    """How fast a dead worker is noticed and its imports run again.

    A worker beats every `heartbeat` seconds; one silent for `stalled_after` seconds is dead,
    and the recovery task (every `recovery_every` seconds) puts its running imports back in
    the queue. On SIGTERM a worker lets running jobs finish for `shutdown_grace` seconds, then
    aborts them; an aborted import is rolled back and retried by another worker.
    """

    heartbeat: float = 5.0
    stalled_after: float = 30.0
    recovery_every: int = 10
    shutdown_grace: float = 20.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerConfig:
        env = os.environ if env is None else env
        default = cls()
        config = cls(
            heartbeat=_seconds(env, "IMPORTER_WORKER_HEARTBEAT_SECONDS", default.heartbeat),
            stalled_after=_seconds(env, "IMPORTER_WORKER_STALLED_SECONDS", default.stalled_after),
            recovery_every=min(59, max(1, int(_seconds(
                env, "IMPORTER_RECOVERY_EVERY_SECONDS", default.recovery_every)))),
            shutdown_grace=_seconds(env, "IMPORTER_WORKER_SHUTDOWN_GRACE_SECONDS", default.shutdown_grace),
        )
        if config.stalled_after <= config.heartbeat:
            raise ConfigError("IMPORTER_WORKER_STALLED_SECONDS must exceed IMPORTER_WORKER_HEARTBEAT_SECONDS")
        return config

    @property
    def recovery_cron(self) -> str:
        # croniter's optional sixth field is seconds.
        return f"* * * * * */{self.recovery_every}"

    def worker_options(self) -> dict[str, Any]:
        """Keyword arguments of procrastinate's run_worker (App.worker_defaults)."""
        return {
            "update_heartbeat_interval": self.heartbeat,
            "stalled_worker_timeout": self.stalled_after,
            "shutdown_graceful_timeout": self.shutdown_grace,
        }
