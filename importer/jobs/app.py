"""The Procrastinate App, made from the process' settings by `make_app(settings)`.

Task modules (TASK_MODULES) define their tasks on a `TaskBlueprint` (importer/jobs/context.py)
at import, which reads no environment and opens nothing. `make_app` adds them to an App together with everything that
depends on configuration: the connector's pool, the worker's timings, the periodic schedules,
and the settings themselves, which every task reads with `settings_of(context)`.

Entry points make the App: `importer worker` and `importer serve --with-worker` through
importer.jobs.worker.run_worker, the API through server.app.create_app, the stock CLI
(`procrastinate --app=importer.tasks.app worker`) through importer/tasks.py.

Tasks reach the database through `context.app.connector.pool`, which is always a pool made by
importer.db.make_pool (autocommit, dict rows): `importer worker` and `importer serve` open the
App on their own pool, and the stock CLI gets one from the connector's pool factory.
"""

from __future__ import annotations

import logging
from typing import Any

import procrastinate
from procrastinate.app import WorkerOptions
from procrastinate.middleware import WorkerMiddleware
from psycopg_pool import AsyncConnectionPool

from importer.db import database_url, make_pool
from importer.jobs import import_task, recovery, retention
from importer.jobs.connector import ReconnectingPsycopgConnector
from importer.jobs.context import SETTINGS_KEY
from importer.logs import job_log_middleware
from importer.mail import email_task
from importer.metrics import task_metrics_middleware
from importer.settings import Settings

log = logging.getLogger(__name__)

# Modules that define tasks on a module-level `blueprint` (importer.jobs.context.TaskBlueprint);
# make_app adds each one's tasks.
TASK_MODULES = [import_task.__name__, email_task.__name__, recovery.__name__, retention.__name__]

# Every log line of a task's work carries its job id (importer/logs.py); tasks running and
# their run time are counted per worker process (importer/metrics.py).
WORKER_MIDDLEWARE: list[WorkerMiddleware] = [job_log_middleware, task_metrics_middleware]


def _blueprints() -> list[procrastinate.Blueprint]:
    return [import_task.blueprint, email_task.blueprint, recovery.blueprint, retention.blueprint]


def make_app(settings: Settings) -> procrastinate.App:
    """The App of this service, configured by `settings`; opening it is the caller's business.

    Opened without a pool (`app.open_async()`, as the stock CLI does) it makes its own with
    database_url(settings), which starts the embedded Postgres when DATABASE_URL is unset; making
    the App itself touches no database. Every worker of the App gets `settings` in its jobs'
    context (`settings_of`), the heartbeat, stalled-worker and shutdown timings of
    settings.worker, and the log and metrics middlewares.
    """
    # Typed AsyncConnectionPool[Any]: Procrastinate's signature wants tuple rows, ours are dicts.
    def pool_factory(**_procrastinate_defaults: Any) -> AsyncConnectionPool[Any]:
        # Our pool (autocommit, dict rows, checked connections) instead of Procrastinate's
        # defaults. Called when the App is opened without a pool, not when it is made.
        return make_pool(database_url(settings), max_size=20, name="procrastinate",
                         options=settings.bench.session_options)

    worker_defaults: WorkerOptions = {
        **settings.worker.worker_options(),
        "worker_middleware": list(WORKER_MIDDLEWARE),
        "additional_context": {SETTINGS_KEY: settings},
    }
    # Its LISTEN loop survives a database restart (importer/jobs/connector.py).
    app = procrastinate.App(connector=ReconnectingPsycopgConnector(pool_factory=pool_factory),
                            worker_defaults=worker_defaults)
    for blueprint in _blueprints():
        # No namespace: a namespace would rename `run_import` to `ns:run_import`, and the rows of
        # procrastinate_jobs and recovery's get_stalled_jobs(task_name=...) use the bare names.
        app.add_tasks_from(blueprint, namespace="")
    if settings.bench.tasks:
        # Bench-only (IMPORTER_BENCH_TASKS=on): imported here so that production never loads it.
        from importer.jobs import bench_tasks

        app.add_tasks_from(bench_tasks.blueprint, namespace="")
    app.periodic(cron=settings.worker.recovery_cron)(recovery.recover_stalled_imports)
    app.periodic(cron=retention.CRON)(retention.purge_old_imports_task)
    # A retry strategy has no job context, so the wait parsed at start-up is given here.
    email_task.send_import_email.retry_strategy = email_task.EmailRetry(base_wait=settings.email_retry_wait)
    return app


def queue_names() -> list[str]:
    """The queues this service's tasks run on (Procrastinate's built-in tasks left out)."""
    return sorted({task.queue for blueprint in _blueprints() for task in blueprint.tasks.values()})
