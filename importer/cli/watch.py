"""`importer watch JOB_ID`: follow any job's progress stream to its end."""

from __future__ import annotations

import argparse

import aiohttp

from importer.cli.api import Endpoint, request_json
from importer.cli.follow import follow
from importer.cli.submit import run_cli


async def run(endpoint: Endpoint, job_id: str) -> int:
    async with aiohttp.ClientSession() as session:
        # The job first: a 404 is reported as such, and a finished job needs no stream.
        job = await request_json(session, endpoint, "GET", f"/api/imports/{job_id}")
        return await follow(session, endpoint, job)


def main(args: argparse.Namespace) -> int:
    return run_cli(lambda endpoint, _: run(endpoint, args.job_id), args, job_id=args.job_id)
