"""Configuration from the environment (the table in API.md), parsed once per process at its edge.

Each entry point (`importer serve`, `importer worker`, the other `importer` commands and the
stock Procrastinate CLI through importer/tasks.py) calls `Settings.from_env()` once and hands
the value down: to the aiohttp app as `keys.SETTINGS`, to tasks through the job context
(`importer.jobs.app.settings_of`). Nothing reads the environment at import time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

# The one parser of the environment: an unset or blank variable gives the default, anything else
# must parse or start-up stops with a ConfigError naming the variable. (ConfigError is imported
# from here by the entry points.)
from importer.environment import ConfigError as ConfigError
from importer.environment import choice as _choice
from importer.environment import given as _raw
from importer.environment import integer as _int
from importer.environment import seconds as _seconds
from importer.environment import switch as _switch
from importer.environment import text as _str

if TYPE_CHECKING:
    from procrastinate.app import WorkerOptions

log = logging.getLogger(__name__)

DEV_JWT_SECRET = "development-secret-do-not-use-in-production"
LOG_FORMATS = ("auto", "json", "text")
ENVIRONMENTS = ("development", "production")
# Seconds before the first retry of a failed e-mail send; doubled for each further one.
DEFAULT_EMAIL_RETRY_WAIT = 30


@attrs.frozen(kw_only=True)
class BenchSettings:
    """Switches for bench/ only, never for production (README, "Tests and benchmarks").

    `tasks` (IMPORTER_BENCH_TASKS=on): the worker also runs the tasks of
    importer/jobs/bench_tasks.py (a no-op task, the denominator of bench/small_imports.py).
    `progress_notify` (IMPORTER_BENCH_PROGRESS_NOTIFY=off): the worker's progress writes notify
    nobody (schema/0016.job-notify-v3.sql), so bench/notify_concurrency.py can measure what the NOTIFY costs.
    """

    tasks: bool = False
    progress_notify: bool = True

    @property
    def session_options(self) -> str | None:
        """libpq `options` for the worker's connections, or None when nothing is switched."""
        return None if self.progress_notify else "-c importer.bench_progress_notify=off"


def _bench(env: Mapping[str, str]) -> BenchSettings:
    return BenchSettings(tasks=_switch(env, "IMPORTER_BENCH_TASKS", False),
                         progress_notify=_switch(env, "IMPORTER_BENCH_PROGRESS_NOTIFY", True))


@attrs.frozen(kw_only=True)
class WorkerSettings:
    """How fast a dead worker is noticed and its imports run again.

    A worker beats every `heartbeat` seconds; one silent for `stalled_after` seconds is dead,
    and the recovery task (every `recovery_every` seconds, 1 to 59) puts its running imports
    back in the queue. On SIGTERM a worker lets running jobs finish for `shutdown_grace`
    seconds, then aborts them; an aborted import is rolled back and retried by another worker.
    """

    heartbeat: float = 5.0
    stalled_after: float = 30.0
    recovery_every: int = 10
    shutdown_grace: float = 20.0

    @property
    def recovery_cron(self) -> str:
        # croniter's optional sixth field is seconds.
        return f"* * * * * */{self.recovery_every}"

    def worker_options(self) -> WorkerOptions:
        """Keyword arguments of procrastinate's run_worker (part of App.worker_defaults)."""
        return {
            "update_heartbeat_interval": self.heartbeat,
            "stalled_worker_timeout": self.stalled_after,
            "shutdown_graceful_timeout": self.shutdown_grace,
        }


