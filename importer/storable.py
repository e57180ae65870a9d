"""Text Postgres can store: no NUL character, no lone surrogate (API.md, "Errors").

Postgres text cannot hold U+0000, and a lone surrogate (what JSON's "\\ud800" escape or a
surrogateescape decoding gives) cannot be encoded as UTF-8 at all: either would fail the
statement that writes it. The edges check text with this before it goes anywhere: a title, a
file name or a header is a 400, a cell or a structured item's field rejects its row.
"""

from __future__ import annotations


def storable_text(value: str) -> bool:
    """Whether `value` can be stored as Postgres text (encoded as UTF-8, no NUL)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable_json(value: object) -> bool:
    """Whether every string of a parsed JSON value (object keys included) is storable text:
    jsonb refuses `\\u0000` too. Walks without recursion, so any depth json.loads gave is fine."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not storable_text(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True
