"""The structured JSON body of an import checked in a child process, off the API's event loop.

Why a child process and not a thread: `json.loads` is C code that never gives up the GIL, so in
a thread it still stops the event loop for the whole parse (3.6 s for a 94 MB body), and the
objects it builds take several times the body's size. In a child the server's loop keeps
serving and its memory holds none of it: the body goes over a pipe a chunk at a time. The worker
parses the stored payload again when it imports (importer/read/structured.py).

Not pure, unlike the rest of importer/read: it starts a process (the service's fork server,
importer/load/readers.py), so the calling thread waits without holding the GIL.
"""

from __future__ import annotations

import resource
import threading
from collections.abc import Iterable
from typing import Any

from importer.child_processes import process_context
from importer.errors import BadRequest, ImporterError, UnreadableFile

#: The child's address space: the objects of a 100 MB payload with room to spare. A body whose
#: objects need more is refused (`payload_too_large` 422), as is one that takes over SECONDS.
MEMORY_BYTES = 3 << 30
SECONDS = 60
#: Checks one process runs at once: each child may take MEMORY_BYTES.
CONCURRENT = 2

_SLOTS = threading.BoundedSemaphore(CONCURRENT)
_ERRORS: dict[str, type[ImporterError]] = {"BadRequest": BadRequest, "UnreadableFile": UnreadableFile}


def check_payload(chunks: Iterable[bytes], *, memory_bytes: int = MEMORY_BYTES,
                  seconds: int = SECONDS) -> tuple[str, str]:
    """`(mode, file_name)` of a structured payload given in `chunks`, parsed and checked as
    structured.parse_payload does, in a child process. Raises what that raises, with its
    catalogue key (so the message follows the request's language): BadRequest `bad_payload`
    (not JSON, nested too deep, a bad structure) or UnreadableFile `no_data_rows`; a child that
    dies or runs out of time is UnreadableFile `payload_too_large`. Blocks: call it from a thread."""
    with _SLOTS:
        message = _in_child(chunks, memory_bytes, seconds)
    if message is None:
        raise UnreadableFile.of("payload.too_large", params={"megabytes": memory_bytes >> 20, "seconds": seconds},
                                code="payload_too_large")
    if message[0] == "ok":
        return message[1], message[2]
    _, kind, key, params, message_text, code, details = message
    error = _ERRORS.get(kind, UnreadableFile)(message_text, code=code, details=details, key=key, params=params)
    raise error


def _in_child(chunks: Iterable[bytes], memory_bytes: int, seconds: int) -> tuple[Any, ...] | None:
    context = process_context()
    ours, theirs = context.Pipe(duplex=True)
    process = context.Process(target=_child, args=(theirs, memory_bytes, seconds), name="payload-check",
                              daemon=True)
    message: tuple[Any, ...] | None = None
    try:
        process.start()
        theirs.close()
        # A chunk at a time (the body may be on disk); an empty one ends it.
        for chunk in chunks:
            ours.send_bytes(chunk)
        ours.send_bytes(b"")
        if ours.poll(seconds + 5):
            message = ours.recv()
    except (EOFError, OSError):
        message = None  # the child died: out of memory or out of CPU time
    finally:
        ours.close()
        theirs.close()
        if process.pid is not None:
            if process.is_alive():
                process.kill()
            process.join(5)
    return message


def _child(conn: Any, memory_bytes: int, seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    from importer.read.structured import parse_payload

    try:
        content = bytearray()
        while chunk := conn.recv_bytes():
            content += chunk
        mode, file_name, _ = parse_payload(bytes(content))
        conn.send(("ok", mode, file_name))
    except ImporterError as exc:
        kind = "BadRequest" if isinstance(exc, BadRequest) else "UnreadableFile"
        # Params as text: a JSONDecodeError would carry the whole document with it.
        params = {k: str(v) for k, v in exc.params.items()}
        conn.send(("error", kind, exc.key, params, exc.message, exc.code, exc.details))
    except (MemoryError, EOFError):
        pass  # said by the parent: the child ends without an answer
    finally:
        conn.close()
