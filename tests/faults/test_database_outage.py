"""The database refuses every connection for longer than a pool's wait: workers and servers ride it out."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import aiohttp
import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from tests.faults.support import own_postgres, service_env, start_server, start_worker, token, wait_worker_registered
from tests.import_support import csv_rows
from tests.processes import ready

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

# Longer than psycopg_pool's 30 s wait for a connection, after which a plain worker stops.
OUTAGE_SECONDS = 35


def set_outage(admin_url: str, on: bool) -> None:
    """Refuse (or allow again) new connections to `importer`, and cut the existing ones."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE importer ALLOW_CONNECTIONS {}").format(
            sql.SQL("false" if on else "true")))
        if on:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE datname = 'importer' AND pid <> pg_backend_pid()")


async def test_worker_and_server_survive_a_long_outage_and_then_import():
    """After 35 s without the database the same worker and server processes complete a new import."""
    with own_postgres() as pg:
        data_dir = Path(tempfile.mkdtemp(prefix="importer-fault-"))
        env = service_env(pg.url, data_dir)
        server, url = start_server(env, data_dir)
        worker = start_worker(env, data_dir)
        procs = [server, worker]
        admin = pg.server.get_uri()
        try:
            wait_worker_registered(pg.url, worker)
            set_outage(admin, True)
            try:
                deadline = time.monotonic() + OUTAGE_SECONDS
                while time.monotonic() < deadline:
                    assert all(p.alive() for p in procs), "\n".join(p.logs()[-3000:] for p in procs)
                    await asyncio.sleep(1)
                assert not ready(url)
            finally:
                set_outage(admin, False)
                restored = time.monotonic()

            tok = token()
            auth = {"Authorization": f"Bearer {tok}"}
            async with aiohttp.ClientSession() as session:
                back = time.monotonic() + 60
                while not ready(url):
                    assert time.monotonic() < back, "the server did not get ready after the outage"
                    await asyncio.sleep(0.2)
                ready_after = time.monotonic() - restored
                async with session.post(f"{url}/api/wheels", json={"title": "Efter", "year": 2025},
                                        headers=auth) as resp:
                    assert resp.status == 201, await resp.text()
                    wheel = (await resp.json())["id"]
                async with session.post(f"{url}/api/wheels/{wheel}/imports?file_name=efter.csv",
                                        data=csv_rows(2000), headers={**auth, "Content-Type": "text/csv"}) as resp:
                    assert resp.status == 202, await resp.text()
                    job_id = (await resp.json())["id"]
            with psycopg.connect(pg.url, autocommit=True, row_factory=dict_row) as conn:
                deadline = time.monotonic() + 60
                while True:
                    job = conn.execute("SELECT status, created_items FROM import_jobs WHERE id = %s",
                                       (job_id,)).fetchone()
                    if job["status"] not in ("pending", "processing"):
                        break
                    assert time.monotonic() < deadline, job
                    await asyncio.sleep(0.1)
            print(f"after the outage: server ready in {ready_after:.1f} s, import completed "
                  f"{time.monotonic() - restored:.1f} s after the database came back")
            assert job == {"status": "completed", "created_items": 2000}
            assert all(p.alive() for p in procs), "\n".join(p.logs()[-3000:] for p in procs)
        finally:
            for proc in procs:
                proc.stop()
