"""Wheels over real HTTP: create, list, read with counts, items, and refusals."""

from __future__ import annotations

import base64
import uuid

import pytest

from tests.acceptance.api.support import error_of


async def test_create_list_and_read_a_wheel(api):
    """POST /api/wheels gives 201 and the wheel; it is listed and readable with zero counts."""
    resp = await api.call("POST", "/api/wheels", json={"title": "Plan 2026", "year": 2026})
    assert resp.status == 201
    wheel = await resp.json()
    assert resp.headers["Location"] == f"/api/wheels/{wheel['id']}"
    assert (wheel["title"], wheel["year"]) == ("Plan 2026", 2026)
    assert wheel["counts"] == {"rings": 0, "groups": 0, "labels": 0, "pages": 0, "items": 0}
    resp = await api.call("GET", f"/api/wheels/{wheel['id']}")
    assert resp.status == 200
    assert {k: v for k, v in (await resp.json()).items() if k != "created_at"} == {
        k: v for k, v in wheel.items() if k != "created_at"}
    listed = await (await api.call("GET", "/api/wheels")).json()
    assert [w["id"] for w in listed["wheels"]] == [wheel["id"]]


@pytest.mark.parametrize("body", [
    {"title": "", "year": 2026}, {"title": "   ", "year": 2026}, {"title": "x" * 201, "year": 2026},
    {"title": 5, "year": 2026}, {"year": 2026}, {"title": "Plan", "year": 1899}, {"title": "Plan", "year": 2101},
    {"title": "Plan", "year": "2026"}, {"title": "Plan", "year": True}, {"title": "Plan"}, [1, 2],
])
async def test_bad_wheels_are_400(api, body):
    """A title outside 1..200 characters or a year outside 1900..2100 gets 400."""
    resp = await api.call("POST", "/api/wheels", json=body)
    assert resp.status == 400, await resp.text()
    assert error_of(await resp.json())["code"] == "bad_request"


async def test_wheel_body_must_be_json(api):
    """A wheel body that is not JSON gets 400 (malformed) or 415 (another media type)."""
    resp = await api.call("POST", "/api/wheels", data=b"{", headers={"Content-Type": "application/json"})
    assert resp.status == 400
    resp = await api.call("POST", "/api/wheels", data=b"title=x", headers={"Content-Type": "text/plain"})
    assert resp.status == 415


async def test_counts_and_items_with_names(api, pool):
    """A wheel's counts and items (with ring, group, label names and page year) come from its rows."""
    wheel = await api.wheel()
    async with pool.connection() as conn:
        ids = await (await conn.execute("""
            WITH r AS (INSERT INTO wheel_rings (wheel_id, name, ring_order) VALUES (%(w)s, 'Ekonomi', 0) RETURNING id),
                 g AS (INSERT INTO activity_groups (wheel_id, name, color) VALUES (%(w)s, 'Möten', '#112233')
                       RETURNING id),
                 l AS (INSERT INTO labels (wheel_id, name, color) VALUES (%(w)s, 'Anna', '#445566') RETURNING id),
                 p AS (INSERT INTO wheel_pages (wheel_id, year, page_order) VALUES (%(w)s, 2026, 1), (%(w)s, 2027, 2)
                       RETURNING id, year)
            SELECT (SELECT id FROM r) AS r, (SELECT id FROM g) AS g, (SELECT id FROM l) AS l,
                   (SELECT id FROM p WHERE year = 2026) AS p26, (SELECT id FROM p WHERE year = 2027) AS p27
            """, {"w": wheel})).fetchone()
        await conn.execute("""
            INSERT INTO items (wheel_id, page_id, ring_id, group_id, label_id, name, start_date, end_date, description)
            VALUES (%(w)s, %(p26)s, %(r)s, %(g)s, %(l)s, 'Budget', '2026-03-01', '2026-03-02', 'Årets budget'),
                   (%(w)s, %(p26)s, %(r)s, %(g)s, NULL, 'Avstämning', '2026-01-10', '2026-01-10', NULL),
                   (%(w)s, %(p27)s, %(r)s, %(g)s, NULL, 'Bokslut', '2027-02-01', '2027-02-05', NULL)
            """, {"w": wheel, **ids})
    resp = await api.call("GET", f"/api/wheels/{wheel}")
    assert (await resp.json())["counts"] == {"rings": 1, "groups": 1, "labels": 1, "pages": 2, "items": 3}
    resp = await api.call("GET", f"/api/wheels/{wheel}/items", params={"year": "2026"})
    assert resp.status == 200
    assert (await resp.json())["items"] == [
        {"name": "Avstämning", "start_date": "2026-01-10", "end_date": "2026-01-10", "ring": "Ekonomi",
         "group": "Möten", "label": None, "description": None, "page_year": 2026},
        {"name": "Budget", "start_date": "2026-03-01", "end_date": "2026-03-02", "ring": "Ekonomi",
         "group": "Möten", "label": "Anna", "description": "Årets budget", "page_year": 2026},
    ]
    everything = await (await api.call("GET", f"/api/wheels/{wheel}/items")).json()
    assert [i["name"] for i in everything["items"]] == ["Avstämning", "Budget", "Bokslut"]
    for bad in ("next", "1800", "20x6"):
        resp = await api.call("GET", f"/api/wheels/{wheel}/items", params={"year": bad})
        assert resp.status == 400


