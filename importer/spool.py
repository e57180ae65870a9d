"""An upload's bytes kept in a temporary file as they arrive, so that its size never shows in the
server's memory: the body, its size and its SHA-256, read back in chunks."""

from __future__ import annotations

import concurrent.futures
import hashlib
import tempfile
from collections.abc import Iterator
from typing import IO

#: A body up to this size stays in memory (the common small CSV: no file, no extra system call);
#: a larger one goes to a temporary file.
IN_MEMORY_BYTES = 1 << 20
#: Chunks read back (to a child process, to COPY): a bounded amount of memory at a time.
CHUNK_BYTES = 1 << 20

_CLOSER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool-close")


class Spool:
    """A body being received: `write` each chunk as it arrives, then `size` and `sha256`.

    Owns a temporary file (deleted when closed): use it as a context manager, or `close` it."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)
        self.size = 0
        self._digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)
        self._digest.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> bytes:
        return self._digest.digest()

    def head(self, size: int) -> bytes:
        """The first `size` bytes (fewer if the body is shorter)."""
        self.file.seek(0)
        return self.file.read(size)

    def chunks(self, size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The whole body, from the start, `size` bytes at a time."""
        self.file.seek(0)
        while chunk := self.file.read(size):
            yield chunk

    def read_all(self) -> bytes:
        """The whole body in memory: only for bodies that must be read whole (a workbook)."""
        self.file.seek(0)
        return self.file.read()

    def close(self) -> None:
        """Delete the body. A body on disk is closed by a background thread: freeing a large
        file's blocks can wait for the disk, longer than an event loop may be held."""
        if self.size > IN_MEMORY_BYTES:
            _CLOSER.submit(self.file.close)
        else:
            self.file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
