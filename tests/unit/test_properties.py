"""Properties: no input crashes the reader, and any well-formed CSV round-trips exactly to its
activities and, through the Planner, to items that cover each activity exactly."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from importer.errors import BadRequest, UnreadableFile
from importer.model import Activity, Existing, Rejection
from importer.read.csv_source import open_csv, sniff
from importer.read.dates import DateColumn, DateError
from importer.read.planning import Planner
from importer.read.structured import parse_payload

HEADER = ["Aktivitet", "Startdatum", "Slutdatum", "Ring", "Aktivitetsgrupp", "Etikett",
          "Beskrivning"]
ALPHABET = "abcXYZåäöÅÄÖé 0123456789,;\t\"'\n-–/.:"
FORMATS = {
    "iso": lambda d: d.isoformat(),
    "compact": lambda d: d.strftime("%Y%m%d"),
    "slash": lambda d: f"{d.day}/{d.month}/{d.year}",
    "dotted": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
}


def trimmed(max_size: int):
    return st.text(ALPHABET, min_size=1, max_size=max_size).map(str.strip).filter(bool)


@st.composite
def activities(draw):
    start = draw(st.dates(date(1995, 1, 1), date(2090, 12, 31)))
    end = start + timedelta(days=draw(st.integers(0, 1100)))
    return {
        "name": draw(trimmed(40)),
        "start": start,
        "end": end,
        "ring": draw(st.none() | trimmed(20)),
        "group": draw(st.none() | trimmed(20)),
        "label": draw(st.none() | trimmed(20)),
        "description": draw(st.none() | trimmed(60)),
    }


@st.composite
def files(draw):
    rows = draw(st.lists(activities(), min_size=1, max_size=30))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    line_end = draw(st.sampled_from(["\n", "\r\n"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([row["name"], FORMATS[fmt](row["start"]), FORMATS[fmt](row["end"]),
                         row["ring"] or "", row["group"] or "", row["label"] or "",
                         row["description"] or ""])
    data = out.getvalue().encode(encoding)
    # Windows-1252 bytes that also happen to be valid UTF-8 ("Ä–" is \xc4\x96, which UTF-8
    # reads as "Ė") are read as UTF-8 by design; real Swedish text never forms such pairs.
    assume(encoding != "cp1252" or data.isascii() or not _valid_utf8(data))
    return rows, data


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600) | st.text(max_size=300).map(str.encode))
def test_random_bytes_yield_rows_or_unreadable(data):
    """Any bytes give rows (exactly total_rows of them) or UnreadableFile, nothing else."""
    for complete in (True, False):
        try:
            sniff(data, complete=complete)
        except UnreadableFile:
            pass
    try:
        source = open_csv(data, file_name="r.csv")
    except UnreadableFile:
        return
    rows = list(source)
    assert len(rows) == source.total_rows > 0
    assert all(isinstance(r, Activity | Rejection) for r in rows)


PIECES = [*',;\t"\r\n \x00\xa0', "2026-01-01", "1/2/2026", "20250101-20251231", "Möte", "x",
          "45731", "3 maj"]
JUNK = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["Aktivitet,Startdatum,Slutdatum\n", "Namn;Datum\r\n",
                        '"Subject","Start Date"\n', "\n\nTitel\tFrån\tTill\n"]),
       st.lists(JUNK, max_size=6), st.sampled_from(["utf-8", "cp1252", "utf-16"]))
def test_junk_under_a_real_header_counts_exactly(header, chunks, encoding):
    """Under a usable header any junk yields exactly total_rows rows (the byte count and
    the csv pass agree), each an Activity or a Rejection."""
    data = (header + "".join(chunks)).encode(encoding, errors="replace")
    try:
        source = open_csv(data, file_name="j.csv")
    except UnreadableFile:
        return
    rows = list(source)
    assert len(rows) == source.total_rows
    assert all(isinstance(r, Activity | Rejection) for r in rows)
    assert [r.row_number for r in rows] == sorted({r.row_number for r in rows})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_generated_csv_round_trips_to_activities_and_items(generated):
    """A csv.writer file of valid rows reads back to exactly those activities, and the
    Planner's items cover each activity's range exactly, split per year with one shared link."""
    expected, data = generated
    sniff(data[:65536], complete=len(data) <= 65536)
    source = open_csv(data, file_name="g.csv")
    rows = list(source)
    assert source.total_rows == len(expected)
    assert [(r.name, r.start, r.end, r.ring, r.group, r.label, r.description) for r in rows] == [
        (e["name"], e["start"], e["end"], e["ring"], e["group"], e["label"], e["description"])
        for e in expected]
    assert [r.row_number for r in rows] == list(range(2, len(expected) + 2))
    planner = Planner(Existing())
    page_of_year: dict[int, object] = {}
    for activity in rows:
        pieces = planner.place(activity)
        assert pieces[0].start == activity.start and pieces[-1].end == activity.end
        for before, after in itertools.pairwise(pieces):
            assert after.start == before.end + timedelta(days=1)
        for piece in pieces:
            assert piece.start.year == piece.end.year and piece.start <= piece.end
            assert page_of_year.setdefault(piece.start.year, piece.page_id) == piece.page_id
        links = {p.cross_year_group_id for p in pieces}
        assert len(links) == 1
        assert (links.pop() is None) == (len(pieces) == 1)
    new = planner.take_new()
    assert sorted(p.year for p in new.pages) == sorted(page_of_year)
    assert len({g.name.lower() for g in new.groups}) == len(new.groups)


DATE_PIECES = [*"0123456789/.-–: T,Z", " ", "mars", "jan.", "maj", "May", "2026", "99999999999"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(DATE_PIECES), max_size=12).map("".join), st.booleans(),
       st.booleans())
def test_date_cells_give_a_date_or_date_error(text, day_first, serials):
    """Any cell gives a date within 1900..2100 or DateError, never another exception."""
    column = DateColumn(day_first=day_first, serials=serials, default_year=2026)
    try:
        start, end = column.parse_range(text)
    except DateError:
        return
    assert 1900 <= start.year <= 2100
    assert end is None or 1900 <= end.year <= 2100


SCALARS = st.none() | st.booleans() | st.integers() | st.sampled_from(
    ["", "r1", "g1", "A", "2026-01-01", "2026-13-01", "inner", "outer", "#12AB34", "red"])
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(
                        ["id", "name", "type", "color", "items", "year", "startDate", "endDate",
                         "ringId", "activityId", "labelId"]), inner, max_size=5), max_leaves=25)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional={
    "importMode": st.sampled_from(["append", "replace", "x"]),
    "structure": st.fixed_dictionaries({}, optional={
        "rings": st.lists(st.fixed_dictionaries({"id": SCALARS, "name": SCALARS}, optional={
            "type": SCALARS, "color": SCALARS}), max_size=2),
        "activityGroups": JSON, "labels": JSON}),
    "pages": st.lists(st.fixed_dictionaries({}, optional={"year": SCALARS, "items": JSON}),
                      max_size=3),
}))
def test_any_json_payload_is_rows_or_a_clear_error(body):
    """Any JSON object gives rows, BadRequest or UnreadableFile, never another exception."""
    try:
        _, _, source = parse_payload(body)
    except (BadRequest, UnreadableFile):
        return
    rows = list(source)
    assert len(rows) == source.total_rows
    assert all(isinstance(r, Activity | Rejection) for r in rows)
