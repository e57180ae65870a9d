"""Crash recovery without processes: stalled import and e-mail tasks go back to the queue, a bounded number of times;
stalled maintenance tasks end."""

from __future__ import annotations

import pytest

from importer.db import as_worker
from importer.jobs.app import make_app
from importer.jobs.import_task import run_import
from importer.jobs.recovery import (
    end_stalled_maintenance_now,
    recover_stalled_imports,
    recover_stalled_imports_now,
    settle_orphaned_imports,
)
from importer.jobs.retention import purge_old_imports_task
from importer.mail.email_task import MAX_TRIES, defer_email_if_needed, recover_stalled_emails_now
from importer.settings import Settings
from tests.factories import make_job, make_user, make_wheel
from tests.import_support import csv_rows, job_row
from tests.integration.email_support import email_record, ended_job

pytestmark = pytest.mark.timeout(60)


async def stalled_import(pool, attempts: int):
    """An import whose queue job is `doing` on no live worker, as a SIGKILL leaves it."""
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    job = await make_job(pool, user, wheel, content=csv_rows(5), status="processing",
                         attempts=attempts + 1, started_at="2026-01-01T00:00:00Z")
    async with pool.connection() as conn, conn.transaction():
        pj = await run_import.configure(connection=conn).defer_async(job_id=str(job))
        await conn.execute("UPDATE import_jobs SET procrastinate_job_id = %s WHERE id = %s", (pj, job))
        await conn.execute("UPDATE procrastinate_jobs SET status = 'doing', attempts = %s, worker_id = NULL"
                           " WHERE id = %s", (attempts, pj))
    return job, pj


async def queue_row(pool, pj):
    async with pool.connection() as conn:
        return await (await conn.execute("SELECT status, attempts FROM procrastinate_jobs WHERE id = %s",
                                         (pj,))).fetchone()


async def test_stalled_import_is_queued_again_then_failed_when_attempts_run_out(pool):
    """A stalled import is retried; one that already died max_attempts times ends `failed`."""
    fresh_job, fresh_pj = await stalled_import(pool, attempts=0)
    worn_job, worn_pj = await stalled_import(pool, attempts=2)
    bound = make_app(Settings.from_env({}))
    async with bound.open_async(pool):
        handled = await recover_stalled_imports_now(bound.job_manager, stalled_after=1, max_attempts=3)
    assert handled == 2
    assert await queue_row(pool, fresh_pj) == {"status": "todo", "attempts": 1}
    assert (await queue_row(pool, worn_pj))["status"] == "failed"
    assert await settle_orphaned_imports(pool) == 1
    worn = await job_row(pool, worn_job)
    assert (worn["status"], worn["error_code"]) == ("failed", "internal_error")
    assert worn["finished_at"] is not None
    assert (await job_row(pool, fresh_job))["status"] == "processing"  # its retry will claim it


async def stalled_email(pool, attempts: int):
    """An ended import whose e-mail task is `doing` on no live worker, as a SIGKILL mid-send leaves it."""
    job = await ended_job(pool, items=250)
    async with as_worker(pool) as conn:
        await defer_email_if_needed(conn, job, settings=Settings.from_env({}))
        await conn.execute("UPDATE procrastinate_jobs SET status = 'doing', attempts = %s, worker_id = NULL"
                           " WHERE task_name = 'send_import_email' AND args->>'job_id' = %s",
                           (attempts, str(job)))
        pj = (await (await conn.execute("SELECT id FROM procrastinate_jobs WHERE args->>'job_id' = %s",
                                        (str(job),))).fetchone())["id"]
    return job, pj


async def test_stalled_email_is_queued_again_then_recorded_failed_when_tries_run_out(pool):
    """An e-mail whose worker died is sent again; one whose worker died on its last try is recorded failed."""
    fresh_job, fresh_pj = await stalled_email(pool, attempts=0)
    worn_job, worn_pj = await stalled_email(pool, attempts=MAX_TRIES - 1)
    bound = make_app(Settings.from_env({}))
    async with bound.open_async(pool):
        handled = await recover_stalled_emails_now(bound.job_manager, pool, stalled_after=1)
    assert handled == 2
    assert await queue_row(pool, fresh_pj) == {"status": "todo", "attempts": 1}
    assert (await email_record(pool, fresh_job))["status"] == "queued"
    assert (await queue_row(pool, worn_pj))["status"] == "failed"
    worn = await email_record(pool, worn_job)
    assert worn["status"] == "failed" and "worker died" in worn["last_error"]


async def test_stalled_maintenance_tasks_are_ended_not_left_running(pool):
    """A recovery or purge run whose worker died ends `failed` (its next tick redoes it) instead of staying `doing`."""
    bound = make_app(Settings.from_env({}))
    async with bound.open_async(pool):
        recovery_pj = await recover_stalled_imports.defer_async(timestamp=0)
        purge_pj = await purge_old_imports_task.defer_async(timestamp=0)
        async with pool.connection() as conn:
            await conn.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = NULL WHERE id = ANY(%s)",
                               ([recovery_pj, purge_pj],))
        handled = await end_stalled_maintenance_now(bound.job_manager, stalled_after=1)
    assert handled == 2
    assert (await queue_row(pool, recovery_pj))["status"] == "failed"
    assert (await queue_row(pool, purge_pj))["status"] == "failed"
