"""The rules for one activity, whatever the source: cells in, an Activity or a Rejection out.

"Parse at the edge, compute in the middle": a source (the CSV reader, the structured JSON
body) finds a row's cells and hands their text here, with the DateColumn that reads each
date column (its day/month order and serials are decided per column by the source). What
makes a row an activity is decided here, once:

- the name is required and at most MAX_NAME characters (rejected, never cut: a cut name
  would silently become another activity);
- the start is required and readable, the end readable when given (no end: a one-day item),
  the end not before the start, and the whole span at most MAX_SPAN_YEARS; an exclusive end
  (a calendar's all-day event, which ends at 00:00 of the next day) later than the start
  gives the day before as the last day;
- ring, group and label are at most MAX_PARENT_NAME characters (rejected, never cut);
- the description is cut at MAX_DESCRIPTION characters with a visible marker;
- names, parents and the description are trimmed; an empty one is None;
- a rejection keeps the row's raw cells, each cut at MAX_CELL, for errors.csv;
- with `check_text`, a row whose text Postgres cannot store (NUL, a lone surrogate:
  importer/storable.py) is rejected first, its raw cells made storable for errors.csv.

Reasons are Swedish, from importer.messages. Pure: no I/O, no state changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Generic, TypeVar

import attrs

from importer.messages import render
from importer.model import Activity, Rejection, Row
from importer.read.construct import positional
from importer.read.dates import MAX_YEAR, MIN_YEAR, DateColumn, DateError
from importer.storable import storable_text

# The schema's CHECKs (schema/0001.domain.sql): items_name_length, wheel_rings_/
# activity_groups_/labels_name_length, items_description_length. Checked here first, so a bad
# row is one rejection instead of a failed COPY.
MAX_NAME = 200
MAX_PARENT_NAME = 100
MAX_DESCRIPTION = 10_000
MAX_CELL = 10_000  # raw cells kept in a rejection are cut here, so errors.csv stays sane
MAX_QUOTED = 100  # an unreadable date is quoted in its reason up to this length
MAX_SPAN_YEARS = 10
#: What ends a text cut by `cap`: a visible marker, so nobody takes it for the whole text.
TRUNCATED = " […]"

_fromisoformat = date.fromisoformat
_SURROGATE = re.compile("[\ud800-\udfff]").search
_activity = positional(Activity)
_ONE_DAY = timedelta(days=1)
#: A row as its source read it (a CSV record, a JSON item): handed through to `cells_of`.
R = TypeVar("R")


#: What makes a spreadsheet run a cell as a formula (OWASP, "CSV injection"): errors.csv writes
#: such a cell with a leading apostrophe, which `unquote` takes off when the corrected file
#: comes back (server/views/jobs.py; columns.ColumnMap.corrected tells such a file). Any other
#: file keeps its cells exactly as written.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def unquote(text: str) -> str:
    """A cell errors.csv neutralised ("'=x"), as it was ("=x"); any other text as it is."""
    if text[:1] == "'" and len(text) > 1 and text[1] in FORMULA_START:
        return text[1:]
    return text


def cap(text: str, limit: int = MAX_CELL) -> str:
    """`text` if it has at most `limit` characters, else its start and TRUNCATED, `limit`
    characters in all (`limit` must exceed len(TRUNCATED))."""
    return text if len(text) <= limit else text[: limit - len(TRUNCATED)] + TRUNCATED


def spans_too_long(start: date, end: date) -> bool:
    """Whether `end` is later than the same day MAX_SPAN_YEARS years after `start`.

    The one statement of the rule: 2020-01-01..2030-01-01 is allowed, ..2030-01-02 is not. A
    29 February start is measured to 28 February: 2024-02-29..2034-02-28 is allowed,
    ..2034-03-01 is not.
    """
    years = end.year - start.year
    return years >= MAX_SPAN_YEARS and (
        years > MAX_SPAN_YEARS or (end.month, end.day) > (start.month, start.day))


@attrs.frozen(kw_only=True)
class Blame:
    """What a rejection names as its `column` for each field of a source: the header of the
    cell (CSV) or the JSON field ("startDate"). None: the source has no such place."""

    name: str | None = None
    start: str | None = None
    end: str | None = None
    ring: str | None = None
    group: str | None = None
    label: str | None = None


class Rules(Generic[R]):
    """The validation of one source's rows: its Blame, its date columns and how a rejection
    gets the raw cells of a row, fixed up front.

    `start_dates`/`end_dates` read the start and end cells (`end_dates` defaults to
    `start_dates`). With `ranges` a date cell may hold a whole range (`2025-01-01 – 2025-03-31`,
    `20250101-20251231`): in the start cell it gives start and end, in the end cell its last
    day is the end. Without it each cell is one date (the JSON form's startDate/endDate).
    `cells_of(raw)` gives the raw cells a rejection keeps; it runs only for rejected rows.
    `check_text` is for sources whose text may hold what Postgres cannot store (a JSON body,
    with a NUL or a lone surrogate escaped; a workbook's text cell, with a NUL: calamine gives
    valid UTF-8, so a workbook passes `check_surrogates=False` and skips that search; decoded
    CSV holding a stray NUL byte, which importer/read/text.py keeps: `has_stray_nul`). Other
    CSV cannot (undecodable bytes are replaced while decoding), so its hot path does not pay
    the check.
    """

    __slots__ = ("blame", "cells_of", "check_surrogates", "check_text", "end_dates", "ranges", "start_dates",
                 "unquote")

    def __init__(self, blame: Blame, *, start_dates: DateColumn, end_dates: DateColumn | None = None,
                 ranges: bool = False, cells_of: Callable[[R], Sequence[str]], unquote: bool = False,
                 check_text: bool = False, check_surrogates: bool = True):
        self.blame = blame
        self.check_text = check_text
        self.check_surrogates = check_surrogates
        #: The file is a corrected errors.csv: its formula-like cells carry our apostrophe.
        self.unquote = unquote
        self.start_dates = start_dates
        self.end_dates = end_dates or start_dates
        self.ranges = ranges
        self.cells_of = cells_of

    def validate(self, row_number: int, name: str, raw_start: str, raw_end: str,
                 ring: str | None, group: str | None, label: str | None,
                 description: str | None, raw: R, exclusive_end: bool = False) -> Row:
        """An Activity for a row that follows the rules, else a Rejection naming the first
        broken rule (in the order of the module docstring), its Blame and the row's raw
        cells (`cells_of(raw)`), each capped.

        Texts are as the source found them (this trims them); "" or None is an empty cell.
        `exclusive_end` says the end is the first day after the event (RFC 5545 section
        3.6.1: an all-day event's DTEND is exclusive; Outlook and Google exports write it as
        the next day at 00:00): an end later than the start then ends the day before.
        Never raises for any cell text.
        """
        if self.check_text:
            # One scan of all the row's text first (a NUL search, and a surrogate search only
            # for text that is not ASCII): the rare row that fails is then looked at field by field.
            joined = f"{name}{raw_start}{raw_end}{ring or ''}{group or ''}{label or ''}{description or ''}"
            if "\x00" in joined or (self.check_surrogates and not joined.isascii() and _SURROGATE(joined)):
                blamed = self._unstorable(name, raw_start, raw_end, ring, group, label, description)
                return self._reject(row_number, raw, blamed, render("row.text_not_storable"))
        name = name.strip()
        quoted = self.unquote
        if quoted:
            name = unquote(name)
        if not name:
            return self._reject(row_number, raw, self.blame.name, render("row.name_missing"))
        if len(name) > MAX_NAME:
            return self._reject(row_number, raw, self.blame.name,
                                render("row.name_too_long", limit=MAX_NAME, length=len(name)))
        end = None
        try:
            if len(raw_start) == 10 and raw_start[4] == "-" and raw_start[7] == "-":
                # The hot path: an ISO date, no range, no whitespace.
                start = _fromisoformat(raw_start)
                if not MIN_YEAR <= start.year <= MAX_YEAR:
                    start = self.start_dates.parse(raw_start)  # raises with the reason
            elif self.ranges:
                start, end = self.start_dates.parse_range(raw_start)
            else:
                start = self.start_dates.parse(raw_start)
        except ValueError as exc:
            if not raw_start.strip():
                reason = render("row.start_missing")
            else:
                reason = _unreadable(raw_start, exc, "row.start_invalid", "row.start_invalid_because")
            return self._reject(row_number, raw, self.blame.start, reason)
        from_end_cell = False  # the end is to blame where it came from
        if raw_end:
            try:
                if len(raw_end) == 10 and raw_end[4] == "-" and raw_end[7] == "-":
                    end = _fromisoformat(raw_end)
                    if not MIN_YEAR <= end.year <= MAX_YEAR:
                        end = self.end_dates.parse(raw_end)
                elif raw_end.strip():
                    end = self._end_of(raw_end)
            except ValueError as exc:
                return self._reject(row_number, raw, self.blame.end,
                                    _unreadable(raw_end, exc, "row.end_invalid",
                                                "row.end_invalid_because"))
            from_end_cell = True
        if exclusive_end and end is not None and end > start:
            end -= _ONE_DAY
        if end is None:
            end = start
        elif end < start:
            return self._reject(row_number, raw, self._end_blame(from_end_cell),
                                render("row.end_before_start"))
        # The year test only spares nearly every row the call; spans_too_long is the rule.
        elif end.year - start.year >= MAX_SPAN_YEARS and spans_too_long(start, end):
            return self._reject(row_number, raw, self._end_blame(from_end_cell),
                                render("row.span_too_long", years=MAX_SPAN_YEARS))
        if ring:
            ring = (unquote(ring.strip()) if quoted else ring.strip()) or None
            if ring is not None and len(ring) > MAX_PARENT_NAME:
                return self._too_long(row_number, raw, self.blame.ring, ring)
        else:
            ring = None
        if group:
            group = (unquote(group.strip()) if quoted else group.strip()) or None
            if group is not None and len(group) > MAX_PARENT_NAME:
                return self._too_long(row_number, raw, self.blame.group, group)
        else:
            group = None
        if label:
            label = (unquote(label.strip()) if quoted else label.strip()) or None
            if label is not None and len(label) > MAX_PARENT_NAME:
                return self._too_long(row_number, raw, self.blame.label, label)
        else:
            label = None
        if description:
            description = (unquote(description.strip()) if quoted else description.strip()) or None
            if description is not None and len(description) > MAX_DESCRIPTION:
                description = cap(description, MAX_DESCRIPTION)
        else:
            description = None
        return _activity(row_number, name, start, end, ring, group, label, description)

    def _end_blame(self, from_end_cell: bool) -> str | None:
        return self.blame.end if from_end_cell else self.blame.start

    def _end_of(self, raw: str) -> date:
        if not self.ranges:
            return self.end_dates.parse(raw)
        # An end cell holding a range means its last day.
        start, end = self.end_dates.parse_range(raw)
        return end or start

    def _too_long(self, row_number: int, raw: R, column: str | None, value: str) -> Rejection:
        return self._reject(row_number, raw, column, render(
            "row.parent_too_long", column=column, limit=MAX_PARENT_NAME, length=len(value)))

    def _unstorable(self, name: str, start: str, end: str, ring: str | None, group: str | None,
                    label: str | None, description: str | None) -> str | None:
        """The Blame of the first field whose text cannot be stored (None: the description,
        or a field the source has no place for)."""
        blame = self.blame
        for text, column in ((name, blame.name), (start, blame.start), (end, blame.end),
                             (ring, blame.ring), (group, blame.group), (label, blame.label)):
            if text and not storable_text(text):
                return column
        return None

    def _reject(self, row_number: int, raw: R, column: str | None, reason: str) -> Rejection:
        values = tuple(cap(v) for v in self.cells_of(raw))
        if self.check_text:
            values = tuple(map(_storable, values))
        return Rejection(row_number=row_number, column=column, reason=reason, values=values)


def _storable(text: str) -> str:
    """`text` as errors.csv can hold it: NUL dropped, a lone surrogate as U+FFFD."""
    if storable_text(text):
        return text
    return "".join("\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char for char in text.replace("\x00", ""))


def _unreadable(raw: str, exc: ValueError, key: str, key_because: str) -> str:
    """The reason for an unreadable date cell: the cell quoted (`key`), and why when the
    DateColumn knows more than "not a date", a year out of range or missing (`key_because`)."""
    value = cap(raw.strip(), MAX_QUOTED)
    if not isinstance(exc, DateError) or exc.key == "date.invalid":
        return render(key, value=value)
    return render(key_because, value=value, detail=str(exc))
