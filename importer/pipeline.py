"""Reads, plans and encodes a Source in a thread, handing chunks to the event loop.

The thread parses chunk k+1 while the loop waits on the server for chunk k, so parsing and
loading overlap instead of adding up. A bounded number of chunks is in flight, so memory stays
flat however large the file.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from uuid import UUID

import attrs

from importer.copy_rows import ItemEncoder
from importer.model import Activity, NewStructure, Rejection, Source
from importer.planning import Planner


@attrs.frozen(kw_only=True)
class Chunk:
    """The next slice of the file: parents to insert first, then items as COPY text."""

    new: NewStructure
    copy_data: bytes
    items: int
    activities: int
    rejected: int
    rows: int
    rejections: tuple[Rejection, ...]  # the ones still to store (under the per-job cap)
    last_year: int | None


class _Stop(Exception):
    pass


class ChunkPipeline:
    """`async for chunk in pipeline` yields the chunks; `close()` stops the thread early."""

    def __init__(self, source: Source, planner: Planner, *, wheel_id: UUID, job_id: UUID | None,
                 chunk_rows: int = 5000, in_flight: int = 3, max_rejections: int = 10_000):
        self.source = source
        self.planner = planner
        self.encoder = ItemEncoder(wheel_id, job_id)
        self.chunk_rows = chunk_rows
        self.max_rejections = max_rejections
        self._slots = threading.Semaphore(in_flight)
        self._stop = threading.Event()
        self._queue: asyncio.Queue = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- the thread -----------------------------------------------------------------------

    def _put(self, item: object) -> None:
        while not self._slots.acquire(timeout=0.1):
            if self._stop.is_set():
                raise _Stop
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is gone: nobody waits for us any more
            raise _Stop from None

    def _run(self) -> None:
        place = self.planner.place
        encode = self.encoder.encode
        stored = emitted = 0
        try:
            items: list = []
            rejections: list[Rejection] = []
            activities = rejected = rows = 0
            last_year = None
            for row in self.source:
                rows += 1
                if type(row) is Activity:
                    activities += 1
                    items.extend(place(row))
                    last_year = row.start.year
                elif isinstance(row, Rejection):
                    rejected += 1
                    if stored < self.max_rejections:
                        stored += 1
                        rejections.append(row)
                else:
                    activities += 1
                    items.extend(place(row))
                if rows >= self.chunk_rows:
                    if self._stop.is_set():
                        raise _Stop
                    self._put(self._chunk(items, encode, activities, rejected, rows,
                                          rejections, last_year))
                    emitted += 1
                    items, rejections = [], []
                    activities = rejected = rows = 0
            if rows or not emitted:
                self._put(self._chunk(items, encode, activities, rejected, rows, rejections, last_year))
            self._put(None)
        except _Stop:
            return
        except BaseException as exc:  # handed to the loop, raised there
            try:
                self._put(exc)
            except _Stop:
                return

    def _chunk(self, items, encode, activities, rejected, rows, rejections, last_year) -> Chunk:
        return Chunk(
            new=self.planner.take_new(), copy_data=encode(items).encode("utf-8"), items=len(items),
            activities=activities, rejected=rejected, rows=rows, rejections=tuple(rejections),
            last_year=last_year,
        )

    # -- the loop -------------------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="import-reader", daemon=True)
        self._thread.start()

    async def __aiter__(self) -> AsyncIterator[Chunk]:
        if self._thread is None:
            self.start()
        while True:
            item = await self._queue.get()
            self._slots.release()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    async def close(self) -> None:
        """Stop the thread (it notices within 0.1 s) and wait for it to end."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            await asyncio.to_thread(thread.join, 5)
