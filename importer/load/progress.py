"""Progress of one import attempt, written on its own autocommit connection, throttled."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from uuid import UUID

from importer.errors import ImportCancelled, Superseded
from importer.jobs.lifecycle import FileNotes, ProgressReport
from importer.messages import render
from importer.model import JobStatus

log = logging.getLogger(__name__)

# Percent bands of one attempt: reading the file, then the rows, then the last statements.
READ_DONE = 5
ROWS_DONE = 95
FINISHING = 97


#: Writes one report; returns the job's status, None when the attempt no longer owns the row
#: (importer.jobs.lifecycle.write_progress on the progress connection).
WriteReport = Callable[[ProgressReport], Awaitable[JobStatus | None]]
#: Reads the committed status the same way (importer.jobs.lifecycle.status_of).
ReadStatus = Callable[[], Awaitable[JobStatus | None]]


class Progress:
    """Writes step, counts, percent and ETA of an attempt at most every `min_interval` seconds.

    The row update returns the job's status, so a cancel requested by the API (`cancelling`)
    is noticed within about `cancel_check_interval` seconds and raised as ImportCancelled.
    Writes are awaited in line (never in the background): the data transaction's final update
    of the same row must not wait on a progress write that waits on it.
    """

    def __init__(self, write: WriteReport, read_status: ReadStatus, job_id: UUID, attempt: int, *,
                 min_interval: float = 0.1, cancel_check_interval: float = 0.2,
                 clock: Callable[[], float] = time.monotonic):
        self._write_report = write
        self._read_status = read_status
        self.job_id = job_id
        self.attempt = attempt
        self.min_interval = min_interval
        self.cancel_check_interval = cancel_check_interval
        self.clock = clock
        self.total = 0
        self.processed = 0
        self.rejected = 0
        self.writes = 0
        # What the data transaction has created so far (uncommitted), shown while items load.
        self.counts = dict.fromkeys(("rings", "groups", "labels", "pages", "items"), 0)
        self._percent = 0
        self._step = "parsing"
        self._text = "Läser fil..."
        self._last_write = -math.inf
        self._last_check = clock()
        self._rate: float | None = None
        self._rate_mark: tuple[float, int] | None = None

    # -- what callers report -------------------------------------------------------------

    async def step(self, step: str, text: str, percent: int | None = None, *,
                   file: FileNotes | None = None) -> None:
        """A new phase: always written (a handful per import); `file`, the file's notes, go with it."""
        self._step, self._text = step, text
        if percent is not None:
            self._percent = max(self._percent, percent)
        await self._write(file)

    async def rows(self, processed: int, rejected: int, *, step: str = "items",
                   text: str | None = None) -> None:
        """Rows read so far: written when the last write is old enough, else maybe a cancel check."""
        self.processed, self.rejected = processed, rejected
        self._step = step
        self._text = text or render("job.item_progress", processed=processed, total=self.total)
        if self.total:
            band = ROWS_DONE - READ_DONE
            self._percent = max(self._percent, READ_DONE + band * min(processed, self.total) // self.total)
        now = self.clock()
        self._measure(now)
        if now - self._last_write >= self.min_interval:
            await self._write()
        elif now - self._last_check >= self.cancel_check_interval:
            await self.check_cancel()

    async def check_cancel(self) -> None:
        """Raise ImportCancelled if a cancel was asked, Superseded if another attempt owns the job."""
        status = await self._read_status()
        self._last_check = self.clock()
        self._judge(status)

    # -- inside ---------------------------------------------------------------------------

    def _measure(self, now: float) -> None:
        # Rows per second, smoothed, from the rows done between two measurements at least
        # half a second apart (shorter spans are mostly noise of chunk boundaries).
        if self._rate_mark is None:
            self._rate_mark = (now, self.processed)
            return
        then, done_then = self._rate_mark
        if now - then < 0.5 or self.processed <= done_then:
            return
        rate = (self.processed - done_then) / (now - then)
        self._rate = rate if self._rate is None else 0.3 * rate + 0.7 * self._rate
        self._rate_mark = (now, self.processed)

    def eta_seconds(self) -> int | None:
        if self._step in ("done",):
            return 0
        if not self._rate or not self.total:
            return None
        left = max(self.total - self.processed, 0)
        return math.ceil(left / self._rate)

    async def _write(self, file: FileNotes | None = None) -> None:
        status = await self._write_report(ProgressReport(
            step=self._step, text=self._text[:200], percent=self._percent, processed=self.processed,
            total=self.total, rejected=self.rejected, eta_seconds=self.eta_seconds(),
            counts=dict(self.counts), file=file))
        now = self.clock()
        self._last_write = self._last_check = now
        self.writes += 1
        self._judge(status)

    def _judge(self, status: JobStatus | None) -> None:
        if status not in (JobStatus.PROCESSING, JobStatus.CANCELLING):
            raise Superseded(f"job {self.job_id} is no longer run by attempt {self.attempt}")
        if status == JobStatus.CANCELLING:
            raise ImportCancelled("Importen avbröts")
