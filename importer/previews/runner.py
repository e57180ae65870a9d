"""Previews computed in child processes, so that a large file never stalls the event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from importer.child_processes import process_context
from importer.errors import ImporterError
from importer.previews.plan import Refused, Request, compute

log = logging.getLogger(__name__)

#: Previews one server process computes at once; more wait their turn (each uses a core).
WORKERS = 2


class PreviewRunner:
    """A pool of `workers` fork-server children; `await run(request)` computes one preview.

    A child that dies (a file that crashes its parser) costs that preview only: the pool is
    made anew for the next one.
    """

    def __init__(self, workers: int = WORKERS):
        self.workers = workers
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=process_context())
        return self._pool

    async def run(self, request: Request) -> dict[str, Any]:
        """The preview's computed fields. Raises the file's BadRequest or UnreadableFile, or
        ImporterError `internal_error` when the child died."""
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._executor(), compute, request)
        except BrokenProcessPool:
            log.error("a preview's process died reading %s; the pool is made anew", request.file_name)
            self.close()
            raise ImporterError.of("api.preview_crashed", code="internal_error") from None
        if isinstance(result, Refused):
            raise result.error()
        return result

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
