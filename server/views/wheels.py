"""Wheels: create, list, read with counts, and their items.

Every route here also answers what any /api/ route may (server/middlewares.py): 401
`missing_token`/`invalid_token`/`token_expired`, 503 `database_unavailable` with Retry-After,
500 `internal_error`. Another user's wheel is a 404, like a missing one.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from importer.db import Pool, as_user
from importer.errors import BadRequest, NotFound
from importer.queries import q
from importer.storable import storable_text
from server import keys
from server.auth import user_id
from server.views.common import json_object, json_response, path_uuid, query_int, unstorable


def _pool(request: web.Request) -> Pool:
    return request.app[keys.POOL]


NO_COUNTS = {"rings": 0, "groups": 0, "labels": 0, "pages": 0, "items": 0}


def _wheel(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "title": row["title"], "year": row["year"],
            "counts": row.get("counts") or NO_COUNTS, "created_at": row["created_at"]}


def parse_new_wheel(body: dict[str, Any]) -> tuple[str, int]:
    title = body.get("title")
    if not isinstance(title, str) or not 1 <= len(title.strip()) <= 200:
        raise BadRequest.of("api.bad_title", details={"field": "title"})
    if not storable_text(title):
        raise unstorable("title")
    year = body.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
        raise BadRequest.of("api.bad_year", details={"field": "year"})
    return title.strip(), year


async def create(request: web.Request) -> web.Response:
    """POST /api/wheels `{"title", "year"}`: 201 the wheel (counts all 0), with `Location`.

    400 `bad_request` for a title not 1 to 200 characters, a year outside 1900-2100, or a body
    that is not a JSON object; 413 `payload_too_large` over 64 KiB; 415
    `unsupported_media_type` unless the body is application/json.
    """
    title, year = parse_new_wheel(await json_object(request))
    uid = user_id(request)
    async with as_user(_pool(request), uid) as conn:
        row = await (await conn.execute(q("wheel_create"), {"owner_id": uid, "title": title, "year": year})).fetchone()
    assert row is not None  # INSERT … RETURNING gives the row it inserted
    return json_response(_wheel(row), status=201, headers={"Location": f"/api/wheels/{row['id']}"})


async def list_own(request: web.Request) -> web.Response:
    """GET /api/wheels: 200 `{"wheels": [...]}`, the user's wheels newest first (their counts are
    not computed here: all 0; GET /api/wheels/{wheel_id} has them)."""
    async with as_user(_pool(request), user_id(request)) as conn:
        rows = await (await conn.execute(q("wheel_list"))).fetchall()
    return json_response({"wheels": [_wheel(r) for r in rows]})


async def get(request: web.Request) -> web.Response:
    """GET /api/wheels/{wheel_id}: 200 the wheel with its counts of rings, groups, labels, pages
    and items; 404 `not_found` for no such wheel (or a wheel_id that is not a UUID)."""
    wheel_id = path_uuid(request, "wheel_id", "wheel")
    async with as_user(_pool(request), user_id(request)) as conn:
        row = await (await conn.execute(q("wheel_get"), {"wheel_id": wheel_id})).fetchone()
    if row is None:
        raise NotFound.of("api.no_wheel")
    return json_response(_wheel(row))


async def items(request: web.Request) -> web.Response:
    """GET /api/wheels/{wheel_id}/items?year=: 200 `{"items": [...]}`, each with the names of its
    ring, group and label and its page's year; `year` keeps one page.

    400 `bad_request` for a year that is not a whole number in 1900-2100; 404 `not_found` for no
    such wheel.
    """
    wheel_id = path_uuid(request, "wheel_id", "wheel")
    year = query_int(request, "year", default=None, low=1900, high=2100)
    async with as_user(_pool(request), user_id(request)) as conn:
        if await (await conn.execute(q("wheel_exists"), {"wheel_id": wheel_id})).fetchone() is None:
            raise NotFound.of("api.no_wheel")
        rows = await (await conn.execute(q("wheel_items"), {"wheel_id": wheel_id, "year": year})).fetchall()
    return json_response({"items": rows})
