"""The Postgres server restarted mid-import: servers and workers reconnect by themselves and the import completes."""

from __future__ import annotations

import asyncio
import io
import tempfile
import time
from pathlib import Path

import aiohttp
import psycopg
import pytest
from psycopg.rows import dict_row

from tests.faults.support import (
    own_postgres,
    service_env,
    sse_until_terminal,
    start_server,
    start_worker,
    token,
)
from tests.import_support import csv_rows
from tests.processes import ready

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

ROWS = 400_000


@pytest.mark.parametrize("stock", [False, True], ids=["importer-worker", "procrastinate-cli-worker"])
async def test_postgres_restart_mid_import_completes_with_each_item_once(stock):
    """A restart mid-import ends it `completed`, each item once, seen to the end over SSE, no process restarted."""
    with own_postgres() as pg:
        data_dir = Path(tempfile.mkdtemp(prefix="importer-fault-"))
        env = service_env(pg.url, data_dir)
        server, url = start_server(env, data_dir)
        worker = start_worker(env, data_dir, stock=stock)
        procs = [server, worker]
        pids = [p.popen.pid for p in procs]
        try:
            tok = token()
            auth = {"Authorization": f"Bearer {tok}"}
            async with aiohttp.ClientSession() as session:
                async with session.post(f"{url}/api/wheels", json={"title": "Omstart", "year": 2025},
                                        headers=auth) as resp:
                    assert resp.status == 201, await resp.text()
                    wheel = (await resp.json())["id"]
                async with session.post(f"{url}/api/wheels/{wheel}/imports?file_name=stor.csv",
                                        # A file object: aiohttp warns that raw bytes over 1 MiB may block
                                        # the event loop.
                                        data=io.BytesIO(csv_rows(ROWS)),
                                        headers={**auth, "Content-Type": "text/csv"}) as resp:
                    assert resp.status == 202, await resp.text()
                    job_id = (await resp.json())["id"]
                stream = asyncio.create_task(sse_until_terminal(session, url, job_id, tok, within=150))

                # Restart the moment rows are being loaded: the data transaction dies with it.
                with psycopg.connect(pg.url, autocommit=True, row_factory=dict_row) as conn:
                    deadline = time.monotonic() + 90
                    while True:
                        row = conn.execute("SELECT status, processed_items, attempts FROM import_jobs"
                                           " WHERE id = %s", (job_id,)).fetchone()
                        if row["processed_items"] > 0:
                            break
                        assert row["status"] in ("pending", "processing"), row
                        assert time.monotonic() < deadline, f"the import never started: {row}"
                        await asyncio.sleep(0.02)
                assert row["status"] == "processing" and row["processed_items"] < ROWS, row
                took = await asyncio.to_thread(pg.restart)
                print(f"Postgres restarted in {took:.2f} s at {row['processed_items']} of {ROWS} rows")

                try:
                    events = await stream
                except TimeoutError:
                    with psycopg.connect(pg.url, row_factory=dict_row) as conn:
                        state = conn.execute("SELECT * FROM import_jobs_overview WHERE id = %s", (job_id,)).fetchone()
                    raise AssertionError(f"no terminal event; job: {state}\n"
                                         + "\n".join(p.logs()[-4000:] for p in procs)) from None

            assert events[-1][0] == "completed", events[-3:]
            final = events[-1][1]
            assert final["status"] == "completed" and final["progress"] == 100
            assert final["attempts"] >= 2, "the restart must have cut an attempt short"
            with psycopg.connect(pg.url, row_factory=dict_row) as conn:
                items = conn.execute("SELECT count(*) AS n, count(DISTINCT name) AS names FROM items"
                                     " WHERE wheel_id = %s", (wheel,)).fetchone()
                job = conn.execute("SELECT status, created_items, attempts FROM import_jobs WHERE id = %s",
                                   (job_id,)).fetchone()
                queue = conn.execute("SELECT pj.status FROM procrastinate_jobs pj JOIN import_jobs j"
                                     " ON j.procrastinate_job_id = pj.id WHERE j.id = %s", (job_id,)).fetchone()
            assert items == {"n": ROWS, "names": ROWS}
            assert job["status"] == "completed" and job["created_items"] == ROWS
            assert queue["status"] == "succeeded"
            # Nobody restarted a process: the same ones reconnected.
            assert [p.popen.pid for p in procs] == pids and all(p.alive() for p in procs), \
                "\n".join(p.logs()[-2000:] for p in procs)
            assert ready(url)
        finally:
            for proc in procs:
                proc.stop()
