"""How a table's date columns are read: the first pass over its rows settles each D/M/Y
column's order (the data, a known layout, the request, or the default) and says so when it was
assumed (date_order_assumed)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import attrs

from importer.model import JobWarning
from importer.read import dates
from importer.read import text as reading
from importer.read.calendar import layout_day_first
from importer.read.dates import DateColumn
from importer.read.layout import Layout, no_data, row_builder, undecided_columns
from importer.read.rows import RowBuilder

#: The values of `date_order` (API.md): which part of a D/M/Y date comes first.
DATE_ORDERS = {"day_first": True, "month_first": False}


@attrs.frozen(kw_only=True)
class DateOrder:
    """How one date column's D/M/Y values are read, and why: `source` is "request" (the
    person's date_order), "data" (a value that reads one way only, or no D/M/Y value at all),
    "layout" (a known export's order: calendar.layout_day_first) or "default" (day-first, as
    Swedish files are). `ambiguous` counts the values that read both ways; `example` is one."""

    day_first: bool
    source: str
    ambiguous: int = 0
    example: str | None = None

    @property
    def name(self) -> str:
        """"day_first" or "month_first", as `date_order` names it."""
        return "day_first" if self.day_first else "month_first"


@attrs.frozen(kw_only=True)
class FirstPass:
    """What one pass over a table's data rows decided, before any row is read for good: how
    many rows are not blank, each date column's order, the warnings about them, and the
    RowBuilder that reads the rows with those orders."""

    count: int
    start: DateOrder | None
    end: DateOrder | None
    warnings: tuple[JobWarning, ...]
    builder: RowBuilder

    @property
    def date_order(self) -> str | None:
        """How the start column's D/M/Y dates are read ("day_first"/"month_first"; None
        without a date column)."""
        shown = self.start or self.end
        return shown.name if shown else None

    @property
    def date_order_source(self) -> str | None:
        shown = self.start or self.end
        return shown.source if shown else None


def first_pass(layout: Layout, data_records: Callable[[], Iterable[tuple[int, list[str]]]],
               count: Callable[[], int], *, date_order: str | None, default_year: int | None,
               check_text: bool = False) -> FirstPass:
    """The first pass of every table reader (CSV here, workbooks in spreadsheet.py): the
    records below the header are read whole only when a date column's order is still open
    (settle_orders), else `count` counts the rows its own cheaper way. `date_order` (the
    request's; ValueError for another value than DATE_ORDERS') overrides the data's.
    `check_text`: the builder rejects rows whose text Postgres cannot store (validate.Rules).
    Raises UnreadableFile(no_data_rows) for a table without a row."""
    requested = requested_order(date_order)
    if requested is None and undecided_columns(layout):
        rows, start, end = settle_orders(layout, data_records())
    else:
        rows, (start, end) = count(), decide_orders(layout, requested)
    if rows == 0:
        raise no_data()
    return FirstPass(count=rows, start=start, end=end,
                     warnings=date_order_warnings(layout, start, end, default_year),
                     builder=row_builder(layout, start is None or start.day_first,
                                         end is None or end.day_first, default_year, check_text=check_text))


def requested_order(date_order: str | None) -> bool | None:
    """True for "day_first", False for "month_first", None for no choice; ValueError else."""
    if date_order is None:
        return None
    if date_order not in DATE_ORDERS:
        raise ValueError(f"date_order must be one of {sorted(DATE_ORDERS)}, not {date_order!r}")
    return DATE_ORDERS[date_order]


def settle(layout: Layout, records: Iterable[tuple[int, list[str]]]) -> tuple[int, bool, bool]:
    """`settle_orders` as a row count and each date column's day-first verdict."""
    count, start, end = settle_orders(layout, records)
    return count, start is None or start.day_first, end is None or end.day_first


