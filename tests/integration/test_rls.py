"""Row-level security: the API role sees only the rows of the user set for the transaction."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from importer.db import as_user, as_worker
from tests.factories import make_job, make_user, make_wheel


async def test_a_query_without_the_user_set_returns_nothing(pool):
    """Under the API role with no user set, every table reads as empty."""
    alice = await make_user(pool)
    wheel = await make_wheel(pool, alice)
    await make_job(pool, alice, wheel)
    async with pool.connection() as conn, conn.transaction():
        await conn.execute("SET LOCAL ROLE importer_api")
        for table in ("users", "year_wheels", "import_jobs", "import_files", "items"):
            row = await (await conn.execute(f"SELECT count(*) AS n FROM {table}")).fetchone()
            assert row["n"] == 0, table


async def test_each_user_sees_only_their_own_rows(pool):
    """Alice's transaction sees her wheel and job; Bob's sees neither."""
    alice, bob = await make_user(pool), await make_user(pool)
    wheel = await make_wheel(pool, alice)
    job = await make_job(pool, alice, wheel)
    async with as_user(pool, alice) as conn:
        jobs = await (await conn.execute("SELECT id FROM import_jobs")).fetchall()
        assert [r["id"] for r in jobs] == [job]
    async with as_user(pool, bob) as conn:
        assert await (await conn.execute("SELECT id FROM import_jobs")).fetchall() == []
        assert await (await conn.execute("SELECT id FROM year_wheels")).fetchall() == []
        updated = await conn.execute(
            "UPDATE import_jobs SET status = 'cancelled' WHERE id = %s RETURNING id", (job,))
        assert await updated.fetchall() == []


async def test_a_job_cannot_be_created_for_another_users_wheel(pool):
    """The insert policy refuses a job on a wheel the user does not own."""
    alice, bob = await make_user(pool), await make_user(pool)
    wheel = await make_wheel(pool, alice)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with as_user(pool, bob) as conn:
            file_row = await (await conn.execute(
                "INSERT INTO import_files (user_id, media_type, size_bytes, sha256, content)"
                " VALUES (%s, 'text/csv', 1, sha256('x'), 'x') RETURNING id", (bob,))).fetchone()
            await conn.execute(
                "INSERT INTO import_jobs (user_id, wheel_id, file_id, file_name) VALUES (%s, %s, %s, 'x.csv')",
                (bob, wheel, file_row["id"]))


async def test_the_run_time_roles_are_not_superusers(pool):
    """Neither run-time role is a superuser; only the worker, which acts for every user, bypasses RLS."""
    async with pool.connection() as conn:
        rows = await (await conn.execute(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles"
            " WHERE rolname IN ('importer_api', 'importer_worker') ORDER BY rolname")).fetchall()
    assert [(r["rolname"], r["rolsuper"], r["rolbypassrls"]) for r in rows] == [
        ("importer_api", False, False), ("importer_worker", False, True)]


async def test_the_worker_role_reaches_every_users_rows(pool):
    """The worker acts for any user's job."""
    alice = await make_user(pool)
    wheel = await make_wheel(pool, alice)
    await make_job(pool, alice, wheel)
    async with as_worker(pool) as conn:
        row = await (await conn.execute("SELECT count(*) AS n FROM import_jobs")).fetchone()
        assert row["n"] == 1
        who = await (await conn.execute("SELECT current_user AS u")).fetchone()
        assert who["u"] == "importer_worker"


async def test_user_setting_ends_with_the_transaction(pool):
    """The role and the user are transaction-local: the next use of the connection is clean."""
    alice = await make_user(pool)
    async with as_user(pool, alice):
        pass
    async with pool.connection() as conn:
        row = await (await conn.execute(
            "SELECT current_setting('importer.user_id', true) AS u, current_user AS r")).fetchone()
    assert row["u"] in (None, "")
    assert row["r"] != "importer_api"
    assert uuid.UUID(str(alice))
