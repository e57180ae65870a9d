"""Keeping CPython's full garbage collections from stalling the event loop, and with it every stream.

A server process with 10,000 SSE clients holds about 1.7 million objects the cyclic collector
tracks (some 170 per client: connection, request, response, tasks). A generation-2 collection
walks all of them with the loop stopped: 1.0 to 2.2 s each on the shared 2-core machine
(`bench/sse_fanout.py --gc-log`), and CPython runs one whenever the objects that survived
since the last one reach a quarter of the old ones, so they come every few seconds while
clients connect and every few minutes afterwards. That was the NOTIFY → last client p99 of
1,281 ms.

Here objects that survived a little while (REFREEZE_INTERVAL) are moved out of the collector's
reach with `gc.freeze()`: collections then walk only what is younger. Frozen objects are still
freed by reference counting when a client leaves; only garbage *cycles* among them wait, for the
full collection every FULL_COLLECT_INTERVAL (unfreeze, collect, freeze again), which bounds what
they can hold and is the one long pause left.

Measured with 10,000 clients connecting (bench/sse_fanout.py --gc-log): without freezing, 13
generation-2 collections of 0.3 to 1.95 s; refreezing every 10 s, 9 of 73 to 469 ms; every second,
none after start-up. Ten minutes at 10 jobs x 1 update/s: RSS 350.8 MiB at the start and 350.9 at
the end, and the one full collection took 642 ms (the run's maximum NOTIFY -> last client).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

log = logging.getLogger(__name__)

# freeze() is a constant-time list splice, so it can run often: objects are frozen after at most
# this long, and a generation-2 collection walks at most this many seconds' worth of survivors.
# Every 10 s, 10,000 clients connecting still gave 73-469 ms collections (~270,000 young objects).
REFREEZE_INTERVAL = 1.0
# One full collection (the pause this module otherwise avoids) this often, so that cycles of
# garbage among frozen objects (from clients that left) are reclaimed and memory stays flat.
FULL_COLLECT_INTERVAL = 600.0


class FreezeKeeper:
    """Freezes long-lived objects every `refreeze` seconds; a full collection every `full_every`."""

    def __init__(self, *, refreeze: float = REFREEZE_INTERVAL, full_every: float = FULL_COLLECT_INTERVAL,
                 clock: Callable[[], float] = time.monotonic):
        self._refreeze = refreeze
        self._full_every = full_every
        self._clock = clock
        self._last_full = clock()
        self.full_collections = 0
        self.last_full_pause = 0.0  # seconds the last full collection held the loop

    def tick(self) -> None:
        """Freeze what is alive now; first, if it is time, reclaim cycles among the frozen objects."""
        now = self._clock()
        if now - self._last_full >= self._full_every:
            gc.unfreeze()
            gc.collect()
            self._last_full = self._clock()
            self.last_full_pause = self._last_full - now
            self.full_collections += 1
            log.info("gc: full collection took %.0f ms", self.last_full_pause * 1000)
        else:
            # Cycles that just died among the young would otherwise be frozen for minutes.
            gc.collect(1)
        gc.freeze()

    async def run(self) -> None:
        while True:
            self.tick()
            await asyncio.sleep(self._refreeze)


def freeze_ctx(refreeze: float = REFREEZE_INTERVAL, full_every: float = FULL_COLLECT_INTERVAL
               ) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    """Cleanup context: the freezing keeper while the app runs; on exit every object is unfrozen again."""

    @contextlib.asynccontextmanager
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        keeper = FreezeKeeper(refreeze=refreeze, full_every=full_every)
        task = asyncio.create_task(keeper.run(), name="importer-gc-freeze")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            # Back to the collector's normal ways (tests run many apps in one process).
            gc.unfreeze()

    return ctx
