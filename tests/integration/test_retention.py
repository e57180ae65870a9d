"""Retention on a real database: old finished imports go with everything of theirs, the rest stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from importer.jobs.retention import purge_old_imports
from tests.factories import make_job, make_user, make_wheel

pytestmark = pytest.mark.timeout(60)

async def _finished_job(pool, user, wheel, *, age_days: int, status: str = "completed", queue_status="succeeded"):
    """A finished import `age_days` old, with a rejected row, an e-mail record and its queue job."""
    when = datetime.now(UTC) - timedelta(days=age_days)
    job = await make_job(pool, user, wheel, status=status, progress=100 if status == "completed" else 0,
                         error_code=None if status != "failed" else "no_valid_rows", step="done",
                         created_at=when, finished_at=when)
    async with pool.connection() as conn, conn.transaction():
        pj = await (await conn.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status)"
            " VALUES ('imports', 'run_import', jsonb_build_object('job_id', %s::text), %s) RETURNING id",
            (job, queue_status))).fetchone()
        await conn.execute("INSERT INTO procrastinate_events (job_id, type, at)"
                           " VALUES (%s, 'succeeded', now() - make_interval(days => %s))", (pj["id"], age_days))
        await conn.execute("UPDATE import_jobs SET procrastinate_job_id = %s WHERE id = %s", (pj["id"], job))
        await conn.execute("UPDATE import_files SET created_at = now() - make_interval(days => %s)"
                           " WHERE id = (SELECT file_id FROM import_jobs WHERE id = %s)", (age_days, job))
        await conn.execute("INSERT INTO import_rejected_rows (job_id, row_number, reason) VALUES (%s, 2, 'x')", (job,))
        await conn.execute("INSERT INTO import_emails (job_id, kind, recipient, status, sent_at)"
                           " VALUES (%s, 'success', 'a@example.test', 'sent', now())", (job,))
    return job, pj["id"]


async def _exists(pool, table: str, column: str, value) -> bool:
    async with pool.connection() as conn:
        row = await (await conn.execute(
            f"SELECT count(*) AS n FROM {table} WHERE {column} = %s", (value,))).fetchone()
    return row["n"] > 0


async def test_purge_removes_old_finished_imports_and_keeps_the_rest(pool):
    """Old finished jobs lose row, file, rejected rows, e-mail record and queue job; new and active ones keep all."""
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    old_jobs = [await _finished_job(pool, user, wheel, age_days=10),
                await _finished_job(pool, user, wheel, age_days=9, status="failed", queue_status="failed")]
    new_job, new_pj = await _finished_job(pool, user, wheel, age_days=1)
    active = await make_job(pool, user, wheel, status="processing")
    async with pool.connection() as conn:
        # An old, active job (a long wait in the queue) is not finished: it stays.
        await conn.execute("UPDATE import_jobs SET created_at = now() - interval '30 days' WHERE id = %s", (active,))
        # A retry of an old job shares its file: the file must stay while the retry exists.
        old_file = (await (await conn.execute("SELECT file_id FROM import_jobs WHERE id = %s",
                                              (old_jobs[1][0],))).fetchone())["file_id"]
        retry = (await (await conn.execute(
            "INSERT INTO import_jobs (user_id, wheel_id, file_id, file_name, retry_of)"
            " VALUES (%s, %s, %s, 'again.csv', %s) RETURNING id",
            (user, wheel, old_file, old_jobs[1][0]))).fetchone())["id"]

    purged = await purge_old_imports(pool, days=7, batch=1)  # batch 1: the loop over batches works

    assert (purged.jobs, purged.files, purged.queue_jobs) == (2, 1, 2)
    for job, pj in old_jobs:
        assert not await _exists(pool, "import_jobs", "id", job)
        assert not await _exists(pool, "import_rejected_rows", "job_id", job)
        assert not await _exists(pool, "import_emails", "job_id", job)
        assert not await _exists(pool, "procrastinate_jobs", "id", pj)
        assert not await _exists(pool, "procrastinate_events", "job_id", pj)
    assert await _exists(pool, "import_files", "id", old_file)
    for kept in (new_job, active, retry):
        assert await _exists(pool, "import_jobs", "id", kept)
    assert await _exists(pool, "import_rejected_rows", "job_id", new_job)
    assert await _exists(pool, "procrastinate_jobs", "id", new_pj)
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT retry_of FROM import_jobs WHERE id = %s", (retry,))).fetchone()
    assert row["retry_of"] is None

    again = await purge_old_imports(pool, days=7)
    assert (again.jobs, again.files, again.queue_jobs) == (0, 0, 0)


async def test_retention_task_is_periodic_on_the_maintenance_queue():
    """The purge is registered as a periodic Procrastinate task that every worker knows."""
    from importer.jobs import app as tasks
    from importer.settings import Settings

    app = tasks.make_app(Settings.from_env({}))
    assert "importer.jobs.retention" in tasks.TASK_MODULES
    task = app.tasks["purge_old_imports"]
    assert task.queue == "maintenance"
    assert any(p.task is task for p in app.periodic_registry.periodic_tasks.values())


async def _preview(pool, user, wheel, *, expired: bool, file_id=None):
    """A stored preview (its own file unless `file_id`), expired a day ago or alive."""
    async with pool.connection() as conn, conn.transaction():
        if file_id is None:
            file_id = (await (await conn.execute(
                "INSERT INTO import_files (user_id, media_type, size_bytes, sha256, content)"
                " VALUES (%s, 'text/csv', 3, sha256('a;b'::bytea), 'a;b'::bytea) RETURNING id",
                (user,))).fetchone())["id"]
        row = await (await conn.execute(
            "INSERT INTO import_previews (user_id, wheel_id, file_id, file_name, result, updated_at, expires_at)"
            " VALUES (%s, %s, %s, 'p.csv', '{}', now() - interval '2 days',"
            " CASE WHEN %s THEN now() - interval '1 day' ELSE now() + interval '1 day' END) RETURNING id",
            (user, wheel, file_id, expired))).fetchone()
    return row["id"], file_id


async def test_expired_previews_go_with_the_files_only_they_used(pool):
    """An expired preview is purged with its file; a file an import uses, or a live preview
    shows, stays; a live preview stays."""
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    gone, gone_file = await _preview(pool, user, wheel, expired=True)
    live, live_file = await _preview(pool, user, wheel, expired=False)
    imported_job = await make_job(pool, user, wheel)
    async with pool.connection() as conn:
        job_file = (await (await conn.execute("SELECT file_id FROM import_jobs WHERE id = %s",
                                              (imported_job,))).fetchone())["file_id"]
    imported, _ = await _preview(pool, user, wheel, expired=True, file_id=job_file)
    shared, _ = await _preview(pool, user, wheel, expired=True, file_id=live_file)
    purged = await purge_old_imports(pool, days=7)
    assert purged.previews == 3
    for preview in (gone, imported, shared):
        assert not await _exists(pool, "import_previews", "id", preview)
    assert not await _exists(pool, "import_files", "id", gone_file)
    assert await _exists(pool, "import_previews", "id", live)
    assert await _exists(pool, "import_files", "id", live_file)
    assert await _exists(pool, "import_files", "id", job_file)
