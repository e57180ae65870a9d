"""Following one job's SSE stream to its end: a live `rich` bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

import aiohttp
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TaskProgressColumn, TextColumn
from rich.text import Text

from importer.cli import EXIT_CANCELLED, EXIT_COMPLETED, EXIT_FAILED, terminal
from importer.cli.api import Endpoint
from importer.cli.sse import events
from importer.model import TERMINAL, JobStatus

EXIT_CODES = {JobStatus.COMPLETED: EXIT_COMPLETED, JobStatus.FAILED: EXIT_FAILED,
              JobStatus.CANCELLED: EXIT_CANCELLED}


def eta_text(seconds: int | None) -> str:
    """The original product's wording of the time left."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "Mindre än 1 minut kvar..."
    minutes = round(seconds / 60)
    return "Cirka 1 minut kvar..." if minutes <= 1 else f"Cirka {minutes} minuter kvar..."


def counts_text(job: dict[str, Any]) -> str:
    """"✓ 3 ringar ✓ 39 grupper ✓ 1234/1929 aktiviteter": a check mark only on what is there."""
    c = job.get("counts") or {}
    parts = [f"{c[key]} {word}" for key, word in
             (("rings", "ringar"), ("groups", "grupper"), ("labels", "etiketter"), ("pages", "sidor"))
             if c.get(key)]
    if job.get("status") == "completed":
        done = c.get("items", 0)
        items = f"{done} aktiviteter"
    else:
        done = job.get("processed_items", 0)
        items = f"{done}/{job.get('total_items', 0)} aktiviteter"
    return " ".join([*(f"✓ {p}" for p in parts), f"✓ {items}" if done else items])


def rows_sum_text(job: dict[str, Any]) -> str | None:
    """How the file's rows became the wheel's items, as a sum that holds; None if it would not.

    Every row is an activity or rejected; an activity across a year end becomes one item per
    year; an item the wheel already had is skipped: rows = items + skipped − extra pieces + rejected.
    """
    c = job.get("counts") or {}
    rows, items = job.get("processed_items", 0), c.get("items", 0)
    skipped, rejected = c.get("skipped_duplicates", 0), job.get("rejected_rows", 0)
    pieces = items + skipped + rejected - rows
    if pieces < 0:
        return None
    text = f"Rows: {rows} = {items} items saved"
    if skipped:
        text += f" + {skipped} duplicates skipped"
    if pieces:
        text += f" − {pieces} extra pieces of activities across a year end"
    return text + f" + {rejected} rejected"


class ItemsColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        total = task.fields.get("total_items") or 0
        if not total:
            return Text("")
        return Text(f"{task.fields.get('processed_items', 0)}/{total} rader", style="progress.download")


class EtaColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        if task.fields.get("status") != "processing":
            return Text("")
        return Text(eta_text(task.fields.get("eta_seconds")), style="progress.remaining")


class Display:
    """Shows each state of the job; a live bar when `out` is a terminal, else one line per change."""

    def __init__(self, out: TextIO | None = None):
        self.out = out or sys.stdout
        self.console = Console(file=self.out)
        self.live = self.console.is_terminal
        self.progress: Progress | None = None
        self.task_id: TaskID | None = None
        self.last_line = ""

    def __enter__(self) -> Display:
        if self.live:
            self.progress = Progress(
                # The step is the server's text, which may quote the user's (a sheet name): no markup.
                TextColumn("{task.description}", style="bold", markup=False),
                BarColumn(),
                TaskProgressColumn(),
                ItemsColumn(),
                EtaColumn(),
                console=self.console,
                transient=False,
            )
            self.progress.start()
            self.task_id = self.progress.add_task("Väntar...", total=100, eta_seconds=None, status=None,
                                                  processed_items=0, total_items=0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def show(self, job: dict[str, Any]) -> None:
        step = terminal.clean(job.get("current_step") or job.get("step") or "")
        if self.progress is not None and self.task_id is not None:
            self.progress.update(self.task_id, completed=job.get("progress", 0), description=step,
                                 eta_seconds=job.get("eta_seconds"), status=job.get("status"),
                                 processed_items=job.get("processed_items", 0),
                                 total_items=job.get("total_items", 0))
            return
        line = f"[{job.get('progress', 0):3d}%] {terminal.clean(job.get('status'))}: {step}"
        if job.get("total_items"):
            line += f" ({job.get('processed_items', 0)}/{job['total_items']} rader)"
        eta = eta_text(job.get("eta_seconds")) if job.get("status") == "processing" else ""
        if eta:
            line += f" – {eta}"
        if line != self.last_line:
            print(line, file=self.out, flush=True)
            self.last_line = line


def print_errors_hint(job: dict[str, Any], endpoint: Endpoint, out: TextIO) -> None:
    """Where errors.csv is, and a curl command that fetches it as it stands: the server's own
    URL and a token that is this user's (not whatever $IMPORTER_TOKEN holds in another shell)."""
    url = endpoint.absolute(job["links"]["errors"])
    print(f"errors.csv: {url}", file=out)
    print(f'  curl -fsS -H "Authorization: Bearer {endpoint.token_for_shell}" -o errors.csv {url}', file=out)


def print_outcome(job: dict[str, Any], endpoint: Endpoint, out: TextIO | None = None) -> int:
    """The summary of a finished job; returns the exit code its status calls for."""
    out = out or sys.stdout
    status: str = job.get("status", "")
    if status == "completed":
        print("Import klar!", counts_text(job), file=out)
        summed = rows_sum_text(job)
        if summed:
            print(summed, file=out)
        rejected = job.get("rejected_rows", 0)
        print(f"Rejected rows: {rejected}", file=out)
        if rejected:
            print_errors_hint(job, endpoint, out)
    elif status == "failed":
        error = job.get("error") or {}
        print(terminal.clean(f"Import misslyckades: {error.get('code', 'unknown')}: {error.get('message', '')}"),
              file=out)
        if job.get("rejected_rows"):
            print_errors_hint(job, endpoint, out)
    elif status == "cancelled":
        print("Import avbruten (cancelled).", file=out)
    out.flush()
    return EXIT_CODES[JobStatus(status)]


async def follow(session: aiohttp.ClientSession, endpoint: Endpoint, job: dict[str, Any],
                 out: TextIO | None = None) -> int:
    """Show the job until it ends; returns the exit code of its final status."""
    final = job if job.get("status") in TERMINAL else None
    if final is None:
        url = endpoint.absolute(job.get("links", {}).get("events") or f"/api/imports/{job['id']}/events")
        with Display(out) as display:
            display.show(job)
            async for event in events(session, url, headers=endpoint.headers):
                if not event.data:
                    continue
                state = json.loads(event.data)
                display.show(state)
                if event.event in TERMINAL or state.get("status") in TERMINAL:
                    final = state
                    break
    assert final is not None
    return print_outcome(final, endpoint, out)
