"""Parsing of path and query values shared by the views: bad input is a domain error here."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

from aiohttp import web

from importer.errors import BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType

# Wheels and other small JSON bodies; uploads have their own, streamed, limit.
JSON_BODY_LIMIT = 64 * 1024


# What a path names -> the catalogue key of its 404.
NOT_FOUND_KEYS = {"wheel": "api.no_wheel", "job": "api.no_job", "import job": "api.no_job",
                  "preview": "api.no_preview"}


def path_uuid(request: web.Request, name: str, what: str) -> UUID:
    """A UUID from the path; anything else names nothing that exists, so 404 like a missing one."""
    try:
        return UUID(request.match_info[name])
    except ValueError:
        raise NotFound.of(NOT_FOUND_KEYS[what]) from None


def query_int(request: web.Request, name: str, *, default: int | None, low: int, high: int,
              code: str | None = None) -> int | None:
    """A whole number in low..high from the query, or `default` when absent or empty; anything
    else is a BadRequest (its `code`: `bad_request` unless given)."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest.of("api.query_not_integer", params={"name": name}, code=code,
                            details={"parameter": name}) from None
    if not low <= value <= high:
        raise BadRequest.of("api.query_out_of_range", params={"name": name, "low": low, "high": high},
                            code=code, details={"parameter": name})
    return value


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; these bodies are small, so more than a little is 413."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType.of("api.body_not_json_type")
    if request.content_length is not None and request.content_length > JSON_BODY_LIMIT:
        raise PayloadTooLarge.of("api.body_too_large", params={"limit": JSON_BODY_LIMIT},
                                 details={"limit_bytes": JSON_BODY_LIMIT})
    raw = bytearray()
    while chunk := await request.content.read(JSON_BODY_LIMIT):
        raw += chunk
        if len(raw) > JSON_BODY_LIMIT:
            raise PayloadTooLarge.of("api.body_too_large", params={"limit": JSON_BODY_LIMIT},
                                     details={"limit_bytes": JSON_BODY_LIMIT})
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest.of("api.body_not_json") from None
    except RecursionError:
        # `[[[[…` tens of thousands deep fits in the limit and exhausts the parser's stack.
        raise BadRequest.of("api.body_too_deep") from None
    if not isinstance(body, dict):
        raise BadRequest.of("api.body_not_object")
    return body


def _default(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()  # RFC 3339, as jsonb writes timestamps too
    return str(value)  # UUID


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with dates, UUIDs and timestamps as strings (what jsonb from Postgres gives too)."""
    return web.json_response(data, status=status, headers=headers, dumps=dumps)


def unstorable(field: str, *, code: str = "bad_request") -> BadRequest:
    """The 400 for text no column can store (NUL, a lone surrogate: importer/storable.py) in
    `field` of a request; `details.field` names it."""
    return BadRequest.of("api.text_not_storable", params={"field": field}, code=code,
                         details={"field": field})
