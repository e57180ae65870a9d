"""`importer worker`: a Procrastinate worker on our pool, for imports, e-mails and recovery."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from psycopg_pool import AsyncConnectionPool

from importer import logs
from importer.db import database_url, make_pool
from importer.jobs.app import app, queue_names
from importer.jobs.connector import ReconnectingPsycopgConnector
from importer.jobs.import_task import IMPORT_RETRY
from importer.jobs.recovery import recover_stalled_imports_now, settle_orphaned_imports
from importer.load.pipeline import prewarm
from importer.settings import Settings
from importer.worker_config import WorkerConfig

log = logging.getLogger(__name__)


def pool_size(concurrency: int) -> int:
    """Each running import holds two connections (data and progress); Procrastinate holds a
    listener, and briefly one each for fetching, heart-beating and deferring periodic tasks."""
    return 2 * concurrency + 4


async def run_worker(pool: AsyncConnectionPool, concurrency: int = 2, *,
                     config: WorkerConfig | None = None, install_signal_handlers: bool = False,
                     **options: Any) -> None:
    """Run a worker on an open pool until cancelled (or, with signal handlers, SIGTERM/SIGINT).

    `importer serve --with-worker` calls this in-process; cancelling it stops the worker
    gracefully. Every queue is served: imports, e-mails, maintenance.
    """
    config = config or WorkerConfig.from_env()
    await asyncio.to_thread(prewarm)
    # The app's connector bound to this pool for the worker's lifetime (the module-level app
    # may have been opened on another pool before; tasks and periodic deferring use the app).
    with app.replace_connector(ReconnectingPsycopgConnector()) as worker_app:
        async with worker_app.open_async(pool):
            # Imports of workers that died while this one was down need not wait for the timer.
            await recover_stalled_imports_now(worker_app.job_manager,
                                              stalled_after=config.stalled_after,
                                              max_attempts=IMPORT_RETRY.max_attempts)
            await settle_orphaned_imports(pool)
            await worker_app.run_worker_async(
                concurrency=concurrency, install_signal_handlers=install_signal_handlers,
                **{**config.worker_options(), **options})


def main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    logs.setup(settings.log_format)
    concurrency = args.concurrency
    if getattr(args, "metrics_port", None):
        from importer.metrics import serve_worker_metrics

        serve_worker_metrics(args.metrics_port, database_url(settings), queues=queue_names())

    async def run() -> None:
        pool = make_pool(database_url(settings), min_size=2, max_size=pool_size(concurrency),
                         name="worker")
        await pool.open(wait=True, timeout=30)
        try:
            log.info("worker starting with concurrency %d", concurrency)
            await run_worker(pool, concurrency, install_signal_handlers=True)
        finally:
            await pool.close()

    asyncio.run(run())
    return 0
