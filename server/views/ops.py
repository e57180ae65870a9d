"""Operations: liveness, readiness, metrics, and the OpenAPI document."""

from __future__ import annotations

import asyncio
import logging

import prometheus_client
from aiohttp import web

from importer.messages import render_in
from server import keys
from server import metrics as server_metrics
from server.hub import HUB
from server.language import request_language
from server.middlewares import error_response
from server.openapi import document

log = logging.getLogger(__name__)

READY_TIMEOUT = 2.0


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz: 200 `{"status": "ok"}` while the process runs; asks nothing of the database."""
    return web.json_response({"status": "ok"})


async def _database_answers(request: web.Request) -> bool:
    async def select_one() -> None:
        async with request.app[keys.POOL].connection(timeout=READY_TIMEOUT) as conn:
            await conn.execute("SELECT 1")

    try:
        await asyncio.wait_for(select_one(), READY_TIMEOUT)
    except Exception as exc:
        log.warning("readiness: the database does not answer: %r", exc)
        return False
    return True


async def readyz(request: web.Request) -> web.Response:
    """GET /readyz: 200 `{"status": "ready", "checks": {...}}` while the database answers within
    2 s and the hub is listening; else 503 `not_ready` with the same `checks` in `details`."""
    hub = request.app.get(HUB)
    checks = {"database": await _database_answers(request),
              "listen": bool(hub is not None and hub.is_listening)}
    if all(checks.values()):
        return web.json_response({"status": "ready", "checks": checks})
    return error_response(503, "not_ready", render_in(request_language(request), "api.not_ready"),
                          {"checks": checks})


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics: 200, the Prometheus text format (README "Health, metrics, logs"); with
    IMPORTER_METRICS_TOKEN set, 401 unless the request carries `Authorization: Bearer <it>`.

    Still 200 when the database does not answer: `importer_metrics_database_up` is 0 then.
    """
    server_metrics.check_token(request, request.app[keys.SETTINGS].metrics_token)
    # The default registry and the app's database collector (server/metrics.py).
    body = await asyncio.to_thread(server_metrics.render, request.app)
    return web.Response(body=body, headers={"Content-Type": prometheus_client.CONTENT_TYPE_LATEST})


async def openapi(request: web.Request) -> web.Response:
    """GET /api/openapi.json: 200 the OpenAPI document (server/openapi/); needs no token."""
    return web.json_response(document())
