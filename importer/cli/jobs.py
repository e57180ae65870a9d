"""`importer jobs`: a table of import jobs read straight from the import_jobs_overview view.

The default table fits 100 columns (id, wheel, file, status, progress, age), one line per job;
`--wide` adds what an operator digs into. Every value that comes from a user (wheel title, file
name, e-mail) goes through importer.cli.terminal: printed literally (Rich never reads markup such
as `[red]` in it) and without its control characters and escape sequences.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from typing import Any

import psycopg
from psycopg.rows import dict_row
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from importer.cli import terminal
from importer.db import database_url
from importer.queries import q
from importer.settings import Settings

STATUS_STYLE = {
    "pending": "cyan", "processing": "blue", "cancelling": "yellow",
    "completed": "green", "failed": "red", "cancelled": "yellow",
}
# Widths the narrow table may give its free-text columns: with the fixed ones and the borders
# it stays within 100 columns (a test runs it at COLUMNS=100).
NARROW_WIDTH = 100
WHEEL_MAX, FILE_MAX = 20, 24
# Piped `--wide` output is for grep and less: do not fold it into 80 columns.
WIDE_WIDTH = 240


def fetch(conninfo: str, *, status: str | None = None, user_id: str | None = None,
          limit: int = 50) -> list[dict[str, Any]]:
    with psycopg.connect(conninfo, row_factory=dict_row, connect_timeout=10) as conn:
        return conn.execute(q("import_jobs_overview_list"),
                            {"status": status, "user_id": user_id, "limit": limit}).fetchall()


def duration_text(value: datetime.timedelta | None) -> str:
    if value is None:
        return ""
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def age_text(created: datetime.datetime, now: datetime.datetime) -> str:
    """How long ago, in the largest whole unit: `40 s`, `12 min`, `5 h`, `3 d`."""
    seconds = max(0, int((now - created).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _status(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def _wheel(row: dict[str, Any]) -> Text:
    return terminal.text(row["wheel_title"]) if row["wheel_title"] is not None else Text("(deleted)", style="dim")


def table(rows: list[dict[str, Any]], *, wide: bool = False,
          now: datetime.datetime | None = None) -> Table:
    now = now or datetime.datetime.now(datetime.UTC)
    t = Table(title=f"Import jobs ({len(rows)})", header_style="bold")
    if not wide:
        # (name, justify, min_width, max_width): the id stays whole on any terminal, to be copied.
        narrow: tuple[tuple[str, JustifyMethod, int | None, int | None], ...] = (
            ("id", "left", 8, None), ("wheel", "left", None, WHEEL_MAX), ("file", "left", None, FILE_MAX),
            ("status", "left", None, None), ("progress", "right", None, None), ("age", "right", None, None))
        for name, justify, min_width, max_width in narrow:
            # One line per job: a long title or file name is cut with "…", never wrapped.
            t.add_column(name, justify=justify, min_width=min_width, max_width=max_width, no_wrap=True,
                         overflow="ellipsis")
        for r in rows:
            t.add_row(str(r["id"])[:8], _wheel(r), terminal.text(r["file_name"]), _status(r["status"]),
                      f"{r['progress']}%", age_text(r["created_at"], now))
        return t
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("id", "left"), ("user", "left"), ("wheel", "left"), ("file", "left"), ("mode", "left"),
        ("status", "left"), ("progress", "right"), ("processed/total", "right"), ("rejected", "right"),
        ("attempts", "right"), ("worker", "right"), ("queue", "left"), ("created", "left"),
        ("duration", "right"))
    for name, justify in columns:
        # The whole id, unbroken, so that it can be copied into `importer watch`.
        t.add_column(name, justify=justify, overflow="fold", no_wrap=name == "id")
    for r in rows:
        t.add_row(
            str(r["id"]),
            terminal.text(r["email"] or ""),
            _wheel(r),
            terminal.text(r["file_name"]),
            r["mode"],
            _status(r["status"]),
            f"{r['progress']}%",
            f"{r['processed_items']}/{r['total_items']}",
            str(r["rejected_rows"]),
            str(r["attempts"]),
            "" if r["worker_id"] is None else str(r["worker_id"]),
            r["queue_status"] or "",
            r["created_at"].astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            duration_text(r["duration"]),
        )
    return t


def console_for(wide: bool) -> Console:
    """A terminal's own width; piped, $COLUMNS if set, else room for the table chosen."""
    console = Console()
    if console.is_terminal:
        return console
    columns = os.environ.get("COLUMNS", "")
    return Console(width=int(columns) if columns.isdigit() else (WIDE_WIDTH if wide else NARROW_WIDTH))


def main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        rows = fetch(database_url(settings), status=args.status, user_id=args.user, limit=args.limit)
    except psycopg.Error as exc:
        print(f"error: cannot read the jobs: {exc}", file=sys.stderr)
        return 2
    wide = bool(getattr(args, "wide", False))
    console = console_for(wide)
    if not rows:
        console.print("No import jobs" + (f" with status {args.status}" if args.status else "") + ".",
                      markup=False)
        return 0
    console.print(table(rows, wide=wide), markup=False)
    return 0
