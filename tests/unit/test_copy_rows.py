"""COPY text encoding of items: escapes, NULLs, column order."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from importer.load.copy_rows import ITEM_COLUMNS, ItemEncoder, copy_text
from importer.model import ItemRow


def item(**overrides) -> ItemRow:
    values = dict(row_number=2, page_id=uuid4(), ring_id=uuid4(), group_id=uuid4(), label_id=None,
                  name="Möte", start=date(2025, 1, 2), end=date(2025, 1, 3), description=None,
                  cross_year_group_id=None)
    values.update(overrides)
    return ItemRow(**values)


def test_copy_text_escapes_separators_and_backslashes():
    """Tabs, newlines, carriage returns and backslashes are escaped; None is \\N; plain text is kept."""
    assert copy_text("a\tb\nc\rd\\e") == "a\\tb\\nc\\rd\\\\e"
    assert copy_text("\\N") == "\\\\N"
    assert copy_text(None) == "\\N"
    assert copy_text("Årsbokslut") == "Årsbokslut"


def test_encoder_writes_one_line_per_item_in_column_order():
    """Each item is one line with as many fields as items_copy has columns, ids as text."""
    wheel, job, link = uuid4(), uuid4(), uuid4()
    first = item(description="rad 1\nrad 2", cross_year_group_id=link)
    second = item(label_id=uuid4(), name="Tab\there")
    text = ItemEncoder(wheel, job).encode([first, second])
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == 3
    fields = [line.split("\t") for line in lines[:2]]
    assert all(len(f) == len(ITEM_COLUMNS) for f in fields)
    assert fields[0] == [str(wheel), str(first.page_id), str(first.ring_id), str(first.group_id), "\\N",
                         "Möte", "2025-01-02", "2025-01-03", "rad 1\\nrad 2", str(link), str(job)]
    assert fields[1][4] == str(second.label_id) and fields[1][5] == "Tab\\there"
    assert fields[1][8] == "\\N" and fields[1][9] == "\\N"


def test_encoder_without_job_writes_null_provenance():
    """Without a job id the provenance column is NULL."""
    text = ItemEncoder(uuid4(), None).encode([item()])
    assert text.rstrip("\n").split("\t")[-1] == "\\N"
