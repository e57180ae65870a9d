"""Named SQL queries, loaded once from importer/sql/*.sql (`-- name: noun_verb` blocks)."""

from __future__ import annotations

import re
from importlib import resources
from typing import LiteralString, cast

_NAME = re.compile(r"^--\s*name:\s*([a-z][a-z0-9_]*)\s*-*\s*$", re.MULTILINE)


def parse(text: str, origin: str = "<string>") -> dict[str, str]:
    """Split a file of `-- name: x` blocks into {name: sql}; text before the first name is a header."""
    parts = _NAME.split(text)
    found: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in found:
            raise ValueError(f"query {name!r} is defined twice in {origin}")
        sql = body.strip()
        if not sql:
            raise ValueError(f"query {name!r} in {origin} is empty")
        found[name] = sql
    return found


def load() -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in sorted(resources.files("importer.sql").iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        for name, sql in parse(entry.read_text(encoding="utf-8"), entry.name).items():
            if name in found:
                raise ValueError(f"query {name!r} is defined in more than one file ({entry.name})")
            found[name] = sql
    return found


QUERIES: dict[str, str] = load()


def q(name: str) -> LiteralString:
    """The SQL of a named query; a KeyError names a query that does not exist."""
    # LiteralString is what psycopg asks of SQL text, so that no input becomes a query. These
    # texts come from our own files in importer/sql, never from input: they are as good. (mypy
    # reads LiteralString as str and calls the cast redundant; pyright, in editors, needs it.)
    return cast(LiteralString, QUERIES[name])  # type: ignore[redundant-cast]
