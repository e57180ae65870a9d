"""Readers: a file read, planned and encoded off the event loop, chunks handed to the loader.

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
import contextvars
import functools
import multiprocessing
import threading
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from importer.child_processes import process_context
from importer.errors import ImporterError, InvalidInput
from importer.load.produce import Chunk, Plan, produce
from importer.messages import DEFAULT_LANGUAGE, current_language, set_language
from importer.model import Declared, JobWarning, Source
from importer.read.findings import source_warnings
from importer.read.sources import open_source


def headers_of(source: Source) -> tuple[str, ...]:
    """The file's own column headers (a table's; the JSON form's item fields), for errors.csv."""
    columns = getattr(source, "columns", None)
    headers = getattr(columns, "headers", None)
    return tuple(headers) if headers is not None else tuple(getattr(source, "headers", ()))


class Stopped(Exception):
    """The loader stopped reading (closed the reader): the producer ends quietly."""


# -- in a thread ------------------------------------------------------------------------------

class ThreadReader:
    """Reads a Source object in a thread. `async for chunk in reader` after `start(plan)`."""

    def __init__(self, source: Source, *, in_flight: int = 3):
        self.source = source
        self.total_rows = source.total_rows
        self.declared: Declared = source.declared
        self.warnings: tuple[JobWarning, ...] = tuple(source_warnings(source))
        self.headers = headers_of(source)
        self._slots = threading.Semaphore(in_flight)
        self._stop = threading.Event()
        self._queue: asyncio.Queue[Chunk | BaseException | None] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pooled: asyncio.Future[None] | None = None

    async def open(self) -> None:
        """Nothing to do: the source was opened by whoever made it."""

    def _put(self, item: Chunk | BaseException | None) -> None:
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
        # The producer runs in a copy of the attempt's context: its current language (the job's,
        # importer.messages) renders the rejection reasons.
        run = functools.partial(contextvars.copy_context().run, self._run, plan)
        if 0 < self.total_rows <= plan.chunk_rows:
            # A file of one chunk is read in a moment: on the loop's thread pool. Starting a
            # thread of its own blocks the event loop until the new thread runs, which on a busy
            # machine took milliseconds per small import (bench/small_imports.py).
            self._pooled = self._loop.run_in_executor(None, run)
            return
        self._thread = threading.Thread(target=run, name="import-reader", daemon=True)
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
        if self._pooled is not None:
            await asyncio.wait([self._pooled], timeout=5)
        thread = self._thread
        if thread is not None and thread.is_alive():
            await asyncio.to_thread(thread.join, 5)


# -- in a child process -------------------------------------------------------------------------

def _error_message(exc: BaseException) -> tuple[str, str, str, dict[str, Any]]:
    """What crosses the pipe for an error: a kind, a code, a message and details; never a
    class name. Input the user can fix is `invalid`; anything else is `internal`."""
    if isinstance(exc, InvalidInput):  # in the job's language (the child sets it)
        return ("invalid", exc.code, exc.message_in(current_language()), exc.details)
    if isinstance(exc, ImporterError):
        return ("internal", exc.code, exc.message, exc.details)
    return ("internal", "internal_error", f"{type(exc).__name__}: {exc}", {})


def _rebuild_error(kind: str, code: str, message: str, details: dict[str, Any]) -> BaseException:
    if kind == "invalid":
        return InvalidInput(message, code=code, details=details)
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
            if row is None:
                raise RuntimeError(f"import file {file_id} is gone")
            parts.append(row[0])
    return b"".join(parts)


def _child_main(conn: Any, conninfo: str, file_id: UUID, size: int, media_type: str,
                file_name: str, mapping: Any, default_year: int | None, sheet: str | None,
                date_order: str | None, language: str = DEFAULT_LANGUAGE) -> None:
    """In the child: fetch and open the file, report its size, wait for the plan, stream; its
    texts (rejection reasons, errors) in the job's `language`."""
    set_language(language)
    try:
        content = read_stored_file(conninfo, file_id, size)
        source = open_source(media_type, content, file_name, mapping, default_year=default_year,
                             sheet=sheet, date_order=date_order)
        del content  # the source keeps what it needs
        conn.send(("opened", source.total_rows, source.declared, tuple(source_warnings(source)),
                   headers_of(source)))
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


class ProcessReader:
    """Reads a stored file in a child process; same interface as ThreadReader.

    The child fetches the bytes itself, so the worker process never holds a large file. A pipe
    carries the chunks; a thread on our side receives them (it waits in recv without
    the GIL) into the loop's queue, at most `in_flight` ahead of the loader.
    """

    def __init__(self, conninfo: str, file_id: UUID, size: int, media_type: str, file_name: str,
                 mapping: Any, *, default_year: int | None = None, sheet: str | None = None,
                 date_order: str | None = None, in_flight: int = 3, language: str = DEFAULT_LANGUAGE):
        self._args: tuple[Any, ...] = (conninfo, file_id, size, media_type, file_name, mapping,
                                       default_year, sheet, date_order, language)
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Any = None
        self._queue: asyncio.Queue[Chunk | BaseException | None] = asyncio.Queue()
        self._slots = threading.Semaphore(in_flight)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.total_rows = 0
        self.declared = Declared()
        self.warnings: tuple[JobWarning, ...] = ()
        self.headers: tuple[str, ...] = ()

    async def open(self) -> None:
        """Start the child and wait until it has read the file once (or refused it)."""
        ours, theirs = process_context().Pipe(duplex=True)
        self._conn = ours
        process = process_context().Process(target=_child_main, args=(theirs, *self._args),
                                     name="import-reader", daemon=True)
        self._process = process
        await asyncio.to_thread(process.start)
        theirs.close()
        self._args = ()
        message = await asyncio.to_thread(self._recv)
        if message[0] == "error":
            raise _rebuild_error(*message[1:])
        _, self.total_rows, self.declared, self.warnings, self.headers = message

    def _recv(self) -> tuple[Any, ...]:
        try:
            message: tuple[Any, ...] = self._conn.recv()
            return message
        except (EOFError, OSError):
            return ("error", "internal", "internal_error",
                    "the import reader process ended unexpectedly", {})

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        while not self._stop.is_set():
            message = self._recv()
            if message[0] == "chunk":
                while not self._slots.acquire(timeout=0.1):
                    if self._stop.is_set():
                        return
                item: Chunk | BaseException | None = message[1]
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
        if process is not None and started and process.is_alive():
            process.kill()
        if self._conn is not None:
            self._conn.close()
        if process is not None and started:
            await asyncio.to_thread(process.join, 5)
        if self._thread is not None and self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, 5)