async def test_another_users_wheel_is_404(api):
    """Another user's wheel, an unknown id and a non-UUID id are 404 on every wheel route."""
    foreign = await api.as_other().wheel()
    for wheel in (foreign, str(uuid.uuid4()), "nope"):
        for path in (f"/api/wheels/{wheel}", f"/api/wheels/{wheel}/items"):
            resp = await api.call("GET", path)
            assert resp.status == 404, (path, await resp.text())
            assert error_of(await resp.json())["code"] == "not_found"
    assert (await (await api.call("GET", "/api/wheels")).json())["wheels"] == []


async def test_oversized_wheel_body_is_413(api):
    """A wheel body far beyond any real title is refused with 413, not buffered."""
    resp = await api.call("POST", "/api/wheels", json={"title": "x" * 200_000, "year": 2026})
    assert resp.status == 413
    assert error_of(await resp.json())["code"] == "payload_too_large"


async def _seed_items(pool, wheel: str, per_year: dict[int, int]) -> list[tuple[str, str, int]]:
    """`per_year[y]` items on the page of year y, many sharing a start date (so the order's
    tie-breaker is exercised): their (name, start_date, page_year), as seeded."""
    async with pool.connection() as conn:
        await conn.execute("""
            WITH r AS (INSERT INTO wheel_rings (wheel_id, name, ring_order) VALUES (%(w)s, 'Ekonomi', 0) RETURNING id),
                 g AS (INSERT INTO activity_groups (wheel_id, name, color) VALUES (%(w)s, 'Möten', '#112233')
                       RETURNING id),
                 p AS (INSERT INTO wheel_pages (wheel_id, year, page_order)
                       SELECT %(w)s, y, row_number() OVER (ORDER BY y) FROM unnest(%(years)s::integer[]) y
                       RETURNING id, year)
            INSERT INTO items (wheel_id, page_id, ring_id, group_id, name, start_date, end_date)
            SELECT %(w)s, p.id, (SELECT id FROM r), (SELECT id FROM g), 'Aktivitet ' || p.year || '-' || n,
                   make_date(p.year, 1 + n %% 12, 1 + n %% 3), make_date(p.year, 1 + n %% 12, 1 + n %% 3)
            FROM p JOIN unnest(%(years)s::integer[], %(counts)s::integer[]) AS c(year, n_items) ON c.year = p.year
            CROSS JOIN LATERAL generate_series(1, c.n_items) n
            """, {"w": wheel, "years": list(per_year), "counts": list(per_year.values())})
        rows = await (await conn.execute(
            "SELECT i.name, i.start_date::text AS start_date, p.year FROM items i"
            " JOIN wheel_pages p ON p.id = i.page_id WHERE i.wheel_id = %s", (wheel,))).fetchall()
    return [(r["name"], r["start_date"], r["year"]) for r in rows]


async def _all_pages(api, wheel: str, **params: str) -> list[dict]:
    """Every page of the wheel's items, following `next` until it is null."""
    pages, after = [], None
    while True:
        query = {**params, **({"after": after} if after else {})}
        resp = await api.call("GET", f"/api/wheels/{wheel}/items", params=query)
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        pages.append(body)
        after = body["next"]
        if after is None:
            return pages
        assert len(pages) < 1000, "next never became null"


