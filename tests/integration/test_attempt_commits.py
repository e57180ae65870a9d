"""What an attempt commits on the job row: how many NOTIFYing commits a small import makes, and
which of them wait for the disk (schema/0013, importer.db.unflushed_transaction)."""

from __future__ import annotations

import asyncio
import json

import attrs
import psycopg
import pytest

from importer.load import attempt
from importer.load.progress import READ_DONE
from importer.settings import LoadSettings, Settings
from tests.factories import make_job, make_user, make_wheel
from tests.import_support import csv_rows, job_row

pytestmark = pytest.mark.timeout(120)

# No row-count writes (they are throttled to one per 10 s): only the steps an attempt always writes.
SETTINGS = attrs.evolve(Settings.from_env({"DATABASE_URL": "unused"}),
                        load=LoadSettings(progress_interval=10.0, cancel_check_interval=10.0))

# Test code: records, for every change of a job row, the commit mode of the transaction making it.
CAPTURE = """
CREATE TABLE commit_modes (at bigserial, status text, step text, mode text);
GRANT ALL ON commit_modes TO PUBLIC;
GRANT ALL ON SEQUENCE commit_modes_at_seq TO PUBLIC;
CREATE FUNCTION capture_commit_mode() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO commit_modes (status, step, mode)
    VALUES (NEW.status, NEW.step, current_setting('synchronous_commit'));
    RETURN NULL;
END $$;
CREATE TRIGGER capture_commit_mode AFTER UPDATE ON import_jobs
    FOR EACH ROW EXECUTE FUNCTION capture_commit_mode();
"""


async def _events(listener: psycopg.AsyncConnection, job_id: str) -> list[dict]:
    """The job's notifications until its terminal one."""
    found = []
    async for note in listener.notifies():
        event = json.loads(note.payload)
        if event["id"] == job_id:
            found.append(event)
            if event["status"] in ("completed", "failed", "cancelled"):
                return found
    return found


async def test_a_small_import_notifies_claim_file_step_finishing_and_completion(db_url, pool):
    """A 25-row import with a warning makes four NOTIFYing commits: the claim, the first step
    carrying the file's warnings, `finishing`, and `completed`; its headers are kept for errors.csv."""
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    # A column no field takes: the file has a warning to show (unmapped_column).
    lines = csv_rows(25).decode().splitlines()
    content = "\n".join([lines[0] + ",Budget", *(line + ",100" for line in lines[1:])]).encode()
    job = await make_job(pool, user, wheel, content=content)
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as listener:
        await listener.execute("LISTEN import_jobs")
        collect = asyncio.create_task(_events(listener, str(job)))
        assert await attempt.run_job(pool, job, settings=SETTINGS) == "completed"
        events = await asyncio.wait_for(collect, 30)
    assert [(e["step"], e["progress"]) for e in events] == [
        ("parsing", 0), ("parsing", READ_DONE), ("finishing", 97), ("done", 100)]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert [w["code"] for w in events[1]["warnings"]] == ["unmapped_column"]
    row = await job_row(pool, job)
    assert row["headers"][:3] == ["Aktivitet", "Startdatum", "Slutdatum"]
    assert row["created_items"] == 25


async def test_claims_and_progress_commit_unflushed_and_every_end_durably(db_url, pool):
    """The claim and the progress writes commit with synchronous_commit off; the completion
    and a failure, which a crash must not lose, commit durably."""
    async with pool.connection() as conn:
        await conn.execute(CAPTURE)
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    done = await make_job(pool, user, wheel, content=csv_rows(25))
    assert await attempt.run_job(pool, done, settings=SETTINGS) == "completed"
    bad = await make_job(pool, user, wheel, content=b"Aktivitet,Startdatum\nA,inte ett datum\n")
    assert await attempt.run_job(pool, bad, settings=SETTINGS) == "failed"
    async with pool.connection() as conn:
        modes = await (await conn.execute(
            "SELECT status, step, mode FROM commit_modes ORDER BY at")).fetchall()
    running = [m["mode"] for m in modes if m["status"] == "processing"]
    ended = {m["status"]: m["mode"] for m in modes if m["status"] in ("completed", "failed")}
    assert len(running) >= 4 and set(running) == {"off"}, modes
    assert ended == {"completed": "on", "failed": "on"}, modes
