"""The `importer` command: argument parsing only; each command lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from uuid import UUID

from importer.cli import EXIT_USAGE
from importer.model import ImportMode, JobStatus
from importer.settings import ConfigError

# command -> "module:function"; imported only when that command runs, so `importer token`
# does not pay for aiohttp and `importer submit` does not need a database.
COMMANDS = {
    "migrate": "importer.cli.commands:migrate",
    "token": "importer.cli.commands:token",
    "serve": "server.serve:main",
    "worker": "importer.jobs.worker:main",
    "submit": "importer.cli.submit:main",
    "watch": "importer.cli.watch:main",
    "jobs": "importer.cli.jobs:main",
    "cancel": "importer.cli.actions:cancel_main",
    "retry": "importer.cli.actions:retry_main",
    "preview": "importer.cli.preview:main",
    "import-preview": "importer.cli.preview:import_main",
}

#: API.md's `date_order`: which part of 03/04 is the day.
DATE_ORDERS = ("day_first", "month_first")


def _uuid(text: str) -> str:
    try:
        return str(UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a UUID: {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _reading_options(p: argparse.ArgumentParser) -> None:
    """How the server reads the file: the same options for `submit` and `preview` (API.md)."""
    p.add_argument("--mapping", metavar="JSON",
                   help="""which header feeds which field, e.g. '{"label": "Ansvar", "description": null}'""")
    p.add_argument("--date-order", choices=DATE_ORDERS,
                   help="read 03/04/2025 as 3 April (day_first) or March 4 (month_first); default: from the data")
    p.add_argument("--sheet", metavar="NAME", help="the workbook's sheet to read (default: the first with data)")


def _rows(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be 0 to 100 (the server sends at most 100): {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="importer",
        description="Large, asynchronous spreadsheet imports into year wheels, on Postgres alone.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("migrate", help="apply Procrastinate's schema and every migration in schema/ (idempotent)")

    p = sub.add_parser("token", help="print a signed bearer token for a user")
    p.add_argument("--sub", required=True, type=_uuid, help="the user's UUID")
    p.add_argument("--email", help="the user's e-mail address (completion e-mails go there)")
    p.add_argument("--ttl", type=_positive, default=3600, help="lifetime in seconds (default 3600)")
    p.add_argument("--role", help="`service_role` marks an operator")

    p = sub.add_parser("serve", help="run the HTTP server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--with-worker", action="store_true", help="also run a worker in this process")
    p.add_argument("--dev-token", action="store_true", help="print a development token and URL at start-up")

    p = sub.add_parser("worker", help="run a Procrastinate worker")
    p.add_argument("--concurrency", type=_positive, default=2)
    p.add_argument("--metrics-port", type=int, default=None,
                   help="serve this worker's Prometheus metrics on 127.0.0.1:PORT/metrics")

    p = sub.add_parser("submit", help="upload a file (CSV, TSV, xlsx, xls, ods) and follow its progress until it ends")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--wheel", required=True, type=_uuid, help="the wheel to import into")
    p.add_argument("--mode", choices=[m.value for m in ImportMode], default=ImportMode.APPEND.value)
    _reading_options(p)
    p.add_argument("--keep-duplicates", action="store_true",
                   help="in append mode, import items the wheel already has too (skip_duplicates=false)")
    p.add_argument("--url", default=None, help="server base URL (default $IMPORTER_URL or http://127.0.0.1:8080)")
    p.add_argument("--token", default=None, help="bearer token (default $IMPORTER_TOKEN)")
    p.add_argument("--no-notify", action="store_true", help="send no completion e-mail")

    p = sub.add_parser("preview", help="upload a file and show what its import would do, without importing it")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--wheel", required=True, type=_uuid, help="the wheel it would be imported into")
    _reading_options(p)
    p.add_argument("--rows", type=_rows, default=10, metavar="N",
                   help="first items and rejected rows shown (default 10, at most 100; 0: none)")
    p.add_argument("--json", action="store_true", help="print the preview object as JSON")
    p.add_argument("--url", default=None)
    p.add_argument("--token", default=None)

    p = sub.add_parser("import-preview", help="import a previewed file (no re-upload) and follow its progress")
    p.add_argument("preview_id", metavar="PREVIEW_ID", type=_uuid)
    p.add_argument("--mode", choices=[m.value for m in ImportMode], default=ImportMode.APPEND.value)
    p.add_argument("--keep-duplicates", action="store_true",
                   help="in append mode, import items the wheel already has too (skip_duplicates=false)")
    p.add_argument("--no-notify", action="store_true", help="send no completion e-mail")
    p.add_argument("--url", default=None)
    p.add_argument("--token", default=None)

    p = sub.add_parser("watch", help="follow a job's progress stream")
    p.add_argument("job_id", metavar="JOB_ID", type=_uuid)
    p.add_argument("--url", default=None)
    p.add_argument("--token", default=None)

    p = sub.add_parser("cancel", help="cancel a pending or running import; nothing of it is saved")
    p.add_argument("job_id", metavar="JOB_ID", type=_uuid)
    p.add_argument("--url", default=None)
    p.add_argument("--token", default=None)
    p.add_argument("--json", action="store_true", help="print the job object as JSON")

    p = sub.add_parser("retry", help="import a failed or cancelled job's file again, as a new job")
    p.add_argument("job_id", metavar="JOB_ID", type=_uuid)
    p.add_argument("--url", default=None)
    p.add_argument("--token", default=None)
    p.add_argument("--json", action="store_true", help="print the new job object as JSON")
    p.add_argument("--follow", action="store_true",
                   help="follow the new job to its end (exit codes as `importer submit`)")

    p = sub.add_parser("jobs", help="a table of jobs, read straight from SQL")
    p.add_argument("--status", choices=[s.value for s in JobStatus])
    p.add_argument("--user", type=_uuid)
    p.add_argument("--limit", type=_positive, default=50)
    p.add_argument("--wide", action="store_true",
                   help="also user, mode, rows, rejected, attempts, worker, queue, created, duration")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a configuration the command cannot use (a bad variable, the production
    guard) is a message naming the variable on stderr and exit 2, not a traceback."""
    args = build_parser().parse_args(argv)
    module_name, func_name = COMMANDS[args.command].split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    try:
        return int(func(args) or 0)
    except ConfigError as exc:
        print(f"importer: {exc}", file=sys.stderr)
        return EXIT_USAGE

