"""The OpenAPI 3.0 document of the API, served at /api/openapi.json; it describes what the views do."""

from __future__ import annotations

from typing import Any

from server.openapi.parts import RETRY_AFTER, error
from server.openapi.paths import PATHS
from server.openapi.schemas import SCHEMAS

UNAVAILABLE = error("The database is unreachable or busy; retry after Retry-After seconds", RETRY_AFTER)


def _with_unavailable(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation that touches the database may answer 503."""
    return {path: {method: ({**op, "responses": {**op["responses"], "503": UNAVAILABLE}}
                            if path.startswith("/api/") and path != "/api/openapi.json" else op)
                   for method, op in ops.items()}
            for path, ops in paths.items()}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Wheel importer", "version": "1",
                 "description": "Large, asynchronous spreadsheet imports into year wheels. Every error is "
                                "`{\"error\": {\"code\", \"message\", \"details\"}}`. Every message meant for a "
                                "person is Swedish, or English when the request's `Accept-Language` prefers `en` "
                                "(a job's texts: the language of the request that started it); codes never "
                                "change."},
        "servers": [{"url": "/"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "metricsToken": {"type": "http", "scheme": "bearer",
                                 "description": "IMPORTER_METRICS_TOKEN, when the server has one"},
            },
        },
        "security": [{"bearer": []}],
        "paths": _with_unavailable(PATHS),
    }
