"""Structured logs: every log line of a job's work carries its job id, in JSON and in text."""

from __future__ import annotations

import io
import json
import logging

import pytest

from importer import logs
from importer.jobs.import_task import run_import
from importer.jobs.worker import run_worker
from importer.settings import Settings
from tests.factories import make_job, make_user, make_wheel
from tests.import_support import csv_rows, job_row

pytestmark = pytest.mark.timeout(90)


def test_log_context_reaches_json_and_text_lines_and_ends_with_its_block():
    """Fields of log_context appear on lines inside the block, not after it; extra= given at the call wins."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    log = logging.getLogger("test.job_logs")
    log.addHandler(handler)
    log.propagate = False
    try:
        with logs.log_context(job_id="j-1", procrastinate_job_id=7):
            log.warning("inside")
            with logs.log_context(step="items"):
                log.warning("nested")
            log.warning("explicit", extra={"job_id": "j-2"})
        log.warning("after")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["job_id"] == "j-1" and lines[0]["procrastinate_job_id"] == "7"
    assert lines[1]["job_id"] == "j-1" and lines[1]["step"] == "items"
    assert lines[2]["job_id"] == "j-2"
    assert "job_id" not in lines[3]


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.addFilter(logs.ContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_every_log_line_of_an_import_run_by_a_worker_carries_its_job_id(pool):
    """An import run by a real Procrastinate worker logs only lines that carry its job id and procrastinate job id."""
    user = await make_user(pool, email="logs@example.test")
    wheel = await make_wheel(pool, user)
    job = await make_job(pool, user, wheel, content=csv_rows(300))
    async with pool.connection() as conn, conn.transaction():
        pj = await run_import.configure(connection=conn).defer_async(job_id=str(job))

    collect = Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(collect)
    root.setLevel(logging.INFO)
    try:
        await run_worker(pool, 1, settings=Settings.from_env({}), wait=False, queues=["imports"])
    finally:
        root.removeHandler(collect)
        root.setLevel(old_level)

    assert (await job_row(pool, job))["status"] == "completed"
    ours = [r for r in collect.records if r.name.startswith(("importer.load.attempt", "importer.mail.email_task",
                                                             "importer.load.progress", "importer.load.readers",
                                                             "importer.load.transaction"))]
    assert any("completed" in r.getMessage() for r in ours), [r.getMessage() for r in ours]
    for record in ours:
        assert record.job_id == str(job), record.getMessage()
        assert record.procrastinate_job_id == str(pj), record.getMessage()
        assert record.task == "run_import"
