"""Wheels: create, list, read with counts, and their items.

Every route here also answers what any /api/ route may (server/middlewares.py): 401
`missing_token`/`invalid_token`/`token_expired`, 503 `database_unavailable` with Retry-After,
500 `internal_error`. Another user's wheel is a 404, like a missing one.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from psycopg.rows import tuple_row

from importer.db import Pool, as_user
from importer.errors import BadRequest, NotFound
from importer.queries import q
from importer.storable import storable_text
from server import keys
from server.auth import user_id
from server.cursors import FIRST_AFTER, ItemKey
from server.views.common import dumps, json_object, json_response, path_uuid, query_int, unstorable

# Items per page of GET .../items (API.md, "Wheels"): the default, and the most a client may ask.
ITEMS_PAGE = 1000
ITEMS_PAGE_MAX = 10_000


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
    """GET /api/wheels/{wheel_id}/items?year=&limit=&after=: 200 `{"items": [...], "next":
    cursor | null}`: at most `limit` items (default ITEMS_PAGE, at most ITEMS_PAGE_MAX) in
    (start_date, id) order, each with the names of its ring, group and label and its page's
    year; `year` keeps one page; `after` (the `next` of the page before) continues after it.
    `next` is null on the last page.

    400 `bad_request` for a year that is not a whole number in 1900-2100, `bad_limit` for a limit
    that is not a whole number in 1-ITEMS_PAGE_MAX, `bad_cursor` for an `after` that is not a
    cursor of this route; 404 `not_found` for no such wheel.
    """
    wheel_id = path_uuid(request, "wheel_id", "wheel")
    year = query_int(request, "year", default=None, low=1900, high=2100)
    limit = query_int(request, "limit", default=ITEMS_PAGE, low=1, high=ITEMS_PAGE_MAX, code="bad_limit")
    assert limit is not None
    after = request.query.get("after") or None
    position = FIRST_AFTER if after is None else ItemKey.decode(after).as_params()
    params = {"wheel_id": wheel_id, "year": year, "limit": limit + 1, **position}
    async with as_user(_pool(request), user_id(request)) as conn:
        if await (await conn.execute(q("wheel_exists"), {"wheel_id": wheel_id})).fetchone() is None:
            raise NotFound.of("api.no_wheel")
        query = q("wheel_items_page") if year is None else q("wheel_year_items_page")
        cursor = conn.cursor(row_factory=tuple_row)
        rows = await (await cursor.execute(query, params)).fetchall()
    following = ItemKey(start_date=rows[limit - 1][0], id=rows[limit - 1][1]).encode() \
        if len(rows) > limit else None
    # Each item is already its JSON text (rendered by Postgres, see the query): the page is
    # joined as text, with no Python object per item to build and encode on the event loop.
    items = ",".join(row[2] for row in rows[:limit])
    return web.Response(text=f'{{"items":[{items}],"next":{dumps(following)}}}',
                        content_type="application/json")
