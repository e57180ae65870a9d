"""The application factory: it only wires settings, pool, hub, worker, middlewares and routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from importer.db import ALIVE_BYPASS_SECONDS, Pool, database_url, make_pool
from importer.jobs.app import make_app
from importer.jobs.worker import pool_size, run_worker
from importer.settings import Settings
from server import admission, auth, body_timeout, keys, middlewares, routes
from server import metrics as server_metrics
from server.gc_freeze import freeze_ctx
from server.hub import HUB, Hub
from server.stream_slots import STREAM_SLOTS, StreamSlots
from server.views import previews

log = logging.getLogger(__name__)

# Room above the upload limit for multipart framing and the small form fields. Bodies are
# streamed, so this is only aiohttp's cap for request.read()/post(), which no view uses on uploads.
BODY_OVERHEAD = 1 << 20
# Connections of the API's pool (the open-file budget of server/open_files.py counts them).
API_POOL_MAX = 20
WORKER_CONCURRENCY = 2


def database_connections(*, with_worker: bool, worker_concurrency: int = WORKER_CONCURRENCY) -> int:
    """The most database connections the app holds: the API's pool, the hub's LISTEN connection,
    and an in-process worker's pool."""
    return API_POOL_MAX + 1 + (pool_size(worker_concurrency) if with_worker else 0)


def create_app(settings: Settings, *, pool: Pool | None = None,
               with_worker: bool = False, worker_concurrency: int = WORKER_CONCURRENCY) -> web.Application:
    """The aiohttp app. A `pool` passed in is used and left open; otherwise the app opens its own."""
    app = web.Application(
        middlewares=[middlewares.cors, middlewares.errors,
                     body_timeout.middleware(body_timeout.BodyPace(
                         idle_seconds=settings.body_idle_seconds, min_rate=settings.body_min_rate)),
                     auth.authenticate],
        client_max_size=settings.max_upload_bytes + BODY_OVERHEAD,
    )
    app[keys.SETTINGS] = settings
    app[keys.KNOWN_USERS] = set()
    app[STREAM_SLOTS] = StreamSlots(per_user=settings.max_streams_per_user, total=settings.max_streams)
    admission.setup(app)
    # Deferring runs on the request's own connection (`configure(connection=conn)`), so the
    # API never needs the procrastinate app opened on a pool of its own.
    app[keys.PROCRASTINATE] = make_app(settings)
    app.cleanup_ctx.append(_pool_ctx(settings, pool))
    app.cleanup_ctx.append(hub_ctx)
    app.cleanup_ctx.append(previews.runner_ctx)
    # Full garbage collections stalled every stream for 1-2 s at 10,000 clients (server/gc_freeze.py).
    app.cleanup_ctx.append(freeze_ctx())
    server_metrics.setup(app)  # after pool and hub: /metrics reads both
    app.on_shutdown.append(hub_on_shutdown)
    if with_worker:
        app.cleanup_ctx.append(_worker_ctx(settings, worker_concurrency))
    app.on_response_prepare.append(middlewares.on_prepare_cors)
    routes.setup(app)
    return app


CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def _pool_ctx(settings: Settings, given: Pool | None) -> CleanupContext:
    async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
        if given is not None:
            app[keys.POOL] = given
            yield
            return
        pool = make_pool(database_url(settings), min_size=2, max_size=API_POOL_MAX, name="api",
                         alive_bypass=ALIVE_BYPASS_SECONDS)
        await pool.open(wait=True, timeout=30)
        app[keys.POOL] = pool
        try:
            yield
        finally:
            await pool.close()

    return pool_ctx


def _worker_ctx(settings: Settings, concurrency: int) -> CleanupContext:
    async def worker_ctx(app: web.Application) -> AsyncIterator[None]:
        # Its own pool: a running import holds connections for its whole transaction, and
        # must not starve the API's requests of theirs.
        pool = make_pool(database_url(settings), min_size=1, max_size=pool_size(concurrency), name="worker")
        await pool.open(wait=True, timeout=30)
        task = asyncio.create_task(run_worker(pool, concurrency, settings=settings), name="in-process worker")
        task.add_done_callback(_worker_ended)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await pool.close()

    return worker_ctx


def _worker_ended(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the in-process worker stopped", exc_info=task.exception())


async def hub_ctx(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the hub on its own connection, made from the pool's conninfo."""
    conninfo = app[keys.POOL].conninfo
    if not isinstance(conninfo, str):
        raise TypeError("the hub needs a pool made from a conninfo string")
    hub = Hub(conninfo)
    await hub.start()
    app[HUB] = hub
    server_metrics.track_hub(hub)
    try:
        yield
    finally:
        server_metrics.untrack_hub(hub)
        await hub.stop()


async def hub_on_shutdown(app: web.Application) -> None:
    """on_shutdown: end every SSE stream, so that shutdown does not wait for them to time out."""
    hub = app.get(HUB)
    if hub is not None:
        hub.close_streams()
