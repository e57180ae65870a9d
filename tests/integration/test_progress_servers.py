"""Two `importer serve` processes on one database each stream every event of a real import to their own clients."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import aiohttp
import psycopg
import pytest

from importer import tokens
from server.hub import APPLICATION_NAME
from tests.factories import make_user, make_wheel
from tests.processes import free_port, start, wait_ready
from tests.sse import open_stream

pytestmark = pytest.mark.slow

SECRET = "test-secret-for-two-servers-" + "0123456789" * 4
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def importer(db_url: str, *args: str, ready_url: str | None = None) -> Iterator[Path]:
    """`python -m importer.cli ARGS` on this database; with ready_url, yields once /readyz is 200."""
    env = {**os.environ, "DATABASE_URL": db_url, "IMPORTER_JWT_SECRET": SECRET,
           "IMPORTER_MAX_ACTIVE_JOBS": "50", "IMPORTER_LOG_FORMAT": "text",
           "IMPORTER_DATA_DIR": tempfile.mkdtemp(prefix="importer-")}
    proc = start(args[0], ["-m", "importer.cli", *args], env, Path(env["IMPORTER_DATA_DIR"]))
    try:
        if ready_url:
            wait_ready(proc, ready_url)
        yield proc.log
    finally:
        proc.stop()


def csv_rows(n: int) -> bytes:
    lines = ["Aktivitet,Startdatum,Slutdatum,Område,Kategori"]
    for i in range(n):
        month = i % 12 + 1
        lines.append(f"Aktivitet {i},2026-{month:02d}-01,2026-{month:02d}-15,Område {i % 4},Kategori {i % 7}")
    return ("\n".join(lines) + "\n").encode()


async def _collect(stream) -> list:
    got = []
    while True:
        event = await stream.next(within=60)
        assert event is not None
        got.append(event)
        if event.event != "progress":
            return got


@contextmanager
def serve(db_url: str) -> Iterator[str]:
    """`importer serve` on a free port, ready when this yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with importer(db_url, "serve", "--port", str(port), ready_url=url):
        yield url


async def test_two_servers_each_deliver_every_event_of_a_real_import(pool, db_url):
    """A 1,929-row import run by a real worker: clients of both servers see the same events up to `completed`."""
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    token = tokens.mint(SECRET, user)
    with serve(db_url) as a, serve(db_url) as b:
        async with aiohttp.ClientSession() as session, AsyncExitStack() as streams:
            async with session.post(f"{a}/api/wheels/{wheel}/imports", params={"file_name": "plan.csv"},
                                    data=csv_rows(1929), headers={"Authorization": f"Bearer {token}",
                                                                  "Content-Type": "text/csv"}) as resp:
                assert resp.status == 202, await resp.text()
                job = (await resp.json())["id"]
            job_streams = [await streams.enter_async_context(
                open_stream(session, f"{base}/api/imports/{job}/events", token=token)) for base in (a, b)]
            user_streams = [await streams.enter_async_context(
                open_stream(session, f"{base}/api/events", token=token)) for base in (a, b)]
            collecting = [asyncio.create_task(_collect(s)) for s in (*job_streams, *user_streams)]
            await asyncio.sleep(0.3)  # every stream has sent its first event
            with importer(db_url, "worker") as worker_log:
                try:
                    results = await asyncio.wait_for(asyncio.gather(*collecting), 60)
                except TimeoutError:
                    raise AssertionError(worker_log.read_text(errors="replace")) from None
            async with await psycopg.AsyncConnection.connect(db_url) as conn:
                hubs = await (await conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND application_name = %s", (APPLICATION_NAME,))).fetchone()
    on_a, on_b, users_a, users_b = results
    seqs = [int(e.id) for e in on_a]
    assert seqs == sorted(set(seqs)) and len(seqs) >= 3
    assert [e.id for e in on_b] == [e.id for e in on_a]
    assert on_a[-1].event == on_b[-1].event == "completed"
    assert on_a[-1].job["counts"]["items"] == 1929
    assert [e.id for e in users_a] == [e.id for e in users_b] == [f"{job}:{s}" for s in seqs]
    progress = [e.job["progress"] for e in on_a]
    assert progress == sorted(progress)
    assert hubs[0] == 2  # one LISTEN connection per server process
