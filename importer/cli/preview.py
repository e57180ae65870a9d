"""`importer preview FILE --wheel ID` and `importer import-preview PREVIEW_ID`: the review before
an import, from a terminal.

`preview` uploads the file to `POST /api/wheels/{id}/previews` and prints what the import would
do: the file's format, which column feeds which field (with samples), the counts in words, the
warnings, the first items and the rejected rows; then the preview's id and the command that
imports it. `import-preview` starts that import (`POST /api/previews/{id}/imports`, no re-upload)
and follows it like `importer submit`.

Everything that comes from the file or the server (file name, headers, cells, messages) is
printed through importer.cli.terminal: literally (Rich never reads markup such as `[red]` in
it) and without control characters.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp

from importer.cli import EXIT_USAGE, terminal
from importer.cli.api import Endpoint, request_json
from importer.cli.follow import follow
from importer.cli.preview_view import console, render
from importer.cli.submit import Started, multipart, parse_mapping_option, run_cli


async def create(endpoint: Endpoint, path: Path, wheel_id: str, *, fields: dict[str, str]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        with path.open("rb") as handle:
            form = multipart(handle, path, fields)
            result: dict[str, Any] = await request_json(session, endpoint, "POST",
                                                        f"/api/wheels/{wheel_id}/previews", data=form)
            return result


def preview_fields(args: argparse.Namespace) -> dict[str, str]:
    """The multipart parts besides the file: only what the person chose."""
    fields: dict[str, str] = {}
    if args.mapping is not None:
        fields["mapping"] = json.dumps(args.mapping, ensure_ascii=False)
    if args.date_order:
        fields["date_order"] = args.date_order
    if args.sheet is not None:
        fields["sheet"] = args.sheet
    return fields


def main(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {terminal.clean(path)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        args.mapping = parse_mapping_option(args.mapping)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    async def run(endpoint: Endpoint, _: Started) -> int:
        preview = await create(endpoint, path, args.wheel, fields=preview_fields(args))
        if args.json:
            print(terminal.json_line(preview), flush=True)
        else:
            out = console()
            out.print(render(preview, width=out.width, shown=args.rows))
        return 0

    return run_cli(run, args)


async def start(endpoint: Endpoint, started: Started, preview_id: str, body: dict[str, Any]) -> int:
    async with aiohttp.ClientSession() as session:
        job = await request_json(session, endpoint, "POST", f"/api/previews/{preview_id}/imports", json=body)
        started.job_id = job["id"]
        print(f"Import startad: job {job['id']}", flush=True)
        return await follow(session, endpoint, job)


def import_main(args: argparse.Namespace) -> int:
    body = {"mode": args.mode, "notify": not args.no_notify, "skip_duplicates": not args.keep_duplicates}
    return run_cli(lambda endpoint, started: start(endpoint, started, args.preview_id, body), args)