def settle_orders(layout: Layout, records: Iterable[tuple[int, list[str]]]
                  ) -> tuple[int, DateOrder | None, DateOrder | None]:
    """One pass over a table's data records (those after the header): how many are not blank,
    and each date column's order, settled on the whole column where the sample left it open
    (the decision is for the column, never row by row; see `decide_orders`)."""
    undecided = undecided_columns(layout)
    evidence: dict[int, bool | None] = dict.fromkeys(undecided)
    ambiguous = dict.fromkeys(undecided, 0)
    examples: dict[int, str] = {}
    count = 0
    is_blank = reading.is_blank
    if not undecided:
        return (count_rows(records), *decide_orders(layout, None))
    for _, cells in records:
        if is_blank(cells):
            continue
        count += 1
        for index in undecided:
            # Day-first proof is final; month-first proof holds until contradicted (a
            # column with both is Swedish with typos, as decide_day_first rules).
            if evidence[index] is not True and index < len(cells):
                found = dates.decide_day_first((cells[index],))
                if found is not None:
                    evidence[index] = found or evidence[index] or False
                elif evidence[index] is None and _reads_both_ways(cells[index]):
                    ambiguous[index] += 1
                    if index not in examples and _readable(cells[index]):
                        examples[index] = cells[index].strip()
    return (count, *decide_orders(layout, None, evidence, ambiguous, examples))


def count_rows(records: Iterable[tuple[int, list[str]]]) -> int:
    """How many records are not blank."""
    count = 0
    is_blank = reading.is_blank
    for _, cells in records:
        # A first cell with any visible character settles it without a call.
        # A NUL is blank (text.BLANK) but not space: a first cell holding one goes to is_blank.
        if cells and (((first := cells[0]) and not first.isspace() and "\x00" not in first)
                      or not is_blank(cells)):
            count += 1
    return count


def decide_orders(layout: Layout, requested: bool | None, evidence: dict[int, bool | None] | None = None,
                  ambiguous: dict[int, int] | None = None, examples: dict[int, str] | None = None,
                  ) -> tuple[DateOrder | None, DateOrder | None]:
    """The order of the start and end columns (None: no such column): the request's, else the
    data's (the sample's verdict, else the whole column's `evidence`). Start and end columns
    of one file are written alike: one decided column settles the other. With nothing
    decided, the layout's order (calendar.layout_day_first), else Swedish day-first; such a
    column carries its `ambiguous` count and an `example` for date_order_assumed."""
    starts, ends = layout.columns.start, layout.columns.end
    evidence = evidence or {}

    def of(index: int | None, sampled: bool | None) -> DateOrder | None:
        if index is None:
            return None
        if requested is not None:
            return DateOrder(day_first=requested, source="request")
        found = sampled if sampled is not None else evidence.get(index)
        return None if found is None else DateOrder(day_first=found, source="data")

    start, end = of(starts, layout.day_first_start), of(ends, layout.day_first_end)
    if start is None and end is not None:
        start = of(starts, end.day_first)
    if end is None and start is not None:
        end = of(ends, start.day_first)
    if start is None and end is None:
        by_layout = layout_day_first(layout.columns.calendar)
        source = "default" if by_layout is None else "layout"
        start, end = (
            None if index is None else DateOrder(
                day_first=by_layout is not False, source=source,
                ambiguous=(ambiguous or {}).get(index, 0), example=(examples or {}).get(index))
            for index in (starts, ends))
    return start, end


def date_order_warnings(layout: Layout, start: DateOrder | None, end: DateOrder | None,
                        default_year: int | None) -> tuple[JobWarning, ...]:
    """A date_order_assumed warning for each date column whose every D/M/Y value reads both
    ways and whose order was therefore taken from the layout or the default, with the evidence:
    how many values, one of them (`example`) and the day it was read as (`read_as`)."""
    warnings = []
    for index, order in ((layout.columns.start, start), (layout.columns.end, end)):
        if index is None or order is None or order.source not in ("layout", "default") or not order.example:
            continue
        read_as = DateColumn(day_first=order.day_first, default_year=default_year).parse(order.example)
        warnings.append(JobWarning(code="date_order_assumed", details={
            "column": layout.columns.headers[index], "ambiguous": order.ambiguous,
            "order": order.name, "source": order.source, "example": order.example,
            "read_as": read_as.isoformat()}))
    return tuple(warnings)


def _reads_both_ways(cell: str) -> bool:
    """A D/M/Y value whose first two parts are different numbers of 1..12 (01/02/2026)."""
    parts = dates.numeric_parts(cell)
    return parts is not None and parts[0] != parts[1] and 0 < parts[0] <= 12 and 0 < parts[1] <= 12


def _readable(cell: str) -> bool:
    try:
        DateColumn().parse(cell)
    except dates.DateError:
        return False
    return True
