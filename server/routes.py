"""Every route of the API in one table (API.md)."""

from __future__ import annotations

from aiohttp import web

from server.views import ops, page


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", ops.healthz)
    app.router.add_get("/readyz", ops.readyz)
    app.router.add_get("/metrics", ops.metrics)
    app.router.add_get("/api/openapi.json", ops.openapi)
    page.add_routes(app.router)  # GET / and /static/ (the web page)
