"""Crash recovery: imports and e-mails of workers that stopped heart-beating go back to the queue."""

from __future__ import annotations

import logging

from procrastinate import JobContext
from procrastinate.jobs import Status
from procrastinate.manager import JobManager

from importer.db import Pool
from importer.jobs import lifecycle
from importer.jobs.context import TaskBlueprint, pool_of, settings_of
from importer.jobs.import_task import IMPORT_RETRY, TASK_NAME
from importer.mail.email_task import recover_stalled_emails_now

log = logging.getLogger(__name__)

QUEUE = "maintenance"

# Its schedule, every settings.worker.recovery_every seconds, is set by make_app.
blueprint = TaskBlueprint()


async def recover_stalled_imports_now(job_manager: JobManager, *, stalled_after: float,
                                      max_attempts: int | None = None) -> int:
    """Retry every `run_import` job whose worker is silent for `stalled_after` seconds.

    The dead attempt's data transaction died with its connection, so the retry starts clean;
    its claim counts the attempt. A job already run `max_attempts` times is failed instead.
    Returns how many stalled jobs were handled.
    """
    stalled = list(await job_manager.get_stalled_jobs(
        task_name=TASK_NAME, seconds_since_heartbeat=stalled_after))
    for job in stalled:
        extra = {"procrastinate_job_id": job.id, "job_args": job.task_kwargs}
        if max_attempts is not None and job.attempts + 1 >= max_attempts:
            # A file that kills its worker every time must not do so forever: the queue job
            # fails, and settle_orphaned_imports ends the import `failed`.
            await job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
            log.error("import task %s died with its worker %d times; not retried", job.id,
                      job.attempts + 1, extra=extra)
            continue
        await job_manager.retry_job(job)
        log.warning("import task %s of a stalled worker (%s) queued again", job.id, job.worker_id,
                    extra=extra)
    return len(stalled)


async def end_stalled_maintenance_now(job_manager: JobManager, *, stalled_after: float) -> int:
    """Mark `failed` every periodic maintenance job (this recovery, the purge) whose worker is
    silent for `stalled_after` seconds: its next tick does the same work, and left alone it
    would stay `doing` for good. Returns how many."""
    stalled = list(await job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after))
    for job in stalled:
        await job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
        log.warning("%s task %s of a stalled worker (%s) marked failed; its next tick runs it",
                    job.task_name, job.id, job.worker_id, extra={"procrastinate_job_id": job.id})
    return len(stalled)


async def settle_orphaned_imports(pool: Pool) -> int:
    """End imports whose queue job ended without the task recording an end."""
    async with pool.connection() as conn:
        settled = await lifecycle.settle_orphans(conn)
    for job_id in settled:
        log.error("import %s had no end recorded after its task ended; marked failed", job_id,
                  extra={"job_id": str(job_id)})
    return len(settled)


@blueprint.task(name="recover_stalled_imports", queue=QUEUE, pass_context=True)
async def recover_stalled_imports(context: JobContext, timestamp: int) -> None:
    """Every few seconds: stalled imports and e-mails back to the queue, orphaned imports settled."""
    await recover_stalled_now(context.app.job_manager, pool_of(context),
                              stalled_after=settings_of(context).worker.stalled_after)


async def recover_stalled_now(job_manager: JobManager, pool: Pool, *, stalled_after: float) -> None:
    """What a dead worker left behind: its imports and e-mails queued again (each up to its
    tries), its maintenance tasks ended, and imports whose queue job ended without an end of
    their own settled."""
    await recover_stalled_imports_now(job_manager, stalled_after=stalled_after,
                                      max_attempts=IMPORT_RETRY.max_attempts)
    await recover_stalled_emails_now(job_manager, pool, stalled_after=stalled_after)
    await end_stalled_maintenance_now(job_manager, stalled_after=stalled_after)
    await settle_orphaned_imports(pool)
