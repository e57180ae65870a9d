"""Workers as real processes: queueing, crash recovery after SIGKILL, shutdown by SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import attrs
import pytest

from importer.db import as_worker
from importer.jobs.import_task import run_import
from importer.jobs.worker import run_worker
from importer.mail.email_task import defer_email_if_needed
from importer.settings import Settings, WorkerSettings
from tests.factories import make_job, make_user, make_wheel
from tests.import_support import csv_rows, job_row, wait_for
from tests.integration.email_support import email_record, ended_job, start_smtp

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def worker_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": db_url, "IMPORTER_LOG_FORMAT": "text",
           "IMPORTER_WORKER_HEARTBEAT_SECONDS": "0.5", "IMPORTER_WORKER_STALLED_SECONDS": "2",
           "IMPORTER_RECOVERY_EVERY_SECONDS": "1", "IMPORTER_WORKER_SHUTDOWN_GRACE_SECONDS": "0.5",
           "IMPORTER_DATA_DIR": str(ROOT / ".data" / "test-worker")}
    env.update(extra)
    return env


def start_worker(db_url: str, *, stock: bool = False, **extra: str) -> subprocess.Popen:
    if stock:
        cmd = [str(VENV_BIN / "procrastinate"), "--app=importer.tasks.app", "worker"]
    else:
        cmd = [str(VENV_BIN / "importer"), "worker", "--concurrency", "2"]
    return subprocess.Popen(cmd, cwd=ROOT, env=worker_env(db_url, **extra),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen, tail: int | None = 3000) -> str:
    """SIGTERM, then the last `tail` characters of the process' stderr (None: all of it)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    text = ""
    if proc.stderr:
        with proc.stderr:  # closed here, or its file is left to the garbage collector (ResourceWarning)
            text = proc.stderr.read().decode(errors="replace")
    return text if tail is None else text[-tail:]


async def submit(pool, content: bytes, **columns):
    """A job row and its queued task in one transaction, as the API creates them."""
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    job = await make_job(pool, user, wheel, content=content, **columns)
    async with pool.connection() as conn, conn.transaction():
        pj = await run_import.configure(connection=conn).defer_async(job_id=str(job))
        await conn.execute("UPDATE import_jobs SET procrastinate_job_id = %s WHERE id = %s", (pj, job))
    return wheel, job


async def items_summary(pool, wheel):
    async with pool.connection() as conn:
        return await (await conn.execute(
            "SELECT count(*) AS n, count(DISTINCT name) AS names FROM items WHERE wheel_id = %s",
            (wheel,))).fetchone()


async def test_stock_procrastinate_cli_runs_an_import(pool, db_url):
    """`procrastinate --app=importer.tasks.app worker` picks up and completes a queued import."""
    wheel, job = await submit(pool, csv_rows(1929))
    proc = start_worker(db_url, stock=True)
    try:
        row = await wait_for(pool, job, lambda r: r["status"] in ("completed", "failed"), within=60)
    finally:
        log = stop(proc)
    assert row["status"] == "completed", log
    assert (await items_summary(pool, wheel))["n"] == 1929


@pytest.mark.parametrize("stock", [False, True], ids=["importer-worker", "stock-cli"])
async def test_both_worker_commands_log_json_lines(pool, db_url, stock):
    """With IMPORTER_LOG_FORMAT=json, `importer worker` and the stock CLI both write only JSON lines."""
    proc = start_worker(db_url, stock=stock, IMPORTER_LOG_FORMAT="json")
    try:
        deadline = time.monotonic() + 60
        async with pool.connection() as conn:
            while not (await (await conn.execute(
                    "SELECT EXISTS (SELECT FROM procrastinate_workers) AS up")).fetchone())["up"]:
                assert proc.poll() is None and time.monotonic() < deadline, "the worker did not start"
                await asyncio.sleep(0.1)
    finally:
        log = stop(proc, tail=None)
    # The stock CLI prints this one line itself (procrastinate/cli.py worker_), outside logging.
    lines = [line for line in log.splitlines() if line.strip() and not line.startswith("Launching a worker on")]
    assert lines, "the worker logged nothing"
    entries = [json.loads(line) for line in lines]
    assert any(entry["logger"].startswith("procrastinate.") for entry in entries), log


