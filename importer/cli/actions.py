"""`importer cancel JOB_ID` and `importer retry JOB_ID`: the page's two buttons, from a terminal.

Each prints the job the server answered with (`--json`: the job object itself, on one line).
Exit codes as in importer.cli: 0 when the server took the action, 2 when it refused (409: the
job has ended / cannot be retried; 404: no such job of yours) or could not be reached; `retry
--follow` then follows the new job and exits like `importer submit`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

import aiohttp

from importer.cli import terminal
from importer.cli.api import Endpoint, request_json
from importer.cli.follow import follow
from importer.cli.submit import Started, run_cli

# What each status means for the wheel, in the words the page uses.
OUTCOME = {
    "pending": "queued",
    "processing": "running",
    "cancelling": "cancelling: the worker rolls the import back; nothing of it is saved",
    "cancelled": "cancelled: nothing of it was saved",
    "failed": "failed: nothing of it was saved",
    "completed": "completed",
}


def describe(job: dict[str, Any]) -> str:
    """One line about a job: id, file, status in words, progress and (for a retry) its origin;
    the file name as the user gave it, less its control characters (importer.cli.terminal)."""
    status = str(job.get("status", ""))
    file_name = terminal.clean(job.get("file_name"))
    line = f"job {job.get('id')} ({file_name}): {OUTCOME.get(status, terminal.clean(status))}"
    if status in ("pending", "processing"):
        line += f", {job.get('progress', 0)}%"
    if job.get("retry_of"):
        line += f"; retry of {job['retry_of']}"
    return line


def show(job: dict[str, Any], *, as_json: bool, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    print(terminal.json_line(job) if as_json else describe(job), file=out, flush=True)


async def cancel(endpoint: Endpoint, job_id: str, *, as_json: bool) -> int:
    async with aiohttp.ClientSession() as session:
        job = await request_json(session, endpoint, "POST", f"/api/imports/{job_id}/cancel")
    show(job, as_json=as_json)
    return 0


async def retry(endpoint: Endpoint, started: Started, job_id: str, *, as_json: bool, follow_it: bool) -> int:
    async with aiohttp.ClientSession() as session:
        job = await request_json(session, endpoint, "POST", f"/api/imports/{job_id}/retry")
        started.job_id = job["id"]
        show(job, as_json=as_json)
        if not follow_it:
            return 0
        return await follow(session, endpoint, job)


def cancel_main(args: argparse.Namespace) -> int:
    return run_cli(lambda endpoint, _: cancel(endpoint, args.job_id, as_json=args.json), args,
                   job_id=args.job_id)


def retry_main(args: argparse.Namespace) -> int:
    return run_cli(lambda endpoint, started: retry(endpoint, started, args.job_id, as_json=args.json,
                                                   follow_it=args.follow), args)
