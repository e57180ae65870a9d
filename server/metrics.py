"""/metrics of a server process: the default registry plus this app's database collector."""

from __future__ import annotations

from collections.abc import AsyncIterator

import prometheus_client
from aiohttp import web
from prometheus_client import CollectorRegistry

from importer import metrics
from importer.jobs.app import queue_names
from server import keys

REGISTRY = web.AppKey("metrics_registry", CollectorRegistry)


async def metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context, after the pool and the hub: the collector reads the app's database."""
    registry = CollectorRegistry(auto_describe=False)
    collector = metrics.DatabaseCollector(app[keys.POOL].conninfo, queues=queue_names())
    registry.register(collector)
    app[REGISTRY] = registry
    hub = app.get(keys.HUB)
    if hub is not None:
        metrics.track_hub(hub)
    try:
        yield
    finally:
        if hub is not None:
            metrics.untrack_hub(hub)
        collector.close()


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(metrics_ctx)


def render(app: web.Application) -> bytes:
    """The text exposition of both registries; blocking (it may query), so run it in a thread."""
    body = prometheus_client.generate_latest(prometheus_client.REGISTRY)
    registry = app.get(REGISTRY)
    if registry is not None:
        body += prometheus_client.generate_latest(registry)
    return body
