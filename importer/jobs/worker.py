"""`importer worker`: a Procrastinate worker on our pool, for imports, e-mails and recovery."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from importer import logs
from importer.child_processes import prewarm
from importer.db import Pool, database_url, make_pool
from importer.jobs.app import make_app, queue_names
from importer.jobs.recovery import recover_stalled_now
from importer.settings import Settings

log = logging.getLogger(__name__)


def pool_size(concurrency: int) -> int:
    """Each running import holds two connections (data and progress); Procrastinate holds a
    listener, and briefly one each for fetching, heart-beating and deferring periodic tasks."""
    return 2 * concurrency + 4


async def run_worker(pool: Pool, concurrency: int = 2, *, settings: Settings,
                     install_signal_handlers: bool = False, **options: Any) -> None:
    """Run a worker on an open pool until cancelled (or, with signal handlers, SIGTERM/SIGINT).

    The worker's App is make_app(settings): its tasks get `settings`, its timings are
    settings.worker. `options` are further keyword arguments of Procrastinate's
    run_worker_async (queues, wait, ...). `importer serve --with-worker` calls this
    in-process; cancelling it stops the worker gracefully. Every queue is served unless
    `queues` says otherwise: imports, e-mails, maintenance.
    """
    await asyncio.to_thread(prewarm)
    app = make_app(settings)
    async with app.open_async(pool):
        # Imports and e-mails of workers that died while this one was down need not wait for the timer.
        await recover_stalled_now(app.job_manager, pool, stalled_after=settings.worker.stalled_after)
        await app.run_worker_async(concurrency=concurrency, install_signal_handlers=install_signal_handlers,
                                   **options)


def main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    settings.refuse_unsafe_production()  # ConfigError, reported by importer.cli.main
    logs.setup(settings.log_format)
    concurrency = args.concurrency
    if getattr(args, "metrics_port", None):
        from importer.metrics import serve_worker_metrics

        serve_worker_metrics(args.metrics_port, database_url(settings), queues=queue_names())

    async def run() -> None:
        pool = make_pool(database_url(settings), min_size=2, max_size=pool_size(concurrency),
                         name="worker", options=settings.bench.session_options)
        await pool.open(wait=True, timeout=30)
        try:
            log.info("worker starting with concurrency %d", concurrency)
            await run_worker(pool, concurrency, settings=settings, install_signal_handlers=True)
        finally:
            await pool.close()

    asyncio.run(run())
    return 0