@attrs.frozen(kw_only=True)
class LoadSettings:
    """Tunables of an import's load (importer/load); the defaults are what the bench measured as fastest.

    Rows are read `chunk_rows` at a time with at most `in_flight` chunks ahead of the COPY;
    progress is written at most every `progress_interval` s and a cancel looked for every
    `cancel_check_interval` s. Of a job's rejected rows, `max_stored_rejections` are kept for
    errors.csv (all are counted).
    """

    chunk_rows: int = 5000
    in_flight: int = 3
    max_stored_rejections: int = 10_000
    progress_interval: float = 0.1
    cancel_check_interval: float = 0.2
    # Files at least this large (bytes) are read in a child process; below it the process start
    # costs more than the GIL does (a 1,929-row file is ~150 kB).
    process_min_bytes: int = 2_000_000
    # Items per COPY statement: fewer statements cost fewer round trips, but the statement
    # trigger's transition table (and its sort) grows with them.
    statement_rows: int = 10_000


def _worker(env: Mapping[str, str]) -> WorkerSettings:
    default = WorkerSettings()
    worker = WorkerSettings(
        heartbeat=_seconds(env, "IMPORTER_WORKER_HEARTBEAT_SECONDS", default.heartbeat),
        stalled_after=_seconds(env, "IMPORTER_WORKER_STALLED_SECONDS", default.stalled_after),
        # Whole seconds within a minute: the cron's seconds field is `*/N`.
        recovery_every=min(59, max(1, int(_seconds(
            env, "IMPORTER_RECOVERY_EVERY_SECONDS", default.recovery_every)))),
        shutdown_grace=_seconds(env, "IMPORTER_WORKER_SHUTDOWN_GRACE_SECONDS", default.shutdown_grace),
    )
    if worker.stalled_after <= worker.heartbeat:
        raise ConfigError("IMPORTER_WORKER_STALLED_SECONDS must exceed IMPORTER_WORKER_HEARTBEAT_SECONDS")
    return worker


def _load(env: Mapping[str, str]) -> LoadSettings:
    default = LoadSettings()
    return LoadSettings(max_stored_rejections=_int(
        env, "IMPORTER_MAX_STORED_REJECTIONS", default.max_stored_rejections))


