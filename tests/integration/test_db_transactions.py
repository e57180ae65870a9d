"""The request transaction (`as_user`, pipelined) and the pool's check of lent connections."""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from importer.db import ALIVE_BYPASS_SECONDS, as_user, make_pool
from tests.factories import make_user, make_wheel


class Boom(Exception):
    pass


async def _titles(pool, user) -> list[str]:
    async with as_user(pool, user) as conn:
        rows = await (await conn.execute("SELECT title FROM year_wheels ORDER BY title")).fetchall()
    return [r["title"] for r in rows]


async def _insert_wheel(conn, user, title: str, year: int = 2026):
    return await conn.execute(
        "INSERT INTO year_wheels (owner_id, title, year) VALUES (%s, %s, %s) RETURNING id", (user, title, year))


async def test_the_body_commits_and_its_results_are_read_after_the_block(pool):
    """Statements not fetched inside the block are sent with the COMMIT; their rows are read after it."""
    user = await make_user(pool)
    async with as_user(pool, user) as conn:
        first = await _insert_wheel(conn, user, "A")
        second = await _insert_wheel(conn, user, "B")
    assert (await first.fetchone())["id"] != (await second.fetchone())["id"]
    assert await _titles(pool, user) == ["A", "B"]


async def test_an_exception_of_the_body_rolls_back(pool):
    """What the body wrote, fetched or not, is gone; the connection goes back idle and serves again."""
    user = await make_user(pool)
    with pytest.raises(Boom):
        async with as_user(pool, user) as conn:
            await (await _insert_wheel(conn, user, "fetched")).fetchone()
            await _insert_wheel(conn, user, "queued only")
            raise Boom
    assert conn.info.transaction_status == TransactionStatus.IDLE
    assert await _titles(pool, user) == []


@pytest.mark.parametrize("fetched", [True, False], ids=["at-its-fetch", "at-the-commit"])
async def test_a_failing_statement_raises_and_rolls_back_the_block(pool, fetched):
    """A constraint violation surfaces where its result is fetched or, if it never is, where the
    block ends; either way the earlier INSERT of the block is undone."""
    user = await make_user(pool)
    with pytest.raises(psycopg.errors.CheckViolation):
        async with as_user(pool, user) as conn:
            await _insert_wheel(conn, user, "kept?")
            failing = await _insert_wheel(conn, user, "bad year", year=1066)
            if fetched:
                await failing.fetchone()
    assert conn.info.transaction_status == TransactionStatus.IDLE
    assert await _titles(pool, user) == []


async def test_the_user_and_role_hold_for_the_whole_block(pool):
    """Row-level security applies from the first statement, sent in the same round trip as BEGIN."""
    alice, bob = await make_user(pool), await make_user(pool)
    await make_wheel(pool, alice)
    async with as_user(pool, bob) as conn:
        seen = await conn.execute("SELECT count(*) AS n FROM year_wheels")
        who = await conn.execute("SELECT current_user AS role, current_setting('importer.user_id') AS uid")
    assert (await seen.fetchone())["n"] == 0
    assert await who.fetchone() == {"role": "importer_api", "uid": str(bob)}


async def _backend_pid(pool) -> int:
    async with pool.connection() as conn:
        return (await (await conn.execute("SELECT pg_backend_pid() AS pid")).fetchone())["pid"]


async def _terminate(db_url: str, pid: int) -> None:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


@contextlib.asynccontextmanager
async def one_connection_pool(db_url: str, **options):
    pool = make_pool(db_url, min_size=1, max_size=1, name="test-check", **options)
    await pool.open(wait=True, timeout=30)
    try:
        yield pool
    finally:
        await pool.close()


async def test_a_connection_idle_past_the_window_is_checked_and_replaced(db_url):
    """With the API's bypass window, a server restart while the pool is idle costs no request:
    the dead connection is found by the check and replaced before it is lent."""
    async with one_connection_pool(db_url, alive_bypass=ALIVE_BYPASS_SECONDS) as pool:
        pid = await _backend_pid(pool)
        await _terminate(db_url, pid)
        await asyncio.sleep(ALIVE_BYPASS_SECONDS + 0.2)
        assert await _backend_pid(pool) != pid


async def test_a_connection_returned_just_now_is_lent_without_a_check(db_url):
    """The bypass window's trade-off, shown: a connection killed within it fails the request that
    gets it (the pool then replaces it), where a checked one would have been replaced first."""
    async with one_connection_pool(db_url, alive_bypass=ALIVE_BYPASS_SECONDS) as pool:
        pid = await _backend_pid(pool)
        await _terminate(db_url, pid)
        with pytest.raises(psycopg.OperationalError):
            await _backend_pid(pool)
        assert await _backend_pid(pool) != pid


async def test_a_pool_without_the_window_checks_every_connection(db_url):
    """The worker's pools (no bypass): a connection killed right after use is replaced before it
    is lent, because Procrastinate's loop would stop the worker on a failed query."""
    async with one_connection_pool(db_url) as pool:
        pid = await _backend_pid(pool)
        await _terminate(db_url, pid)
        assert await _backend_pid(pool) != pid
