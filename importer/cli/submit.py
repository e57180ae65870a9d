"""`importer submit FILE --wheel ID`: upload a CSV, then follow the import to its end."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp

from importer.cli import EXIT_INTERRUPTED, EXIT_USAGE
from importer.cli.api import ApiError, ClientError, Endpoint, raise_for_error
from importer.cli.follow import follow


async def upload(session: aiohttp.ClientSession, endpoint: Endpoint, path: Path, wheel_id: str,
                 *, mode: str = "append", notify: bool = True) -> dict[str, Any]:
    """The job object of a new import of `path` (multipart, the file streamed from disk)."""
    with path.open("rb") as handle:
        form = aiohttp.FormData()
        form.add_field("file", handle, filename=path.name, content_type="text/csv")
        form.add_field("mode", mode)
        form.add_field("notify", "true" if notify else "false")
        url = endpoint.absolute(f"/api/wheels/{wheel_id}/imports")
        async with session.post(url, data=form, headers=endpoint.headers) as response:
            await raise_for_error(response)
            job: dict[str, Any] = await response.json(content_type=None)
            return job


async def run(endpoint: Endpoint, path: Path, wheel_id: str, *, mode: str, notify: bool) -> int:
    async with aiohttp.ClientSession() as session:
        job = await upload(session, endpoint, path, wheel_id, mode=mode, notify=notify)
        print(f"Import startad: job {job['id']}", flush=True)
        return await follow(session, endpoint, job)


def main(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return EXIT_USAGE
    return run_cli(lambda endpoint: run(endpoint, path, args.wheel, mode=args.mode,
                                        notify=not args.no_notify), args)


def run_cli(make_coro: Callable[[Endpoint], Coroutine[Any, Any, int]], args: argparse.Namespace) -> int:
    """Run a client coroutine, turning every way a request fails into a message and an exit code."""
    try:
        endpoint = Endpoint.from_args(args.url, args.token)
        return asyncio.run(make_coro(endpoint))
    except ApiError as exc:
        print(f"error: {exc.message} ({exc.status} {exc.code})", file=sys.stderr)
        return EXIT_USAGE
    except ClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        print(f"error: cannot talk to the server: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ninterrupted; the import goes on in the server (`importer watch JOB_ID`)", file=sys.stderr)
        return EXIT_INTERRUPTED
