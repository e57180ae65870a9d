"""The real exports of issue 15 (tests/data/realworld/) read through sources.open_source give
exactly what their users expect (expected.json)."""

from __future__ import annotations

import codecs

import attrs
import pytest

from importer.model import Activity, Rejection
from importer.read.sources import CSV, open_source
from tests.data import realworld


def read(name: str, content: bytes | None = None) -> tuple[list[Activity], list[Rejection]]:
    source = open_source(CSV, realworld.content(name) if content is None else content, name, None,
                         default_year=2026)
    rows = list(source)
    assert len(rows) == source.total_rows
    return ([r for r in rows if isinstance(r, Activity)], [r for r in rows if isinstance(r, Rejection)])


@pytest.mark.parametrize("name", realworld.FILES)
def test_each_real_export_gives_what_its_user_expects(name):
    """Items, rejections, and the dates, groups, labels and descriptions expected.json names."""
    activities, rejections = read(name)
    assert realworld.EXPECTED[name]["status"] == "completed"
    realworld.check(name, [attrs.asdict(a) for a in activities], len(rejections))


def test_utf16_without_bom_gives_the_same_items_as_with_one():
    """03b, saved without a byte order mark, gives the same three items as with one."""
    name = "03b_utf16le_nobom.txt"
    with_bom = codecs.BOM_UTF16_LE + realworld.content(name)
    assert read(name) == read(name, with_bom)
    assert len(read(name)[0]) == 3


def test_the_real_exports_need_no_warning():
    """None of these files is ambiguous or repaired: their sources carry no warning."""
    for name in realworld.FILES:
        source = open_source(CSV, realworld.content(name), name, None, default_year=2026)
        assert source.warnings == (), name
