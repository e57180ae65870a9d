"""/metrics of a server process: its hubs' metrics, the default registry and this app's database collector."""

from __future__ import annotations

import hmac
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any, Protocol

import prometheus_client
from aiohttp import hdrs, web
from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from importer import metrics
from importer.errors import Unauthorized
from importer.jobs.app import queue_names
from importer.model import TERMINAL
from server import keys


class HubCounts(Protocol):
    """What these metrics read of a hub (server.hub.Hub, which imports this module to observe
    its notifications: a protocol instead of an import keeps the two apart)."""

    @property
    def subscriber_count(self) -> int: ...

    dropped_clients: int
    reconnects: int


REGISTRY = web.AppKey("metrics_registry", CollectorRegistry)

# Per process: the SSE streams this server holds, and how long a job change took from the
# database to this process' hub (NOTIFY → hub), for the events that carry their change time.
SSE_CLIENTS = Gauge("importer_sse_clients", "SSE streams open in this server process")
NOTIFICATION_LAG = Histogram(
    "importer_notification_lag_seconds",
    "Time from a job's change in the database to its notification in this process' hub; `event` is "
    "created (from created_at, the submit transaction's start) or ended (from finished_at)",
    labelnames=["event"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))
_hubs: list[HubCounts] = []
SSE_CLIENTS.set_function(lambda: sum(h.subscriber_count for h in _hubs))


class HubCollector(Collector):
    """Counters the hubs keep themselves: clients dropped for falling behind, LISTEN reconnects."""

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily("importer_sse_clients_dropped", "SSE clients this process dropped because "
                                  "they fell behind (over 32 KiB unsent; they reconnect and resume)",
                                  value=sum(h.dropped_clients for h in _hubs))
        yield CounterMetricFamily("importer_hub_reconnects", "Times this process' hub re-opened its LISTEN "
                                  "connection", value=sum(h.reconnects for h in _hubs))


prometheus_client.REGISTRY.register(HubCollector())


def track_hub(hub: HubCounts) -> None:
    """Count `hub`'s subscribers in importer_sse_clients (several apps may share a process)."""
    _hubs.append(hub)


def untrack_hub(hub: HubCounts) -> None:
    if hub in _hubs:
        _hubs.remove(hub)


def observe_notification(job: dict[str, Any], received: float | None = None) -> None:
    """Lag of one notified job object: only its creation and its end carry their own time."""
    if job.get("status") in TERMINAL:
        event, stamp = "ended", job.get("finished_at")
    elif job.get("seq") == 1:
        event, stamp = "created", job.get("created_at")
    else:
        return
    if not stamp:
        return
    try:
        changed = datetime.fromisoformat(stamp).timestamp()
    except (TypeError, ValueError):
        return
    NOTIFICATION_LAG.labels(event).observe(max((received or time.time()) - changed, 0.0))


async def metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context, after the pool: the collector reads the app's database."""
    conninfo = app[keys.POOL].conninfo
    if not isinstance(conninfo, str):
        raise TypeError("the metrics collector needs a pool made from a conninfo string")
    registry = CollectorRegistry(auto_describe=False)
    collector = metrics.DatabaseCollector(conninfo, queues=queue_names())
    registry.register(collector)
    app[REGISTRY] = registry
    try:
        yield
    finally:
        collector.close()


def check_token(request: web.Request, token: str | None) -> None:
    """Let the request read /metrics when no token is configured (IMPORTER_METRICS_TOKEN unset)
    or it carries `Authorization: Bearer <token>`; else raise Unauthorized (401, code
    `missing_token` or `invalid_token`).

    Compared with hmac.compare_digest over the UTF-8 bytes, so the time taken does not tell a
    prober how much of a guess was right.
    """
    if token is None:
        return
    header = request.headers.get(hdrs.AUTHORIZATION)
    if header is None:
        raise Unauthorized.of("api.metrics_token", code="missing_token")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Unauthorized.of("api.metrics_token", code="invalid_token")


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(metrics_ctx)


def render(app: web.Application) -> bytes:
    """The text exposition of both registries; blocking (it may query), so run it in a thread."""
    body = prometheus_client.generate_latest(prometheus_client.REGISTRY)
    registry = app.get(REGISTRY)
    if registry is not None:
        body += prometheus_client.generate_latest(registry)
    return body
