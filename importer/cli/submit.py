"""`importer submit FILE --wheel ID`: upload a file, then follow the import to its end."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp
import attrs

from importer.cli import EXIT_INTERRUPTED, EXIT_USAGE, terminal
from importer.cli.api import ApiError, ClientError, Endpoint, raise_for_error
from importer.cli.follow import follow

# The media type a file part is sent with; the server reads the content, so this is only polite.
MEDIA_TYPES = {
    ".csv": "text/csv", ".tsv": "text/tab-separated-values", ".txt": "text/plain",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".xls": "application/vnd.ms-excel", ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}


@attrs.define
class Started:
    """The job a command is about, once it is known: what a Ctrl-C hint names."""

    job_id: str | None = None


def multipart(handle: BinaryIO, path: Path, fields: dict[str, str]) -> aiohttp.FormData:
    """The form of an upload: part `file` (streamed from `handle`) and the text parts `fields`."""
    # Unquoted: aiohttp would otherwise send the name percent-encoded ("byr%C3%A5.csv"), which
    # servers (ours included) take literally; browsers send it as UTF-8, as this does.
    form = aiohttp.FormData(quote_fields=False)
    # Without control characters: aiohttp refuses them in a header (a traceback instead of an
    # upload), and in a name they only ever hide or forge what a terminal shows.
    form.add_field("file", handle, filename=terminal.clean(path.name),
                   content_type=MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream"))
    for name, value in fields.items():
        form.add_field(name, value)
    return form


def parse_mapping_option(raw: str | None) -> dict[str, Any] | None:
    """`--mapping`'s JSON object (API.md's `mapping`); ValueError with a message for a person.

    Checked here so that a typo costs no upload; which headers it names, the server checks.
    """
    if raw is None:
        return None
    try:
        mapping = json.loads(raw)
    except ValueError:
        raise ValueError(f"--mapping is not JSON: {raw!r} "
                         """(e.g. --mapping '{"label": "Ansvar", "description": null}')""") from None
    if not isinstance(mapping, dict):
        raise ValueError("--mapping must be a JSON object of field -> header")
    return mapping


def import_fields(*, mode: str = "append", notify: bool = True, mapping: dict[str, Any] | None = None,
                  date_order: str | None = None, sheet: str | None = None,
                  skip_duplicates: bool = True) -> dict[str, str]:
    """The multipart parts of an import besides the file; options left unset are not sent."""
    fields = {"mode": mode, "notify": "true" if notify else "false"}
    if mapping is not None:
        fields["mapping"] = json.dumps(mapping, ensure_ascii=False)
    if date_order:
        fields["date_order"] = date_order
    if sheet is not None:
        fields["sheet"] = sheet
    if not skip_duplicates:
        fields["skip_duplicates"] = "false"
    return fields


async def upload(session: aiohttp.ClientSession, endpoint: Endpoint, path: Path, wheel_id: str,
                 *, fields: dict[str, str] | None = None) -> dict[str, Any]:
    """The job object of a new import of `path` (multipart, the file streamed from disk)."""
    with path.open("rb") as handle:
        form = multipart(handle, path, fields if fields is not None else import_fields())
        url = endpoint.absolute(f"/api/wheels/{wheel_id}/imports")
        async with session.post(url, data=form, headers=endpoint.headers) as response:
            await raise_for_error(response)
            job: dict[str, Any] = await response.json(content_type=None)
            return job


async def run(endpoint: Endpoint, started: Started, path: Path, wheel_id: str, *,
              fields: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as session:
        job = await upload(session, endpoint, path, wheel_id, fields=fields)
        started.job_id = job["id"]
        print(f"Import startad: job {job['id']}", flush=True)
        return await follow(session, endpoint, job)


def main(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {terminal.clean(path)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        mapping = parse_mapping_option(args.mapping)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    fields = import_fields(mode=args.mode, notify=not args.no_notify, mapping=mapping,
                           date_order=args.date_order, sheet=args.sheet,
                           skip_duplicates=not args.keep_duplicates)
    return run_cli(lambda endpoint, started: run(endpoint, started, path, args.wheel, fields=fields), args)


def interrupted_hint(job_id: str | None) -> str:
    """What Ctrl-C leaves behind, naming the job when it is known."""
    if job_id is None:
        return ("interrupted before the server answered; if it had started the import, "
                "`importer jobs` and the web page list it")
    return (f"interrupted; the import goes on in the server: `importer watch {job_id}` follows it "
            f"again, `importer cancel {job_id}` stops it")


def run_cli(make_coro: Callable[[Endpoint, Started], Coroutine[Any, Any, int]], args: argparse.Namespace,
            *, job_id: str | None = None) -> int:
    """Run a client coroutine, turning every way a request fails into a message and an exit code.

    `job_id` is the job the command is about when it is known from the start (`watch`); the
    coroutine sets `Started.job_id` when it learns it (`submit`, once the server has answered).
    """
    started = Started(job_id=job_id)
    try:
        endpoint = Endpoint.from_args(args.url, args.token)
        return asyncio.run(make_coro(endpoint, started))
    except ApiError as exc:
        # The server's message may quote what the user sent (a sheet name, a header).
        print(terminal.clean(f"error: {exc.message} ({exc.status} {exc.code})"), file=sys.stderr)
        return EXIT_USAGE
    except ClientError as exc:
        print(terminal.clean(f"error: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        print(terminal.clean(f"error: cannot talk to the server: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\n{interrupted_hint(started.job_id)}", file=sys.stderr)
        return EXIT_INTERRUPTED