async def test_items_come_in_disjoint_pages_covering_everything_in_order(api, pool):
    """Following `next` gives pages of `limit` items (the last one fewer, with `next` null)
    that are disjoint and together are every item of the wheel, in start-date order; with
    `year`, the same for that page year alone."""
    wheel = await api.wheel()
    seeded = await _seed_items(pool, wheel, {2026: 230, 2027: 75})
    pages = await _all_pages(api, wheel, limit="40")
    assert [len(p["items"]) for p in pages[:-1]] == [40] * (len(pages) - 1)
    assert 1 <= len(pages[-1]["items"]) <= 40 and pages[-1]["next"] is None
    assert all(p["next"] for p in pages[:-1])
    listed = [(i["name"], i["start_date"], i["page_year"]) for p in pages for i in p["items"]]
    assert len(listed) == len(set(listed)) == len(seeded)  # disjoint, nothing missing or repeated
    assert set(listed) == set(seeded)
    assert [i[1] for i in listed] == sorted(i[1] for i in listed)  # start-date order across pages
    year_pages = await _all_pages(api, wheel, limit="40", year="2027")
    in_2027 = [(i["name"], i["start_date"], i["page_year"]) for p in year_pages for i in p["items"]]
    assert len(in_2027) == len(set(in_2027)) and set(in_2027) == {s for s in seeded if s[2] == 2027}
    assert [i[1] for i in in_2027] == sorted(i[1] for i in in_2027)
    assert [len(p["items"]) for p in year_pages] == [40, 35]


async def test_items_page_by_default_1000_and_an_exact_last_page_has_no_next(api, pool):
    """Without `limit` a page holds 1000 items; when the items end exactly at a page's end,
    that page's `next` is null (no empty page after it)."""
    wheel = await api.wheel()
    await _seed_items(pool, wheel, {2026: 1001})
    first = await (await api.call("GET", f"/api/wheels/{wheel}/items")).json()
    assert len(first["items"]) == 1000 and first["next"]
    rest = await (await api.call("GET", f"/api/wheels/{wheel}/items", params={"after": first["next"]})).json()
    assert len(rest["items"]) == 1 and rest["next"] is None
    exact = await (await api.call("GET", f"/api/wheels/{wheel}/items", params={"limit": "1001"})).json()
    assert len(exact["items"]) == 1001 and exact["next"] is None
    empty = await api.wheel("Tom")
    assert await (await api.call("GET", f"/api/wheels/{empty}/items")).json() == {"items": [], "next": None}


@pytest.mark.parametrize("limit", ["0", "-1", "10001", "1e3", "ten", "1.5"])
async def test_items_limit_out_of_bounds_is_400(api, limit):
    """A limit that is not a whole number from 1 to 10000 gets 400 `bad_limit`, naming the parameter."""
    wheel = await api.wheel()
    resp = await api.call("GET", f"/api/wheels/{wheel}/items", params={"limit": limit})
    assert resp.status == 400, await resp.text()
    error = error_of(await resp.json())
    assert error["code"] == "bad_limit" and error["details"] == {"parameter": "limit"} and error["message"]


async def test_items_limit_at_its_bounds_is_accepted(api, pool):
    """limit=1 and limit=10000 are both allowed."""
    wheel = await api.wheel()
    await _seed_items(pool, wheel, {2026: 3})
    for limit, expected in (("1", 1), ("10000", 3)):
        resp = await api.call("GET", f"/api/wheels/{wheel}/items", params={"limit": limit})
        assert resp.status == 200 and len((await resp.json())["items"]) == expected


@pytest.mark.parametrize("cursor", [
    "nonsense!", "bm9uc2Vuc2U", base64.urlsafe_b64encode(b"2026-13-01," + str(uuid.UUID(int=1)).encode()).decode(),
    base64.urlsafe_b64encode(b"2026-01-01,not-a-uuid").decode(), "QQ" * 200, "====", "2026-01-01",
])
async def test_a_bad_cursor_is_400(api, cursor):
    """An `after` that is not a cursor this route gave gets 400 `bad_cursor`, naming the parameter."""
    wheel = await api.wheel()
    resp = await api.call("GET", f"/api/wheels/{wheel}/items", params={"after": cursor})
    assert resp.status == 400, await resp.text()
    error = error_of(await resp.json())
    assert error["code"] == "bad_cursor" and error["details"] == {"parameter": "after"} and error["message"]


async def test_another_users_wheel_is_404_with_a_cursor_too(api, pool):
    """A cursor from one's own wheel opens nothing of another user's wheel: 404 like a missing one."""
    own = await api.wheel()
    await _seed_items(pool, own, {2026: 3})
    cursor = (await (await api.call("GET", f"/api/wheels/{own}/items", params={"limit": "1"})).json())["next"]
    other = api.as_other()
    foreign = await other.wheel()
    await _seed_items(pool, foreign, {2026: 3})
    resp = await api.call("GET", f"/api/wheels/{foreign}/items", params={"after": cursor, "limit": "2"})
    assert resp.status == 404 and error_of(await resp.json())["code"] == "not_found"
    # A cursor is only a position: its owner may use it on their own wheel.
    assert (await other.call("GET", f"/api/wheels/{foreign}/items", params={"after": cursor})).status == 200
