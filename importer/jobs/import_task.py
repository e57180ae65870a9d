"""The Procrastinate task `run_import(job_id)`: thin, it hands the job to the loader."""

from __future__ import annotations

import asyncio
from uuid import UUID

import psycopg
from procrastinate import JobContext, RetryStrategy

from importer.errors import TransientImportError
from importer.jobs import lifecycle
from importer.jobs.context import TaskBlueprint, pool_of, settings_of
from importer.load.attempt import run_job

# The job's lifecycle queues this task when it creates a job, so it names them.
TASK_NAME = lifecycle.IMPORT_TASK
QUEUE = lifecycle.IMPORT_QUEUE

blueprint = TaskBlueprint()

# What a retry can fix: a lost connection, a serialization failure or deadlock (the data
# transaction rolled back whole), a worker shut down mid-import. A bad file is never retried:
# the loader fails such a job itself and returns normally.
IMPORT_RETRY = RetryStrategy(
    max_attempts=3,
    exponential_wait=2,
    # Typed as Exception classes, but matched with isinstance: CancelledError (a BaseException)
    # works, and is what an import interrupted by a worker's shutdown raises.
    retry_exceptions={TransientImportError, psycopg.OperationalError,
                      asyncio.CancelledError},  # type: ignore[arg-type]
)


@blueprint.task(name=TASK_NAME, queue=QUEUE, pass_context=True, retry=IMPORT_RETRY)
async def run_import(context: JobContext, job_id: str) -> None:
    """Import the stored file of `job_id` into its wheel; a job already ended is left alone.

    The API defers it in the transaction that creates the job row:
    `await run_import.configure(connection=conn).defer_async(job_id=str(job_id))`.
    """
    job = context.job

    def will_retry(exc: BaseException) -> bool:
        return IMPORT_RETRY.get_retry_decision(exception=exc, job=job) is not None

    await run_job(pool_of(context), UUID(job_id), will_retry=will_retry, settings=settings_of(context))
