"""`importer worker --metrics-port`: a worker process serves its own tasks' metrics and the database's."""

from __future__ import annotations

import asyncio
import subprocess
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from importer.jobs.import_task import run_import
from tests.factories import make_job, make_user, make_wheel
from tests.import_support import csv_rows, wait_for
from tests.integration.test_worker import ROOT, VENV_BIN, stop, worker_env
from tests.processes import free_port

pytestmark = pytest.mark.timeout(90)


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


def start_worker_with_metrics(db_url: str, port: int) -> subprocess.Popen:
    return subprocess.Popen([str(VENV_BIN / "importer"), "worker", "--metrics-port", str(port)], cwd=ROOT,
                            env=worker_env(db_url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def test_worker_metrics_count_its_import_and_the_database_state(pool, db_url):
    """After a worker ran an import, its /metrics shows the task's run time and the job as completed."""
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    job = await make_job(pool, user, wheel, content=csv_rows(500))
    async with pool.connection() as conn, conn.transaction():
        await run_import.configure(connection=conn).defer_async(job_id=str(job))
    port = free_port()
    proc = start_worker_with_metrics(db_url, port)
    m: dict[tuple[str, tuple], float] = {}
    try:
        row = await wait_for(pool, job, lambda r: r["status"] == "completed", within=60)
        assert row["status"] == "completed"
        for _ in range(50):
            try:
                m = await asyncio.to_thread(scrape, port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            if m.get(("importer_worker_task_duration_seconds_count",
                      (("outcome", "success"), ("task", "run_import")))):
                break
            await asyncio.sleep(0.1)
    finally:
        log = stop(proc)
    key = ("importer_worker_task_duration_seconds_count", (("outcome", "success"), ("task", "run_import")))
    assert m.get(key) == 1, log
    assert m[("importer_worker_tasks_running", (("task", "run_import"),))] == 0
    assert m[("importer_jobs", (("status", "completed"),))] == 1
    assert m[("importer_metrics_database_up", ())] == 1
