"""Items cannot refer to a missing page, ring, group or label, nor to another wheel's."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.factories import make_user, make_wheel


async def _structure(conn, wheel):
    ids = {}
    for table, extra in (("wheel_rings", ", ring_order"), ("activity_groups", ", color"),
                         ("labels", ", color")):
        value = 0 if table == "wheel_rings" else "#AABBCC"
        row = await (await conn.execute(
            f"INSERT INTO {table} (wheel_id, name{extra}) VALUES (%s, 'X', %s) RETURNING id",
            (wheel, value))).fetchone()
        ids[table] = row["id"]
    row = await (await conn.execute(
        "INSERT INTO wheel_pages (wheel_id, year, page_order) VALUES (%s, 2026, 1) RETURNING id",
        (wheel,))).fetchone()
    ids["wheel_pages"] = row["id"]
    return ids


async def _insert_item(conn, wheel, ids, **override):
    values = {"wheel_id": wheel, "page_id": ids["wheel_pages"], "ring_id": ids["wheel_rings"],
              "group_id": ids["activity_groups"], "label_id": ids["labels"], **override}
    await conn.execute(
        "INSERT INTO items (wheel_id, page_id, ring_id, group_id, label_id, name, start_date, end_date)"
        " VALUES (%(wheel_id)s, %(page_id)s, %(ring_id)s, %(group_id)s, %(label_id)s, 'A',"
        " '2026-01-01', '2026-01-02')", values)


@pytest.fixture
async def wheel_with_structure(pool):
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    async with pool.connection() as conn:
        ids = await _structure(conn, wheel)
    return wheel, ids, user


async def test_a_complete_item_is_accepted(pool, wheel_with_structure):
    """An item whose references all exist on its own wheel goes in."""
    wheel, ids, _ = wheel_with_structure
    async with pool.connection() as conn:
        await _insert_item(conn, wheel, ids)
        row = await (await conn.execute("SELECT count(*) AS n FROM items")).fetchone()
    assert row["n"] == 1


@pytest.mark.parametrize("column,constraint", [
    ("page_id", "items_page_fkey"), ("ring_id", "items_ring_fkey"),
    ("group_id", "items_group_fkey"), ("label_id", "items_label_fkey")])
async def test_a_missing_reference_is_refused_by_name(pool, wheel_with_structure, column, constraint):
    """A reference to a row that does not exist raises foreign_key_violation naming the rule."""
    wheel, ids, _ = wheel_with_structure
    async with pool.connection() as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation) as caught:
            await _insert_item(conn, wheel, ids, **{column: uuid.uuid4()})
    assert caught.value.diag.constraint_name == constraint


async def test_a_reference_to_another_wheels_ring_is_refused(pool, wheel_with_structure):
    """A ring of another wheel is as good as missing."""
    wheel, ids, user = wheel_with_structure
    other = await make_wheel(pool, user, title="Other")
    async with pool.connection() as conn:
        other_ids = await _structure(conn, other)
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            await _insert_item(conn, wheel, ids, ring_id=other_ids["wheel_rings"])


async def test_deleting_parents_cascades_like_the_original_foreign_keys(pool, wheel_with_structure):
    """Deleting a label clears it on items; deleting a ring deletes its items; a wheel, all."""
    wheel, ids, _ = wheel_with_structure
    async with pool.connection() as conn:
        await _insert_item(conn, wheel, ids)
        await conn.execute("DELETE FROM labels WHERE id = %s", (ids["labels"],))
        row = await (await conn.execute("SELECT label_id FROM items")).fetchone()
        assert row["label_id"] is None
        await conn.execute("DELETE FROM wheel_rings WHERE id = %s", (ids["wheel_rings"],))
        assert (await (await conn.execute("SELECT count(*) AS n FROM items")).fetchone())["n"] == 0
        ids = await _structure_again(conn, wheel)
        await _insert_item(conn, wheel, ids)
        await conn.execute("DELETE FROM year_wheels WHERE id = %s", (wheel,))
        assert (await (await conn.execute("SELECT count(*) AS n FROM items")).fetchone())["n"] == 0


async def _structure_again(conn, wheel):
    await conn.execute("DELETE FROM activity_groups WHERE wheel_id = %s", (wheel,))
    await conn.execute("DELETE FROM wheel_pages WHERE wheel_id = %s", (wheel,))
    await conn.execute("DELETE FROM labels WHERE wheel_id = %s", (wheel,))
    return await _structure(conn, wheel)


async def test_a_parents_key_cannot_move_to_another_wheel(pool, wheel_with_structure):
    """Moving a ring to another wheel would strand its items: refused."""
    _, ids, user = wheel_with_structure
    other = await make_wheel(pool, user, title="Other")
    async with pool.connection() as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            await conn.execute("UPDATE wheel_rings SET wheel_id = %s WHERE id = %s", (other, ids["wheel_rings"]))
