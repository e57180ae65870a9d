"""The producer: a source's rows cut into chunks of planned, encoded items, parents first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from uuid import UUID

import attrs

from importer.load.produce import Chunk, Plan, produce
from importer.model import Activity, Declared, Existing, Rejection, Row

WHEEL = UUID(int=1)
JOB = UUID(int=2)


@attrs.define
class ListSource:
    """A Source over rows in memory."""

    rows: list[Row]
    file_name: str = "in-memory.csv"
    declared: Declared = attrs.field(factory=Declared)

    @property
    def total_rows(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)


def act(n: int, *, start: date = date(2026, 3, 1), end: date = date(2026, 3, 2), **kw: str) -> Activity:
    return Activity(row_number=n, name=f"row {n}", start=start, end=end, **kw)


def bad(n: int) -> Rejection:
    return Rejection(row_number=n, column="Start", reason="Datum saknas")


def run(rows: list[Row], *, existing: Existing | None = None, chunk_rows: int = 5000,
        max_rejections: int = 10_000) -> list[Chunk]:
    chunks: list[Chunk] = []
    plan = Plan(existing=existing or Existing(), wheel_id=WHEEL, job_id=JOB, chunk_rows=chunk_rows,
                max_rejections=max_rejections)
    produce(ListSource(rows), plan, chunks.append)
    return chunks


def items_of(chunk: Chunk) -> list[dict[str, str]]:
    """The COPY text of a chunk, one dict per item (the columns of ItemEncoder)."""
    fields = ("wheel_id", "page_id", "ring_id", "group_id", "label_id", "name", "start", "end",
              "description", "cross_year_group_id", "job_id")
    lines = chunk.copy_data.decode("utf-8").splitlines()
    return [dict(zip(fields, line.split("\t"), strict=True)) for line in lines]


def test_rows_are_cut_into_chunks_of_chunk_rows_with_their_own_counts():
    """Every chunk but the last holds exactly `chunk_rows` rows, and its counts are its own rows'."""
    rows: list[Row] = [act(2), bad(3), act(4), act(5), bad(6), act(7), act(8)]
    chunks = run(rows, chunk_rows=3)
    assert [c.rows for c in chunks] == [3, 3, 1]
    assert [(c.activities, c.rejected, c.items) for c in chunks] == [(2, 1, 2), (2, 1, 2), (1, 0, 1)]
    assert [len(items_of(c)) for c in chunks] == [c.items for c in chunks]


def test_a_source_that_fills_its_last_chunk_exactly_gives_no_empty_chunk_after_it():
    """Six rows in chunks of three are two chunks, not two and an empty one."""
    chunks = run([act(n) for n in range(2, 8)], chunk_rows=3)
    assert [c.rows for c in chunks] == [3, 3]


def test_a_source_without_rows_still_gives_one_empty_chunk():
    """Zero rows give exactly one chunk, with nothing in it, so that the loader always sees an end."""
    (chunk,) = run([])
    assert (chunk.rows, chunk.activities, chunk.rejected, chunk.items) == (0, 0, 0, 0)
    assert chunk.copy_data == b"" and chunk.rejections == () and not chunk.new


def test_items_and_rejections_keep_the_file_order_across_chunks():
    """Items come out in the order of their rows, chunk after chunk, and so do the rejections."""
    rows: list[Row] = [act(n) if n % 3 else bad(n) for n in range(2, 22)]
    chunks = run(rows, chunk_rows=4)
    names = [item["name"] for c in chunks for item in items_of(c)]
    assert names == [f"row {r.row_number}" for r in rows if isinstance(r, Activity)]
    assert [r.row_number for c in chunks for r in c.rejections] == [r.row_number for r in rows
                                                                     if isinstance(r, Rejection)]


def test_rejections_beyond_the_cap_are_counted_but_not_kept():
    """Past `max_rejections` for the whole job, rejected rows still count but are not stored; the first ones are."""
    rows: list[Row] = [bad(n) for n in range(2, 9)] + [act(9)]
    chunks = run(rows, chunk_rows=3, max_rejections=4)
    assert sum(c.rejected for c in chunks) == 7
    assert [r.row_number for c in chunks for r in c.rejections] == [2, 3, 4, 5]
    assert [len(c.rejections) for c in chunks] == [3, 1, 0]


def test_items_refer_only_to_parents_created_in_their_chunk_or_before():
    """A chunk's items refer only to parents the wheel has or that it or an earlier chunk creates, each once."""
    ring = UUID(int=10)
    existing = Existing(rings={"ekonomi": ring}, max_ring_order=0)
    rows: list[Row] = [
        act(2, ring="Ekonomi", group="Bokslut"),
        act(3, ring="Personal", group="Lön", label="Anna"),
        act(4, ring="Ekonomi", group="Lön", start=date(2026, 12, 20), end=date(2027, 1, 10)),
        act(5, ring="Personal", group="Bokslut", label="Anna", start=date(2028, 5, 1), end=date(2028, 5, 1)),
        act(6, group="Ny grupp", label="Per"),
    ]
    chunks = run(rows, existing=existing, chunk_rows=2)
    known = {str(ring)}
    created: list[UUID] = []
    for chunk in chunks:
        new = [*chunk.new.rings, *chunk.new.groups, *chunk.new.labels, *chunk.new.pages]
        created += [p.id for p in new]
        known |= {str(p.id) for p in new}
        for item in items_of(chunk):
            needed = {item["page_id"], item["ring_id"], item["group_id"]}
            if item["label_id"] != "\\N":
                needed.add(item["label_id"])
            assert needed <= known, item
    assert len(created) == len(set(created))
    assert sorted(p.year for c in chunks for p in c.new.pages) == [2026, 2027, 2028]
    assert sum(c.items for c in chunks) == 6  # the item across new year is two
    assert ring not in created
