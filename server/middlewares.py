"""The one place where errors become HTTP responses, and the CORS headers."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from psycopg_pool import PoolTimeout

from importer.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    ImporterError,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    ServerBusy,
    StreamRefused,
    TooManyRequests,
    TooManyStreams,
    Unauthorized,
    UnreadableFile,
    UnsupportedMediaType,
    request_error,
)
from importer.messages import render_in
from server import keys
from server.language import request_language

log = logging.getLogger(__name__)

STATUS: dict[type[ImporterError], int] = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    RequestTimeout: 408,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    UnreadableFile: 422,
    TooManyRequests: 429,
    TooManyStreams: 429,
    ServerBusy: 503,
}

# aiohttp's own errors (unknown route, wrong method, its body limit) in the contract's codes.
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
              413: "payload_too_large", 415: "unsupported_media_type"}
# ... and their messages, in the request's language (catalogue keys, params: `method`).
HTTP_KEYS = {400: "api.http_400", 401: "api.http_401", 404: "api.http_404", 405: "api.http_405",
             413: "api.http_413", 415: "api.http_415"}

UNAVAILABLE_RETRY_AFTER = 2

def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None, *, close: bool = False) -> web.Response:
    """The contract's error body; `close` (and always for 408 and 413) ends the connection after it."""
    response = web.json_response(error_body(code, message, details), status=status, headers=headers)
    if close or status in (408, 413):
        # 413, 408: the rest of the body is not read (or not coming): close rather than drain
        # it (aiohttp would linger).
        response.force_close()
    return response


def status_of(exc: ImporterError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error as the contract's JSON body, its `message` in the request's language
    (server/language.py): an ImporterError's `key` and `params` rendered there, aiohttp's own
    4xx from HTTP_KEYS; `code`s never depend on the language.

    An error answered before the request's body was read to its end (a refusal before the
    body, API.md "Errors") closes the connection: aiohttp would otherwise read and discard the
    rest, up to 10 s of it, and a refused upload must cost the server nothing."""
    response = await _answer(request, handler)
    if response.status >= 400 and request.body_exists and not request.content.is_eof():
        response.force_close()
    return response


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ImporterError as exc:
        language = request_language(request)
        status = status_of(exc)
        headers: dict[str, str] = {}
        retry_after = getattr(exc, "retry_after", None)  # a limit's error says when to come back
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="importer"'
        if status == 500:
            log.error("unmapped domain error %s on %s %s", exc.code, request.method, request.path, exc_info=exc)
            return error_response(500, "internal_error", render_in(language, "api.internal_error"))
        # A refused stream keeps no idle connection open: each one is a file descriptor.
        return error_response(status, exc.code, exc.message_in(language), exc.details, headers,
                              close=isinstance(exc, StreamRefused))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        language = request_language(request)
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        code = HTTP_CODES.get(exc.status) or exc.reason.lower().replace(" ", "_")
        key = HTTP_KEYS.get(exc.status)
        if key is not None:
            message = render_in(language, key, method=request.method)
        else:
            message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        return error_response(exc.status, code, message, headers=headers)
    except psycopg.errors.CheckViolation as exc:
        language = request_language(request)
        error = request_error(exc)
        if error is not None:
            return error_response(400, error.code, error.message_in(language), error.details)
        log.exception("constraint %s violated on %s %s", exc.diag.constraint_name, request.method, request.path)
        return error_response(500, "internal_error", render_in(language, "api.internal_error"))
    except (psycopg.OperationalError, PoolTimeout) as exc:
        # The database is down or every connection is busy: worth a retry, unlike a bug.
        log.warning("database unavailable on %s %s: %r", request.method, request.path, exc)
        return error_response(503, "database_unavailable",
                              render_in(request_language(request), "api.database_unavailable"),
                              headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)})
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", render_in(request_language(request), "api.internal_error"))


CORS_ORIGIN = web.RequestKey("cors_origin", str)
ALLOWED_METHODS = "GET, POST, PATCH, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, Last-Event-ID"
EXPOSED_HEADERS = "Location, Retry-After"


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CORS for the origins in IMPORTER_CORS_ORIGINS only; others get no CORS headers at all."""
    origin = request.headers.get(hdrs.ORIGIN)
    allowed = origin if origin is not None and origin in request.app[keys.SETTINGS].cors_origins else None
    if request.method == hdrs.METH_OPTIONS and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers:
        if allowed is None:
            return error_response(403, "cors_origin_not_allowed",
                                  render_in(request_language(request), "api.cors_origin_not_allowed"))
        return web.Response(status=204, headers={
            hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: allowed,
            hdrs.ACCESS_CONTROL_ALLOW_METHODS: ALLOWED_METHODS,
            hdrs.ACCESS_CONTROL_ALLOW_HEADERS: ALLOWED_HEADERS,
            hdrs.ACCESS_CONTROL_MAX_AGE: "600",
            hdrs.VARY: "Origin",
        })
    if allowed is not None:
        # The headers are added when the response is prepared (on_prepare_cors), so that error
        # responses and streams prepared inside a handler (SSE) carry them too.
        request[CORS_ORIGIN] = allowed
    return await handler(request)


async def on_prepare_cors(request: web.Request, response: web.StreamResponse) -> None:
    """An `on_response_prepare` signal: the CORS headers of an allowed origin, on every response."""
    origin = request.get(CORS_ORIGIN)
    if origin and hdrs.ACCESS_CONTROL_ALLOW_ORIGIN not in response.headers:
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
        response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = EXPOSED_HEADERS
        response.headers[hdrs.VARY] = "Origin"
