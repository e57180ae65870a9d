"""Files made from public bug reports about real exports (issue 15) and what a user expects from
each (expected.json): the one check of an import's result against it, for the unit test (rows
read through sources.open_source) and the integration test (items in Postgres)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
EXPECTED: dict[str, dict[str, Any]] = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
FILES = sorted(EXPECTED)


def content(name: str) -> bytes:
    return (HERE / name).read_bytes()


def check(name: str, items: Sequence[dict[str, Any]], rejected: int) -> None:
    """Assert that `items` (dicts with name, start, end, group, label, description; dates as
    date) and the `rejected` count are exactly what expected.json says of file `name`."""
    expected = EXPECTED[name]
    assert (len(items), rejected) == (expected["items"], expected["rejected"]), name
    by_name = {item["name"]: item for item in items}
    assert len(by_name) == len(items), f"{name}: item names repeat"
    for want in expected.get("some_items", []):
        got = by_name[want["name"]]
        assert (got["start"], got["end"]) == (date.fromisoformat(want["start"]),
                                              date.fromisoformat(want["end"])), (name, want["name"])
        for field in ("group", "label"):
            if field in want:
                assert got[field] == want[field], (name, want["name"], field)
        if "description_contains" in want:
            assert want["description_contains"] in (got["description"] or ""), (name, want["name"])
        if "description_starts_with" in want:
            assert (got["description"] or "").startswith(want["description_starts_with"]), (name, want["name"])
    for text in expected.get("description_must_not_contain", []):
        assert all(text not in (item["description"] or "") for item in items), (name, text)
