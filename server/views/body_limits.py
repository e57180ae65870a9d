"""A request body read under a size limit, a chunk at a time: into memory for a small form field,
into a spool (importer/spool.py: on disk once large) for a file; 413 `payload_too_large` as
soon as a part or the whole body passes its limit, while streaming (API.md, "Errors")."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import attrs
from aiohttp import web

from importer.errors import PayloadTooLarge
from importer.spool import IN_MEMORY_BYTES, Spool

CHUNK = 64 * 1024
# A received body goes to its spool this much at a time (from a thread), not a chunk at a time.
SPOOL_BATCH = 1 << 20


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge.of("api.upload_too_large", params={"limit": limit}, details={"limit_bytes": limit})


@attrs.frozen
class BodyBudget:
    """The whole request body under the upload limit, whatever part of it is being read: a
    multipart body's every part (ignored ones too) and framing count (API.md: 413 while
    streaming). Reads the stream's own count of the bytes received so far."""

    request: web.Request
    limit: int
    allowance: int = 0

    def check(self) -> None:
        """Raises PayloadTooLarge once more than limit + allowance bytes have arrived."""
        if self.request.content.total_bytes > self.limit + self.allowance:
            raise too_large(self.limit)


async def read_limited(read: Callable[[int], Awaitable[bytes]], limit: int, *,
                       budget: BodyBudget | None = None) -> bytearray:
    """Everything `read` gives (a small form field), stopping with 413 as soon as it exceeds
    `limit` (or the whole body exceeds its `budget`): at most one chunk past it is ever read."""
    buf = bytearray()
    while chunk := await read(CHUNK):
        if len(buf) + len(chunk) > limit:
            raise too_large(limit)
        if budget is not None:
            budget.check()
        buf += chunk
    return buf


async def spool_limited(read: Callable[[int], Awaitable[bytes]], limit: int, *,
                        budget: BodyBudget | None = None) -> Spool:
    """Everything `read` gives, into a Spool (on disk once large: memory stays flat whatever the
    size), stopping with 413 as soon as it exceeds `limit` or the body its `budget`; the spool
    is closed then. The caller owns the spool it returns."""
    spool = Spool()
    pending = bytearray()
    try:
        while chunk := await read(CHUNK):
            if spool.size + len(pending) + len(chunk) > limit:
                raise too_large(limit)
            if budget is not None:
                budget.check()
            pending += chunk
            if len(pending) >= SPOOL_BATCH:
                # Written from a thread: past IN_MEMORY_BYTES the spool is a file on disk, and a
                # write may wait for the disk (dirty-page throttling) far longer than a loop may.
                await asyncio.to_thread(spool.write, bytes(pending))
                pending.clear()
        if spool.size + len(pending) <= IN_MEMORY_BYTES:
            spool.write(bytes(pending))  # stays in memory: no thread for a small body
        else:
            await asyncio.to_thread(spool.write, bytes(pending))
    except BaseException:
        spool.close()
        raise
    return spool
