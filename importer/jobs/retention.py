"""Retention: finished imports, their files and Procrastinate's finished jobs, purged in batches."""

from __future__ import annotations

import logging
import time

import attrs
from procrastinate import JobContext

from importer.db import Pool
from importer.jobs.context import TaskBlueprint, pool_of, settings_of
from importer.jobs.recovery import QUEUE
from importer.queries import q

log = logging.getLogger(__name__)

BATCH = 500
# One run stops after this many batches per table; the next run (an hour later) goes on.
MAX_BATCHES = 200
# Hourly, at minute 17; make_app registers the schedule.
CRON = "17 * * * *"

blueprint = TaskBlueprint()


@attrs.frozen(kw_only=True)
class Purged:
    jobs: int
    files: int
    queue_jobs: int
    previews: int = 0


async def _purge(pool: Pool, query: str, days: int, batch: int, max_batches: int) -> int:
    total = 0
    for _ in range(max_batches):
        # One transaction per batch, as the login role: the deletes cascade into tables (and
        # fire Procrastinate's triggers on tables) the run-time roles have no grants on.
        async with pool.connection() as conn, conn.transaction():
            rows = await (await conn.execute(query, {"days": days, "batch": batch})).fetchall()
        total += len(rows)
        if len(rows) < batch:
            break
    return total


async def purge_old_imports(pool: Pool, *, days: int, batch: int = BATCH,
                            max_batches: int = MAX_BATCHES) -> Purged:
    """Delete what finished more than `days` days ago; returns how many rows of each kind went."""
    started = time.monotonic()
    # Jobs first: their files are then unreferenced and go in the second step.
    jobs = await _purge(pool, q("retention_import_jobs_purge"), days, batch, max_batches)
    files = await _purge(pool, q("retention_import_files_purge"), days, batch, max_batches)
    queue_jobs = await _purge(pool, q("retention_queue_jobs_purge"), days, batch, max_batches)
    # Expired previews (a day after their last change) with the files only they referred to.
    previews = await _purge(pool, q("retention_previews_purge"), days, batch, max_batches)
    purged = Purged(jobs=jobs, files=files, queue_jobs=queue_jobs, previews=previews)
    log.info("retention: purged %d import jobs, %d files, %d queue jobs older than %d days and %d "
             "expired previews in %.2f s", jobs, files, queue_jobs, days, previews,
             time.monotonic() - started,
             extra={"purged_jobs": jobs, "purged_files": files, "purged_queue_jobs": queue_jobs,
                    "purged_previews": previews})
    return purged


@blueprint.task(name="purge_old_imports", queue=QUEUE, queueing_lock="purge_old_imports",
          pass_context=True)
async def purge_old_imports_task(context: JobContext, timestamp: int) -> None:
    """Hourly: purge finished imports older than IMPORTER_RETENTION_DAYS."""
    await purge_old_imports(pool_of(context), days=settings_of(context).retention_days)
