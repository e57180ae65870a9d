"""The Procrastinate task `run_import(job_id)`: thin, it hands the job to the loader."""

from __future__ import annotations

import asyncio
from uuid import UUID

import psycopg
from procrastinate import JobContext, RetryStrategy

from importer.jobs.app import app
from importer.load.attempt import TransientImportError, run_job

TASK_NAME = "run_import"
QUEUE = "imports"

# What a retry can fix: a lost connection, a serialization failure or deadlock (the data
# transaction rolled back whole), a worker shut down mid-import. A bad file is never retried:
# the loader fails such a job itself and returns normally.
IMPORT_RETRY = RetryStrategy(
    max_attempts=3,
    exponential_wait=2,
    retry_exceptions={TransientImportError, psycopg.OperationalError, asyncio.CancelledError},
)


@app.task(name=TASK_NAME, queue=QUEUE, pass_context=True, retry=IMPORT_RETRY)
async def run_import(context: JobContext, job_id: str) -> None:
    """Import the stored file of `job_id` into its wheel; a job already ended is left alone.

    The API defers it in the transaction that creates the job row:
    `await run_import.configure(connection=conn).defer_async(job_id=str(job_id))`.
    """
    job = context.job

    def will_retry(exc: BaseException) -> bool:
        return IMPORT_RETRY.get_retry_decision(exception=exc, job=job) is not None

    await run_job(context.app.connector.pool, UUID(job_id), will_retry=will_retry)
