"""A workbook upload read once in a child process with memory and time limits: the API's check
before any job exists, so that no upload can abort or swell the server process.

Why a child process: calamine builds a sheet as a dense range (rows x columns) before Python
sees a cell, and a workbook of a few KB can place two cells 10^10 cells apart; the allocation
then fails inside Rust, which aborts the whole process (no exception to catch). The ZIP checks
of spreadsheet_kinds catch the inflating kind of bomb cheaply, in-process, first; this catches
the rest, whatever the format (xlsx, xls, ods) and whatever calamine's next bug is. A workbook
the child reads within the limits reads the same way in the worker (same bytes, same sheet,
same calamine), so the worker never meets one that would abort it.

Not pure, unlike the rest of importer/read: it starts a process (importer/child_processes.py,
the fork server of the import readers too), so the calling thread waits without holding the GIL.
"""

from __future__ import annotations

import os
import resource
import threading
from typing import Any

import attrs

from importer.child_processes import process_context
from importer.errors import BadRequest, ImporterError, UnreadableFile
from importer.read import spreadsheet_kinds as kinds

#: The child's address space: calamine's ranges for spreadsheet.MAX_CELLS cells (~600 MB), the
#: upload twice, and the interpreter.
MEMORY_BYTES = 1536 << 20
#: CPU seconds for one workbook: a 50 MB xlsx is read in about 10.
SECONDS = 60

#: Checks one process runs at once: each child may take MEMORY_BYTES, so uploads arriving
#: together wait for a slot rather than add up.
CONCURRENT = 2

_ERRORS: dict[str, type[ImporterError]] = {"BadRequest": BadRequest, "UnreadableFile": UnreadableFile}
_SLOTS = threading.BoundedSemaphore(CONCURRENT)


@attrs.frozen(kw_only=True)
class Sniffed:
    """What the check learnt: the sheet that will be read and its rows of data."""

    sheet: str
    rows: int


def sniff_workbook(content: bytes | bytearray, *, media_type: str, mapping: dict[str, Any] | None,
                   sheet: str | None, memory_bytes: int = MEMORY_BYTES, seconds: int = SECONDS) -> Sniffed:
    """Open the workbook as the worker will (spreadsheet.open_spreadsheet), and every other
    sheet of it too (any may be named later), in a child process and raise what it raises:
    UnreadableFile (workbook_encrypted, workbook_damaged, workbook_too_large, empty_file,
    no_header, no_usable_column, no_data_rows) or BadRequest (bad_sheet, bad_mapping). A child
    that dies or runs out of time is `workbook_too_large`. Blocks: call it from a thread."""
    kinds.check_package(content, media_type)  # the cheap refusals need no process
    with _SLOTS:
        return _sniff_in_child(content, media_type, mapping, sheet, memory_bytes, seconds)


def _sniff_in_child(content: bytes | bytearray, media_type: str, mapping: dict[str, Any] | None,
                    sheet: str | None, memory_bytes: int, seconds: int) -> Sniffed:
    context = process_context()
    ours, theirs = context.Pipe(duplex=True)
    process = context.Process(target=_child, args=(theirs, media_type, mapping, sheet, memory_bytes, seconds),
                              name="workbook-sniff", daemon=True)
    message: tuple[Any, ...] | None = None
    try:
        process.start()
        theirs.close()
        # The bytes go over the pipe from their buffer: no pickled copy of a 100 MB upload.
        ours.send_bytes(content)
        if ours.poll(seconds + 5):
            message = ours.recv()
    except (EOFError, OSError):
        message = None  # the child died: out of memory (Rust aborts) or out of CPU time
    finally:
        ours.close()
        theirs.close()
        if process.pid is not None:
            if process.is_alive():
                process.kill()
            process.join(5)
    if message is None:
        raise kinds.too_large("file.workbook_limits", megabytes=memory_bytes >> 20, seconds=seconds)
    if message[0] == "ok":
        return Sniffed(sheet=message[1], rows=message[2])
    _, kind, text, code, details = message
    raise _ERRORS.get(kind, UnreadableFile)(text, code=code, details=details)


def _child(conn: Any, media_type: str, mapping: dict[str, Any] | None, sheet: str | None,
           memory_bytes: int, seconds: int) -> None:
    # Rust reports a failed allocation on stderr before it aborts: not for the server's log.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    from importer.read.spreadsheet import open_spreadsheet

    try:
        content = conn.recv_bytes()
        source = open_spreadsheet(content, media_type=media_type, file_name="", mapping=mapping, sheet=sheet,
                                  every_sheet=True)
        conn.send(("ok", source.sheet_name, source.total_rows))
    except ImporterError as exc:
        kind = "BadRequest" if isinstance(exc, BadRequest) else "UnreadableFile"
        conn.send(("error", kind, exc.message, exc.code, exc.details))
    except (MemoryError, EOFError):
        pass  # said by the parent: the child ends without an answer
    finally:
        conn.close()
