"""Reads, plans and encodes a file off the event loop, handing chunks to the loader.

The reader works on chunk k+1 while the loop waits on the server for chunk k, so parsing and
loading overlap instead of adding up. A bounded number of chunks is in flight, so memory stays
flat however large the file.

Two readers: a thread (small files, and sources handed over as objects, as the tests do) and
a child process (large files). In a thread, the parser holds the GIL for up to the switch
interval every time the loop wakes to feed the COPY, which starves the server; a process has
its own interpreter, and the loop only moves finished bytes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID

import attrs

from importer import errors
from importer.load.copy_rows import ItemEncoder
from importer.model import Activity, Declared, Existing, NewStructure, Rejection, Source
from importer.read.planning import Planner

# Files at least this large are read in a child process; below it the process start costs
# more than the GIL does (a 1,929-row file is ~150 kB).
PROCESS_MIN_BYTES = 2_000_000


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


@attrs.frozen(kw_only=True)
class Plan:
    """What the producer needs besides the source: where the rows go and how to cut them."""

    existing: Existing
    wheel_id: UUID
    job_id: UUID | None
    chunk_rows: int = 5000
    max_rejections: int = 10_000


class Stopped(Exception):
    pass


def produce(source: Source, plan: Plan, put: Callable[[Chunk], None]) -> None:
    """Turn every row of `source` into chunks, in file order, handing each to `put`."""
    planner = Planner(plan.existing, source.declared)
    place = planner.place
    encode = ItemEncoder(plan.wheel_id, plan.job_id).encode
    stored = emitted = 0
    items: list = []
    rejections: list[Rejection] = []
    activities = rejected = rows = 0

    def chunk() -> Chunk:
        return Chunk(new=planner.take_new(), copy_data=encode(items).encode("utf-8"),
                     items=len(items), activities=activities, rejected=rejected, rows=rows,
                     rejections=tuple(rejections))

    for row in source:
        rows += 1
        if type(row) is Activity:
            activities += 1
            items.extend(place(row))
        else:
            rejected += 1
            if stored < plan.max_rejections:
                stored += 1
                rejections.append(row)
        if rows >= plan.chunk_rows:
            put(chunk())
            emitted += 1
            items, rejections = [], []
            activities = rejected = rows = 0
    if rows or not emitted:
        put(chunk())


# -- in a thread ------------------------------------------------------------------------------

class ThreadReader:
    """Reads a Source object in a thread. `async for chunk in reader` after `start(plan)`."""

    def __init__(self, source: Source, *, in_flight: int = 3):
        self.source = source
        self.total_rows = source.total_rows
        self.declared: Declared = source.declared
        self._slots = threading.Semaphore(in_flight)
        self._stop = threading.Event()
        self._queue: asyncio.Queue = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    async def open(self) -> None:
        """Nothing to do: the source was opened by whoever made it."""

    def _put(self, item: object) -> None:
        while not self._slots.acquire(timeout=0.1):
            if self._stop.is_set():
                raise Stopped
        if self._stop.is_set():
            raise Stopped
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is gone: nobody waits for us any more
            raise Stopped from None

    def _run(self, plan: Plan) -> None:
        try:
            produce(self.source, plan, self._put)
            self._put(None)
        except Stopped:
            return
        except BaseException as exc:  # handed to the loop, raised there
            try:
                self._put(exc)
            except Stopped:
                return

    def start(self, plan: Plan) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, args=(plan,), name="import-reader",
                                        daemon=True)
        self._thread.start()

    async def __aiter__(self) -> AsyncIterator[Chunk]:
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


# -- in a child process -------------------------------------------------------------------------

def _error_message(exc: BaseException) -> tuple[str, str, str, dict]:
    if isinstance(exc, errors.ImporterError):
        return (type(exc).__name__, exc.message, exc.code, exc.details)
    return ("Exception", f"{type(exc).__name__}: {exc}", "internal_error", {})


def _rebuild_error(name: str, message: str, code: str, details: dict) -> BaseException:
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, errors.ImporterError) and cls is not errors.TooManyActiveJobs:
        return cls(message, code=code, details=details)
    return RuntimeError(f"import reader process failed: {message}")


SLICE_BYTES = 8 << 20


def read_stored_file(conninfo: str, file_id: UUID, size: int, *, slice_bytes: int = SLICE_BYTES) -> bytes:
    """The stored upload, fetched by the reader itself in slices (never sent through a pipe)."""
    import psycopg

    from importer.queries import q

    parts = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for start in range(0, size, slice_bytes):
            row = conn.execute(q("import_file_slice"), {
                "file_id": file_id, "start": start + 1, "length": slice_bytes}, binary=True).fetchone()
            parts.append(row[0])
    return b"".join(parts)


def _child_main(conn: Any, conninfo: str, file_id: UUID, size: int, media_type: str,
                file_name: str, mapping: Any, default_year: int | None) -> None:
    """In the child: fetch and open the file, report its size, wait for the plan, stream."""
    from importer.load.attempt import open_source_now

    try:
        content = read_stored_file(conninfo, file_id, size)
        source = open_source_now(media_type, content, file_name, mapping, default_year=default_year)
        del content  # the source keeps what it needs
        conn.send(("opened", source.total_rows, source.declared))
        message = conn.recv()
        if message is None:
            return
        produce(source, message, lambda chunk: conn.send(("chunk", chunk)))
        conn.send(("end",))
    except (BrokenPipeError, EOFError, ConnectionResetError):
        return  # the loader went away (cancel, crash): nothing to report to
    except BaseException as exc:
        try:
            conn.send(("error", *_error_message(exc)))
        except (BrokenPipeError, EOFError, ConnectionResetError):
            return


_CONTEXT: multiprocessing.context.BaseContext | None = None


def _context() -> multiprocessing.context.BaseContext:
    # forkserver: a clean, pre-imported interpreter forks each reader in milliseconds, and
    # never inherits the worker's threads, sockets or event loop as a plain fork would.
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["importer.load.attempt", "importer.read.csv_source", "importer.read.structured"])
        _CONTEXT = ctx
    return _CONTEXT


def prewarm() -> None:
    """Start the fork server now (about half a second of imports), not at the first large file."""
    from multiprocessing import forkserver

    _context()
    forkserver.ensure_running()


class ProcessReader:
    """Reads a stored file in a child process; same interface as ThreadReader.

    The child fetches the bytes itself, so the worker process never holds a large file. A pipe
    carries the chunks; a thread on our side receives them (it waits in recv without
    the GIL) into the loop's queue, at most `in_flight` ahead of the loader.
    """

    def __init__(self, conninfo: str, file_id: UUID, size: int, media_type: str, file_name: str,
                 mapping: Any, *, default_year: int | None = None, in_flight: int = 3):
        self._args = (conninfo, file_id, size, media_type, file_name, mapping, default_year)
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Any = None
        self._queue: asyncio.Queue = asyncio.Queue()
        self._slots = threading.Semaphore(in_flight)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.total_rows = 0
        self.declared = Declared()

    async def open(self) -> None:
        """Start the child and wait until it has read the file once (or refused it)."""
        ours, theirs = _context().Pipe(duplex=True)
        self._conn = ours
        self._process = _context().Process(target=_child_main, args=(theirs, *self._args),
                                           name="import-reader", daemon=True)
        await asyncio.to_thread(self._process.start)
        theirs.close()
        self._args = ()
        message = await asyncio.to_thread(self._recv)
        if message[0] == "error":
            raise _rebuild_error(*message[1:])
        _, self.total_rows, self.declared = message

    def _recv(self) -> tuple:
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            return ("error", "Exception", "the import reader process ended unexpectedly",
                    "internal_error", {})

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        while not self._stop.is_set():
            message = self._recv()
            if message[0] == "chunk":
                while not self._slots.acquire(timeout=0.1):
                    if self._stop.is_set():
                        return
                item: object = message[1]
            elif message[0] == "end":
                item = None
            else:
                item = _rebuild_error(*message[1:])
            try:
                loop.call_soon_threadsafe(self._queue.put_nowait, item)
            except RuntimeError:
                return
            if item is None or isinstance(item, BaseException):
                return

    def start(self, plan: Plan) -> None:
        self._conn.send(plan)
        self._thread = threading.Thread(target=self._pump, args=(asyncio.get_running_loop(),),
                                        name="import-reader-pipe", daemon=True)
        self._thread.start()

    async def __aiter__(self) -> AsyncIterator[Chunk]:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            self._slots.release()
            yield item

    async def close(self) -> None:
        """End the child (killed if it still reads) and the pipe thread."""
        self._stop.set()
        process = self._process
        started = process is not None and process.pid is not None
        if started and process.is_alive():
            process.kill()
        if self._conn is not None:
            self._conn.close()
        if started:
            await asyncio.to_thread(process.join, 5)
        if self._thread is not None and self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, 5)
