"""Queuing the import e-mail inside the transaction that ends the job."""

from __future__ import annotations

import psycopg
import pytest

from importer.db import as_user, as_worker
from importer.mail.email_task import defer_email_if_needed
from importer.settings import Settings
from tests.factories import make_user
from tests.integration.email_support import ended_job

SETTINGS = Settings.from_env({"DATABASE_URL": "unused"})


async def queued(pool, job_id):
    async with pool.connection() as conn:
        emails = await (await conn.execute(
            "SELECT kind, recipient, status FROM import_emails WHERE job_id = %s", (job_id,))).fetchall()
        tasks = await (await conn.execute(
            "SELECT queue_name, args FROM procrastinate_jobs WHERE task_name = 'send_import_email'"
            " AND args->>'job_id' = %s", (str(job_id),))).fetchall()
    return emails, tasks


async def test_a_large_completed_job_queues_one_success_email_in_the_callers_transaction(pool):
    """A completed job with 250 items gets one record and one task, both on the caller's connection."""
    job_id = await ended_job(pool)
    async with as_worker(pool) as conn:
        await defer_email_if_needed(conn, job_id, settings=SETTINGS)
        await defer_email_if_needed(conn, job_id, settings=SETTINGS)
    emails, tasks = await queued(pool, job_id)
    assert emails == [{"kind": "success", "recipient": "anna@example.test", "status": "queued"}]
    assert tasks == [{"queue_name": "emails", "args": {"job_id": str(job_id)}}]


async def test_a_rolled_back_end_queues_nothing(pool):
    """When the transaction that ends the job rolls back, neither record nor task remains."""
    job_id = await ended_job(pool)
    with pytest.raises(RuntimeError):
        async with as_worker(pool) as conn:
            await defer_email_if_needed(conn, job_id, settings=SETTINGS)
            raise RuntimeError("the import's transaction fails after the e-mail was queued")
    assert await queued(pool, job_id) == ([], [])


@pytest.mark.parametrize("kwargs", [
    {"items": 50},
    {"notify": False},
    {"email": None},
    {"status": "cancelled", "items": 500},
    {"status": "failed", "items": 0, "run_seconds": 2},
], ids=["few-items", "notify-false", "no-address", "cancelled", "quick-failure"])
async def test_jobs_that_get_no_email_queue_nothing(pool, kwargs):
    """Few items, notify=false, no address, a cancellation and a quick failure queue no e-mail."""
    job_id = await ended_job(pool, **kwargs)
    async with as_worker(pool) as conn:
        await defer_email_if_needed(conn, job_id, settings=SETTINGS)
    assert await queued(pool, job_id) == ([], [])


async def test_a_long_failed_job_queues_a_failure_email(pool):
    """A job that failed after ten seconds of work gets a failure e-mail."""
    job_id = await ended_job(pool, status="failed", items=0, run_seconds=10)
    async with as_worker(pool) as conn:
        await defer_email_if_needed(conn, job_id, settings=SETTINGS)
    emails, tasks = await queued(pool, job_id)
    assert [e["kind"] for e in emails] == ["failure"] and len(tasks) == 1


async def test_a_database_error_of_the_shared_transaction_propagates(pool):
    """An aborted shared transaction is not swallowed: the caller must see its error."""
    job_id = await ended_job(pool)
    with pytest.raises(psycopg.errors.InFailedSqlTransaction):
        async with as_worker(pool) as conn:
            with pytest.raises(psycopg.errors.DivisionByZero):
                await conn.execute("SELECT 1/0")
            await defer_email_if_needed(conn, job_id, settings=SETTINGS)


async def test_an_error_of_its_own_is_logged_not_raised(pool, caplog):
    """A broken sender configuration is logged and the job's transaction still commits."""
    job_id = await ended_job(pool)
    async with as_worker(pool) as conn:
        await defer_email_if_needed(conn, job_id, settings="not settings")  # type: ignore[arg-type]
        await conn.execute("UPDATE import_jobs SET current_step = 'klar' WHERE id = %s", (job_id,))
    assert "could not queue the e-mail" in caplog.text
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT current_step FROM import_jobs WHERE id = %s",
                                        (job_id,))).fetchone()
    assert row["current_step"] == "klar"


async def test_the_api_sees_only_the_email_records_of_its_own_jobs(pool):
    """Row-level security: a user reads the record of their own job's e-mail and no other."""
    job_id = await ended_job(pool)
    async with as_worker(pool) as conn:
        await defer_email_if_needed(conn, job_id, settings=SETTINGS)
        owner = (await (await conn.execute("SELECT user_id FROM import_jobs WHERE id = %s",
                                           (job_id,))).fetchone())["user_id"]
    stranger = await make_user(pool)
    async with as_user(pool, owner) as conn:
        assert len(await (await conn.execute("SELECT job_id FROM import_emails")).fetchall()) == 1
    async with as_user(pool, stranger) as conn:
        assert await (await conn.execute("SELECT job_id FROM import_emails")).fetchall() == []