def test_stock_cli_with_a_bad_setting_stops_naming_the_variable():
    """The stock CLI refuses to start on a bad variable and says which one, as `importer worker` does."""
    proc = subprocess.run([str(VENV_BIN / "procrastinate"), "--app=importer.tasks.app", "worker"], cwd=ROOT,
                          env=worker_env("postgresql://nobody@127.0.0.1:1/none",
                                         IMPORTER_WORKER_HEARTBEAT_SECONDS="soon"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "IMPORTER_WORKER_HEARTBEAT_SECONDS must be a number of seconds" in proc.stderr, proc.stderr


async def test_killed_worker_is_recovered_with_each_item_once(pool, db_url):
    """A worker killed with SIGKILL mid-import: another worker redoes the job, items exactly once."""
    rows = 300_000
    wheel, job = await submit(pool, csv_rows(rows))
    first = start_worker(db_url)
    second = None
    try:
        await wait_for(pool, job, lambda r: r["processed_items"] > 0 and r["status"] == "processing",
                       within=60, interval=0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        mid = await job_row(pool, job)
        assert mid["status"] == "processing" and mid["processed_items"] < rows
        second = start_worker(db_url)
        row = await wait_for(pool, job, lambda r: r["status"] in ("completed", "failed"), within=120)
    finally:
        stop(first)
        log = stop(second) if second else ""
    assert (row["status"], row["attempts"]) == ("completed", 2), log
    summary = await items_summary(pool, wheel)
    assert (summary["n"], summary["names"]) == (rows, rows)


async def test_sigterm_mid_import_requeues_and_another_worker_completes(pool, db_url):
    """SIGTERM during an import rolls it back into the queue; it never stays `processing`."""
    rows = 300_000
    wheel, job = await submit(pool, csv_rows(rows))
    first = start_worker(db_url)
    second = None
    try:
        await wait_for(pool, job, lambda r: r["processed_items"] > 0 and r["status"] == "processing",
                       within=60, interval=0.01)
        first.send_signal(signal.SIGTERM)
        first.wait(30)
        after = await job_row(pool, job)
        assert after["status"] in ("pending", "completed"), after["status"]
        if after["status"] == "pending":
            assert (await items_summary(pool, wheel))["n"] == 0
        second = start_worker(db_url)
        row = await wait_for(pool, job, lambda r: r["status"] in ("completed", "failed"), within=120)
    finally:
        stop(first)
        log = stop(second) if second else ""
    assert row["status"] == "completed", log
    assert (await items_summary(pool, wheel))["n"] == rows


async def test_in_process_worker_skips_a_job_cancelled_while_pending(pool):
    """A job cancelled before pickup is not run; a queued one after it still is."""
    _, cancelled = await submit(pool, csv_rows(10))
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET status = 'cancelled', finished_at = now()"
                           " WHERE id = %s", (cancelled,))
    _wheel, job = await submit(pool, csv_rows(10))
    config = WorkerSettings(heartbeat=0.5, stalled_after=2, recovery_every=1, shutdown_grace=1)
    settings = attrs.evolve(Settings.from_env({}), worker=config)
    worker = asyncio.create_task(run_worker(pool, 2, settings=settings))
    try:
        row = await wait_for(pool, job, lambda r: r["status"] == "completed", within=30)
    finally:
        worker.cancel()
        await asyncio.wait_for(asyncio.gather(worker, return_exceptions=True), 30)
    assert row["created_items"] == 10
    skipped = await job_row(pool, cancelled)
    assert (skipped["status"], skipped["attempts"]) == ("cancelled", 0)


class HangingSmtpHandler:
    """An SMTP handler that holds the first message's DATA until `release` is set (then refuses
    it), and keeps every later message."""

    def __init__(self):
        self.holding = threading.Event()
        self.release = threading.Event()
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        if not self.holding.is_set():
            self.holding.set()
            await asyncio.to_thread(self.release.wait, 120)
            return "451 4.3.0 Try again later"
        self.messages.append(envelope.content)
        return "250 OK"


async def test_killed_worker_mid_email_is_recovered_and_the_email_sent(pool, db_url):
    """A worker killed with SIGKILL while sending an import's e-mail: another worker sends it."""
    handler = HangingSmtpHandler()
    smtp = start_smtp(handler)
    job = await ended_job(pool, items=250)
    async with as_worker(pool) as conn:
        await defer_email_if_needed(conn, job, settings=Settings.from_env({}))
    smtp_env = {"SMTP_URL": f"smtp://127.0.0.1:{smtp.port}?timeout=120", "IMPORTER_EMAIL_RETRY_WAIT": "0"}
    first = start_worker(db_url, **smtp_env)
    second = None
    try:
        deadline = time.monotonic() + 60
        while not handler.holding.is_set():
            assert first.poll() is None and time.monotonic() < deadline, "the e-mail was never sent"
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = start_worker(db_url, **smtp_env)
        deadline = time.monotonic() + 60
        while (record := await email_record(pool, job))["status"] != "sent":
            assert time.monotonic() < deadline, f"the e-mail of the killed worker was never sent: {record}"
            await asyncio.sleep(0.1)
    finally:
        handler.release.set()
        stop(first)
        log = stop(second) if second else ""
        smtp.stop()
    assert len(handler.messages) == 1, log
    assert record["attempts"] == 2


@pytest.mark.parametrize(("lock", "query"), [
    ("SELECT FROM procrastinate_workers FOR UPDATE", "update_heartbeat"),
    ("LOCK TABLE procrastinate_periodic_defers IN SHARE ROW EXCLUSIVE MODE", "defer_periodic_job"),
], ids=["heartbeat", "periodic-deferral"])
async def test_a_side_task_query_cut_by_a_lost_connection_does_not_stop_the_worker(pool, db_url, lock, query):
    """A heartbeat or periodic deferral whose connection dies mid-query (as in a Postgres restart)
    is sent again; the worker goes on and still imports, instead of stopping with status 0."""
    worker = start_worker(db_url, IMPORTER_WORKER_HEARTBEAT_SECONDS="0.2")
    try:
        async with pool.connection() as conn:
            deadline = time.monotonic() + 60
            while not (await (await conn.execute("SELECT EXISTS (SELECT FROM procrastinate_workers) AS up")
                              ).fetchone())["up"]:
                assert worker.poll() is None and time.monotonic() < deadline, "the worker did not start"
                await asyncio.sleep(0.1)
        # Hold the query's rows so that it waits, mid-query, then end its connection from the server side.
        async with pool.connection() as holder, holder.transaction():
            await holder.execute(lock)
            async with pool.connection() as conn:
                deadline = time.monotonic() + 60
                while not (blocked := [r["pid"] for r in await (await conn.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock' AND query LIKE %s", (f"%{query}%",))).fetchall()]):
                    assert time.monotonic() < deadline, f"no {query} query came"
                    await asyncio.sleep(0.05)
                for pid in blocked:
                    await conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        await asyncio.sleep(3)
        stopped = worker.poll()
        if stopped is None:
            _wheel, job = await submit(pool, csv_rows(50))
            row = await wait_for(pool, job, lambda r: r["status"] in ("completed", "failed"), within=60)
    finally:
        log = stop(worker)
    assert stopped is None, f"the worker stopped (status {stopped}):\n{log}"
    assert row["status"] == "completed", log
    assert "sending it again" in log, log
