"""Every route of the API in one table (API.md)."""

from __future__ import annotations

from aiohttp import web

from server.views import events, imports, jobs, ops, page, previews, wheels


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", ops.healthz)
    app.router.add_get("/readyz", ops.readyz)
    app.router.add_get("/metrics", ops.metrics)
    app.router.add_get("/api/openapi.json", ops.openapi)

    app.router.add_post("/api/wheels", wheels.create)
    app.router.add_get("/api/wheels", wheels.list_own)
    app.router.add_get("/api/wheels/{wheel_id}", wheels.get)
    app.router.add_get("/api/wheels/{wheel_id}/items", wheels.items)
    app.router.add_post("/api/wheels/{wheel_id}/imports", imports.submit)
    app.router.add_post("/api/wheels/{wheel_id}/previews", previews.create)

    app.router.add_get("/api/previews/{preview_id}", previews.get)
    app.router.add_patch("/api/previews/{preview_id}", previews.change)
    app.router.add_post("/api/previews/{preview_id}/imports", previews.start_import)

    app.router.add_get("/api/imports", jobs.list_own)
    app.router.add_get("/api/imports/{job_id}", jobs.get)
    app.router.add_post("/api/imports/{job_id}/cancel", jobs.cancel)
    app.router.add_post("/api/imports/{job_id}/retry", jobs.retry)
    app.router.add_get("/api/imports/{job_id}/errors.csv", jobs.errors_csv)
    app.router.add_get("/api/imports/{job_id}/events", events.job_events)
    app.router.add_get("/api/events", events.user_events)

    page.add_routes(app.router)  # GET / and /static/ (the web page)