@attrs.frozen(kw_only=True)
class Settings:
    """Everything configurable, with API.md's and README's defaults; see `from_env`."""

    database_url: str | None
    jwt_secret: str
    smtp_url: str | None
    email_threshold: int
    max_upload_bytes: int
    max_active_jobs: int
    retention_days: int
    app_url: str
    data_dir: Path
    cors_origins: tuple[str, ...]
    log_format: str
    # The completion e-mail (importer/mail); defaults so that other callers need not care.
    email_from: str = "Årshjul <noreply@localhost>"
    email_retry_wait: int = DEFAULT_EMAIL_RETRY_WAIT
    email_failure_min_seconds: int = 5
    # Per-user and per-process limits (API.md, Configuration): checked before a body is read
    # or a stream opens, so that one user cannot take the server down for the others.
    max_streams_per_user: int = 16
    max_streams: int = 10_000
    max_stored_bytes_per_user: int = 1 << 30
    # A request body that sends nothing for this many seconds, or averages under `body_min_rate`
    # bytes per second after that long, is cut off with 408 (server/body_timeout.py).
    body_idle_seconds: float = 30.0
    body_min_rate: int = 4096
    # Upload bodies one user may be sending to one process at once: more would only hold disk and
    # CPU for requests the limits then refuse. The default lets a user send as many imports as
    # IMPORTER_MAX_ACTIVE_JOBS allows (3) and a preview at once.
    max_uploads_per_user: int = 4
    # `production` refuses to start on an embedded database or the development secret.
    environment: str = "development"
    # When set, /metrics answers only `Authorization: Bearer <this>`.
    metrics_token: str | None = None
    worker: WorkerSettings = attrs.field(factory=WorkerSettings)
    load: LoadSettings = attrs.field(factory=LoadSettings)
    bench: BenchSettings = attrs.field(factory=BenchSettings)

    @property
    def uses_dev_secret(self) -> bool:
        return self.jwt_secret == DEV_JWT_SECRET

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """All settings from `env` (default: os.environ); raises ConfigError naming a bad variable."""
        env = os.environ if env is None else env
        origins = tuple(o.strip() for o in env.get("IMPORTER_CORS_ORIGINS", "").split(",") if o.strip())
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            jwt_secret=_str(env, "IMPORTER_JWT_SECRET", DEV_JWT_SECRET),
            smtp_url=env.get("SMTP_URL") or None,
            email_threshold=_int(env, "IMPORTER_EMAIL_THRESHOLD", 200),
            max_upload_bytes=_int(env, "IMPORTER_MAX_UPLOAD_BYTES", 104_857_600, minimum=1),
            max_active_jobs=_int(env, "IMPORTER_MAX_ACTIVE_JOBS", 3, minimum=1),
            retention_days=_int(env, "IMPORTER_RETENTION_DAYS", 7, minimum=1),
            app_url=_str(env, "APP_URL", "http://localhost:8080").rstrip("/"),
            data_dir=Path(_str(env, "IMPORTER_DATA_DIR", ".data")),
            cors_origins=origins,
            log_format=_choice(env, "IMPORTER_LOG_FORMAT", "auto", LOG_FORMATS),
            email_from=_str(env, "IMPORTER_EMAIL_FROM", "Årshjul <noreply@localhost>"),
            email_retry_wait=_int(env, "IMPORTER_EMAIL_RETRY_WAIT", DEFAULT_EMAIL_RETRY_WAIT),
            email_failure_min_seconds=_int(env, "IMPORTER_EMAIL_FAILURE_MIN_SECONDS", 5),
            max_streams_per_user=_int(env, "IMPORTER_MAX_STREAMS_PER_USER", 16, minimum=1),
            max_streams=_int(env, "IMPORTER_MAX_STREAMS", 10_000, minimum=1),
            max_stored_bytes_per_user=_int(env, "IMPORTER_MAX_STORED_BYTES_PER_USER", 1 << 30, minimum=1),
            body_idle_seconds=_seconds(env, "IMPORTER_BODY_IDLE_SECONDS", 30.0),
            body_min_rate=_int(env, "IMPORTER_BODY_MIN_RATE", 4096),
            max_uploads_per_user=_int(env, "IMPORTER_MAX_UPLOADS_PER_USER", 4, minimum=1),
            environment=_choice(env, "IMPORTER_ENV", "development", ENVIRONMENTS),
            metrics_token=_raw(env, "IMPORTER_METRICS_TOKEN"),
            worker=_worker(env),
            load=_load(env),
            bench=_bench(env),
        )

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def production_problems(self) -> list[str]:
        """Why IMPORTER_ENV=production must not start with these settings, one sentence each
        naming the variable to set; empty in development or when nothing is wrong."""
        if not self.is_production:
            return []
        problems = []
        if self.database_url is None:
            problems.append(
                "DATABASE_URL is not set. Without it this process would start an embedded Postgres "
                f"in {self.data_dir / 'pg'} that no other server or worker shares (a worker would wait "
                "on an empty queue). Set DATABASE_URL to the database all servers and workers share.")
        if self.uses_dev_secret:
            problems.append(
                "IMPORTER_JWT_SECRET is not set (or is the development secret), which anyone can read "
                "and sign tokens with. Set IMPORTER_JWT_SECRET to a long random secret "
                "(e.g. `openssl rand -hex 32`), the same for every server.")
        return problems

    def refuse_unsafe_production(self) -> None:
        """The production guard, called by every entry point that starts a service (`importer
        serve`, `worker`, `migrate`, importer/tasks.py) before it starts anything; raises
        ConfigError listing production_problems() when there are any."""
        problems = self.production_problems()
        if problems:
            raise ConfigError("IMPORTER_ENV=production refuses to start:\n  " + "\n  ".join(problems))

    def warn_if_insecure(self) -> None:
        if self.uses_dev_secret:
            log.warning(
                "IMPORTER_JWT_SECRET is not set: using the fixed DEVELOPMENT secret. "
                "Anyone can sign tokens for this service. Set IMPORTER_JWT_SECRET in production."
            )
