"""The OpenAPI 3.0 document of the API, served at /api/openapi.json; it describes what the views do."""

from __future__ import annotations

from typing import Any

from server.openapi.parts import RETRY_AFTER, error
from server.openapi.paths import PATHS
from server.openapi.schemas import SCHEMAS

UNAVAILABLE = error("The database is unreachable or busy; retry after Retry-After seconds", RETRY_AFTER)


REQUEST_TIMEOUT = error("The body stopped coming (IMPORTER_BODY_IDLE_SECONDS without a byte) or came slower than "
                        "IMPORTER_BODY_MIN_RATE bytes a second (`request_timeout`); the connection is closed")


def _with_common(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation that touches the database may answer 503 (unless it says more of its own
    503); every one that takes a body may answer 408."""

    def responses(path: str, op: dict[str, Any]) -> dict[str, Any]:
        common: dict[str, Any] = {}
        if path.startswith("/api/") and path != "/api/openapi.json":
            common["503"] = UNAVAILABLE
        if "requestBody" in op:
            common["408"] = REQUEST_TIMEOUT
        return {**common, **op["responses"]}

    return {path: {method: {**op, "responses": responses(path, op)} for method, op in ops.items()}
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
        "paths": _with_common(PATHS),
    }
