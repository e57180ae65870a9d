"""The Procrastinate app. `procrastinate --app=importer.jobs.app.app worker` runs the same worker
as `importer worker`: the task modules are imported by the worker through import_paths.

Tasks reach the database through `context.app.connector.pool`, which is always a pool made by
importer.db.make_pool (autocommit, dict rows): `importer worker` and `importer serve` open the
app with their own pool, and the stock CLI gets one from the factory below.
"""

from __future__ import annotations

from typing import Any

import procrastinate
from psycopg_pool import AsyncConnectionPool

from importer.db import database_url, make_pool
from importer.jobs.connector import ReconnectingPsycopgConnector
from importer.logs import job_log_middleware
from importer.metrics import task_metrics_middleware
from importer.settings import Settings
from importer.worker_config import WorkerConfig

# Modules that define tasks with `@app.task`; each registers itself when imported.
TASK_MODULES = [
    "importer.jobs.import_task",
    "importer.mail.email_task",
    "importer.jobs.recovery",
    "importer.jobs.retention",
]

# Every log line of a task's work carries its job id (importer/logs.py); tasks running and
# their run time are counted per worker process (importer/metrics.py).
LOG_MIDDLEWARE = {"worker_middleware": [job_log_middleware, task_metrics_middleware]}


def _pool_factory(**kwargs: Any) -> AsyncConnectionPool:
    # Resolved when the worker opens the app, not at import: importing this module must not
    # start a database. With DATABASE_URL unset this starts the embedded Postgres.
    kwargs.pop("open", None)
    kwargs.pop("check", None)
    return make_pool(database_url(Settings.from_env()), max_size=20, name="procrastinate")


def make_connector() -> procrastinate.PsycopgConnector:
    # Its LISTEN loop survives a database restart (importer/connector.py).
    return ReconnectingPsycopgConnector(pool_factory=_pool_factory)


def queue_names() -> list[str]:
    """The queues this service's tasks run on (Procrastinate's built-in tasks left out)."""
    app.perform_import_paths()
    return sorted({task.queue for task in app.tasks.values() if not task.name.startswith("builtin:")})


# Heartbeat, stalled-worker and shutdown timings apply to the stock CLI worker too.
app = procrastinate.App(connector=make_connector(), import_paths=TASK_MODULES,
                        worker_defaults={**WorkerConfig.from_env().worker_options(), **LOG_MIDDLEWARE})
