"""`importer jobs`: a table of import jobs read straight from the import_jobs_overview view."""

from __future__ import annotations

import argparse
import datetime
import sys
from typing import Any

import psycopg
from psycopg.rows import dict_row
from rich.console import Console, JustifyMethod
from rich.table import Table

from importer.db import database_url
from importer.queries import q
from importer.settings import Settings

STATUS_STYLE = {
    "pending": "cyan", "processing": "blue", "cancelling": "yellow",
    "completed": "green", "failed": "red", "cancelled": "yellow",
}


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


def table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title=f"Import jobs ({len(rows)})", header_style="bold")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("id", "left"), ("user", "left"), ("file", "left"), ("status", "left"), ("progress", "right"),
        ("processed/total", "right"), ("rejected", "right"), ("attempts", "right"), ("worker", "right"),
        ("queue", "left"), ("created", "left"), ("duration", "right"))
    for name, justify in columns:
        t.add_column(name, justify=justify, overflow="fold")
    for r in rows:
        status = r["status"]
        t.add_row(
            str(r["id"])[:8],
            r["email"] or "",
            r["file_name"],
            f"[{STATUS_STYLE.get(status, '')}]{status}[/]",
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


def main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        rows = fetch(database_url(settings), status=args.status, user_id=args.user, limit=args.limit)
    except psycopg.Error as exc:
        print(f"error: cannot read the jobs: {exc}", file=sys.stderr)
        return 2
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # piped: do not fold the table into 80 columns
    if not rows:
        console.print("No import jobs" + (f" with status {args.status}" if args.status else "") + ".")
        return 0
    console.print(table(rows))
    return 0
