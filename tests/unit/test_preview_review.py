"""The preview's plan of a file: the same reading and planning as the import, counts that add up,
new versus existing parents, the first items and rejections, and the file's findings."""

from __future__ import annotations

import uuid
from datetime import date

from importer.load.produce import Plan, produce
from importer.model import Activity, Declared, Existing, JobWarning, Rejection
from importer.read.csv_source import open_csv
from importer.read.findings import LONG_ITEM_DAYS, Findings
from importer.read.preview import MAX_SHOWN, review


class ListSource:
    """A Source over rows in memory, with the warnings reading would have found."""

    declared = Declared()
    file_name = "in-memory.csv"

    def __init__(self, rows, warnings=()):
        self.rows = rows
        self.total_rows = len(rows)
        self.warnings = tuple(warnings)

    def __iter__(self):
        return iter(self.rows)


def act(n: int, start: date, end: date, ring: str | None = "Ekonomi", group: str | None = "Möten") -> Activity:
    return Activity(row_number=n, name=f"A{n}", start=start, end=end, ring=ring, group=group)


def test_counts_add_up_and_parents_are_new_or_existing():
    """Rows are activities plus rejections; a year split adds items; parents the wheel has count
    as existing, others as new, each once."""
    ring_id, group_id, page_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    existing = Existing(rings={"ekonomi": ring_id}, groups={"möten": group_id}, pages={2026: page_id},
                        max_ring_order=0, max_page_order=1)
    rows = [act(2, date(2026, 3, 1), date(2026, 3, 2)),
            act(3, date(2026, 12, 20), date(2027, 1, 10), ring="IT"),
            Rejection(row_number=4, column="Startdatum", reason="Startdatum saknas", values=("x",))]
    result = review(ListSource(rows), existing)
    assert (result.rows, result.activities, result.rejected, result.items, result.split_items) == (3, 2, 1, 3, 1)
    assert (result.rings.new, result.rings.existing) == (1, 1)
    assert (result.groups.new, result.groups.existing) == (0, 1)
    assert (result.pages.new, result.pages.existing) == (1, 1)
    assert [(i.row, i.page_year, i.ring) for i in result.shown_items] == [(2, 2026, "Ekonomi"), (3, 2026, "IT"),
                                                                         (3, 2027, "IT")]
    assert [r.row_number for r in result.shown_rejections] == [4]
    # Only the item whose ring and group both exist can be a duplicate of one on the wheel.
    assert [(k.name, k.ring_id, k.group_id) for k in result.duplicate_keys] == [("a2", ring_id, group_id)]


def test_the_preview_plans_exactly_what_the_import_would_write():
    """For the same file, the preview's item and parent counts equal what the producer emits."""
    content = "Aktivitet;Start;Slut;Område;Kategori\n" + "".join(
        f"Möte {i};2025-{1 + i % 12:02d}-01;2026-01-{1 + i % 28:02d};Ring {i % 3};Grupp {i % 7}\n"
        for i in range(300)) + ";2025-01-01;;;\n"
    source = open_csv(content.encode(), file_name="plan.csv")
    result = review(source, Existing())
    chunks = []
    produce(source, Plan(existing=Existing(), wheel_id=uuid.uuid4(), job_id=None, chunk_rows=64), chunks.append)
    assert result.items == sum(c.items for c in chunks)
    assert result.rejected == sum(c.rejected for c in chunks) == 1
    assert result.rings.new == sum(len(c.new.rings) for c in chunks) == 3
    assert result.groups.new == sum(len(c.new.groups) for c in chunks) == 7
    assert result.pages.new == sum(len(c.new.pages) for c in chunks) == 2
    long = sum((date(2026, 1, 1 + i % 28) - date(2025, 1 + i % 12, 1)).days > LONG_ITEM_DAYS for i in range(300))
    assert result.warnings == tuple(chunks[-1].findings.warnings()) == (
        JobWarning(code="long_items", details={"count": long, "days": LONG_ITEM_DAYS}),)
    assert 0 < long < 300


def test_only_the_first_items_and_rejections_are_shown():
    """A large file shows MAX_SHOWN items and rejections; its counts cover every row."""
    rows = [act(i, date(2026, 1, 1 + i % 28), date(2026, 1, 1 + i % 28)) for i in range(2, 400)]
    rows += [Rejection(row_number=i, column=None, reason="Namn saknas") for i in range(400, 700)]
    result = review(ListSource(rows), Existing())
    assert len(result.shown_items) == len(result.shown_rejections) == MAX_SHOWN
    assert (result.activities, result.rejected) == (398, 300)


def test_a_budget_stops_reading_and_says_sampled():
    """Past its time budget the review stops at a clock check and its counts are of the rows read."""
    rows = [act(i, date(2026, 2, 1), date(2026, 2, 2)) for i in range(5000)]
    ticks = iter(range(10_000))
    result = review(ListSource(rows), Existing(), budget_seconds=1.5, clock=lambda: float(next(ticks)))
    assert result.sampled and result.rows == 2048


def test_findings_warn_about_long_items_and_one_shared_date():
    """Items over LONG_ITEM_DAYS and a file whose every activity has the same dates are warned of;
    a single activity is not 'all on one date', and the source's own warnings come first."""
    same = [act(i, date(2026, 5, 1), date(2026, 5, 1)) for i in range(2, 6)]
    source = ListSource(same, warnings=[JobWarning(code="other_sheets", details={"sheets": ["B"], "sheet": "A"})])
    assert [w.code for w in review(source, Existing()).warnings] == ["other_sheets", "same_dates"]
    assert review(ListSource(same[:1]), Existing()).warnings == ()
    long = [act(2, date(2025, 1, 1), date(2026, 3, 1)), act(3, date(2026, 1, 1), date(2026, 1, 2))]
    assert review(ListSource(long), Existing()).warnings == (
        JobWarning(code="long_items", details={"count": 1, "days": LONG_ITEM_DAYS}),)
    findings = Findings()
    findings.see(date(2026, 1, 1), date(2026, 1, 1))
    findings.see(date(2026, 1, 1), date(2026, 1, 1))
    assert [w.details for w in findings.warnings()] == [{"date": "2026-01-01"}]
