"""Named queries: every block has a unique name and a body."""

from __future__ import annotations

import pytest

from importer.queries import QUERIES, load, parse


def test_blocks_are_split_by_name():
    """Text between `-- name:` lines becomes that query; the header before the first is ignored."""
    found = parse("-- header\n-- name: job_get\nSELECT 1;\n\n-- name: job_list\nSELECT 2;\n")
    assert found == {"job_get": "SELECT 1;", "job_list": "SELECT 2;"}


def test_a_name_defined_twice_is_an_error():
    """Two blocks with one name would silently shadow each other: refused."""
    with pytest.raises(ValueError, match="twice"):
        parse("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;\n")


def test_an_empty_block_is_an_error():
    """A name without SQL is a mistake, not a query."""
    with pytest.raises(ValueError, match="empty"):
        parse("-- name: a\n\n-- name: b\nSELECT 1;")


def test_the_shipped_queries_load():
    """The files under importer/sql load without clashes and include the session queries."""
    assert load() == QUERIES
    assert {"session_as_user", "session_as_worker", "migrate_lock"} <= set(QUERIES)
