"""Progress of one import attempt, written on its own autocommit connection, throttled."""

from __future__ import annotations

import logging
import math
import time
from uuid import UUID

import psycopg

from importer.errors import ImportCancelled
from importer.queries import q

log = logging.getLogger(__name__)

# Percent bands of one attempt: reading the file, then the rows, then the last statements.
READ_DONE = 5
ROWS_DONE = 95
FINISHING = 97


class Superseded(Exception):
    """Another attempt of the same job owns the row now (this run was presumed dead)."""


class Progress:
    """Writes step, counts, percent and ETA of an attempt at most every `min_interval` seconds.

    The row update returns the job's status, so a cancel requested by the API (`cancelling`)
    is noticed within about `cancel_check_interval` seconds and raised as ImportCancelled.
    Writes are awaited in line (never in the background): the data transaction's final update
    of the same row must not wait on a progress write that waits on it.
    """

    def __init__(self, conn: psycopg.AsyncConnection, job_id: UUID, attempt: int, *,
                 min_interval: float = 0.1, cancel_check_interval: float = 0.2,
                 clock=time.monotonic):
        self.conn = conn
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

    async def step(self, step: str, text: str, percent: int | None = None) -> None:
        """A new phase: always written (a handful per import)."""
        self._step, self._text = step, text
        if percent is not None:
            self._percent = max(self._percent, percent)
        await self._write()

    async def rows(self, processed: int, rejected: int, *, step: str = "items",
                   text: str | None = None) -> None:
        """Rows read so far: written when the last write is old enough, else maybe a cancel check."""
        self.processed, self.rejected = processed, rejected
        self._step = step
        self._text = text or f"Aktivitet {processed}/{self.total}"
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
        row = await (await self.conn.execute(q("job_status_get"), {"job_id": self.job_id})).fetchone()
        self._last_check = self.clock()
        self._judge(row["status"] if row and row["attempts"] == self.attempt else None)

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

    async def _write(self) -> None:
        row = await (await self.conn.execute(q("job_progress_set"), {
            "job_id": self.job_id, "attempt": self.attempt, "step": self._step,
            "text": self._text[:200], "progress": self._percent, "processed": self.processed,
            "total": self.total, "rejected": self.rejected, "eta": self.eta_seconds(),
            **self.counts,
        })).fetchone()
        now = self.clock()
        self._last_write = self._last_check = now
        self.writes += 1
        self._judge(row["status"] if row else None)

    def _judge(self, status: str | None) -> None:
        if status not in ("processing", "cancelling"):
            raise Superseded(f"job {self.job_id} is no longer run by attempt {self.attempt}")
        if status == "cancelling":
            raise ImportCancelled("Importen avbröts")
