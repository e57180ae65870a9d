"""Wheels over real HTTP: create, list, read with counts, items, and refusals."""

from __future__ import annotations

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
