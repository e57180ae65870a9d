"""The import_jobs trigger: seq on every change, one NOTIFY per visible change, never too big."""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest

from tests.factories import make_job, make_user, make_wheel

JOB_KEYS = {"id", "wheel_id", "file_name", "mode", "status", "progress", "step", "current_step",
            "total_items", "processed_items", "rejected_rows", "eta_seconds", "counts", "warnings", "error",
            "attempts", "retry_of", "created_at", "started_at", "finished_at", "seq", "links"}


async def _drain(listener: psycopg.AsyncConnection, wait: float) -> list[dict]:
    """Every notification that arrives within `wait` seconds."""
    got = []
    async for note in listener.notifies(timeout=wait):
        got.append(json.loads(note.payload))
    return got


@pytest.fixture
async def listener(db_url):
    conn = await psycopg.AsyncConnection.connect(db_url, autocommit=True)
    await conn.execute("LISTEN import_jobs")
    yield conn
    await conn.close()


@pytest.fixture
async def job(pool):
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    return await make_job(pool, user, wheel)


async def test_an_update_delivers_exactly_one_notification_with_the_job_object(pool, listener, job):
    """A visible change gives one notification that parses as the job object, seq bumped."""
    await _drain(listener, 0.2)
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET progress = 40, processed_items = 10 WHERE id = %s", (job,))
    got = await _drain(listener, 1.0)
    assert len(got) == 1
    payload = got[0]
    assert JOB_KEYS <= set(payload)
    assert payload["id"] == str(job)
    assert payload["progress"] == 40
    assert payload["seq"] == 2
    assert payload["counts"] == {"rings": 0, "groups": 0, "labels": 0, "pages": 0, "items": 0,
                                 "skipped_duplicates": 0}
    assert payload["warnings"] == []
    assert payload["links"]["events"] == f"/api/imports/{job}/events"


async def test_an_update_that_changes_nothing_visible_delivers_none(pool, listener, job):
    """Setting a column to the value it has changes nothing: no seq bump, no notification."""
    await _drain(listener, 0.2)
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET progress = progress, status = status WHERE id = %s", (job,))
        seq = await (await conn.execute("SELECT seq FROM import_jobs WHERE id = %s", (job,))).fetchone()
    assert await _drain(listener, 0.7) == []
    assert seq["seq"] == 1


async def test_a_change_clients_do_not_see_bumps_seq_without_a_notification(pool, listener, job):
    """An internal column (the Procrastinate job id) bumps seq but notifies nobody."""
    await _drain(listener, 0.2)
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET procrastinate_job_id = 42 WHERE id = %s", (job,))
        seq = await (await conn.execute("SELECT seq FROM import_jobs WHERE id = %s", (job,))).fetchone()
    assert seq["seq"] == 2
    assert await _drain(listener, 0.7) == []


async def test_progress_never_goes_down_within_an_attempt(pool, job):
    """The trigger keeps progress where it was if a writer tries to lower it in one attempt."""
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET attempts = 1, progress = 50 WHERE id = %s", (job,))
        await conn.execute("UPDATE import_jobs SET progress = 30 WHERE id = %s", (job,))
        row = await (await conn.execute("SELECT progress FROM import_jobs WHERE id = %s", (job,))).fetchone()
        assert row["progress"] == 50
        await conn.execute("UPDATE import_jobs SET attempts = 2, progress = 0 WHERE id = %s", (job,))
        row = await (await conn.execute("SELECT progress FROM import_jobs WHERE id = %s", (job,))).fetchone()
        assert row["progress"] == 0


async def test_the_payload_stays_under_the_notify_limit(pool, listener):
    """Longest possible texts everywhere still give a payload far below 8,000 bytes."""
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    job = await make_job(pool, user, wheel, file_name="å" * 255)
    await _drain(listener, 0.2)
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE import_jobs SET status = 'failed', finished_at = now(), error_code = 'x',"
            " error_message = %s, current_step = %s WHERE id = %s", ("€" * 2000, "ö" * 200, job))
    got = []
    async for note in listener.notifies(timeout=1.0):
        got.append(note.payload)
    assert len(got) == 1
    assert len(got[0].encode()) < 6000
    assert json.loads(got[0])["status"] == "failed"


async def test_each_of_many_updates_notifies_in_seq_order(pool, listener, job):
    """Ten updates give ten notifications whose seq increases by one each time."""
    await _drain(listener, 0.2)
    async with pool.connection() as conn:
        for p in range(1, 11):
            await conn.execute("UPDATE import_jobs SET progress = %s WHERE id = %s", (p * 5, job))
    got = await _drain(listener, 1.0)
    assert [g["seq"] for g in got] == list(range(2, 12))
    await asyncio.sleep(0)


async def test_a_change_of_a_visible_column_no_progress_write_touches_still_notifies(pool, listener, job):
    """The trigger's short cut (status, progress, steps and counts unchanged) still notifies a
    change of another visible column, here the warnings."""
    await _drain(listener, 0.2)
    async with pool.connection() as conn:
        await conn.execute("""UPDATE import_jobs SET warnings = '[{"code": "long_items"}]' WHERE id = %s""", (job,))
    got = await _drain(listener, 1.0)
    assert [g["warnings"] for g in got] == [[{"code": "long_items"}]]


async def test_the_bench_switch_silences_progress_writes_but_never_a_status_change(db_url, listener, job):
    """On a connection with importer.bench_progress_notify = 'off' (IMPORTER_BENCH_PROGRESS_NOTIFY,
    bench only) a progress write notifies nobody and a status change still does; elsewhere both do."""
    await _drain(listener, 0.2)
    async with await psycopg.AsyncConnection.connect(
            db_url, autocommit=True, options="-c importer.bench_progress_notify=off") as silent:
        await silent.execute("UPDATE import_jobs SET progress = 10 WHERE id = %s", (job,))
        assert await _drain(listener, 0.7) == []
        await silent.execute("UPDATE import_jobs SET status = 'processing', attempts = 1 WHERE id = %s", (job,))
        assert [g["status"] for g in await _drain(listener, 1.0)] == ["processing"]
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as usual:
        await usual.execute("UPDATE import_jobs SET progress = 20 WHERE id = %s", (job,))
    assert [g["progress"] for g in await _drain(listener, 1.0)] == [20]
