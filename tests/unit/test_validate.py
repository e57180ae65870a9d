"""The one validation of an activity: the same rules and reasons for the CSV and the JSON form."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.model import Activity, Rejection
from importer.read.csv_source import open_csv
from importer.read.dates import DateColumn
from importer.read.structured import parse_payload
from importer.read.validate import (
    MAX_CELL,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_SPAN_YEARS,
    TRUNCATED,
    Blame,
    Rules,
    cap,
    spans_too_long,
)

SPAN_REASON = "Aktiviteten spänner över mer än 10 år"


@st.composite
def near_the_span_boundary(draw):
    # Ends a few days either side of start + 10 years; Feb 29 starts and ends included.
    start = draw(st.dates(date(1900, 1, 1), date(2089, 12, 31))
                 | st.sampled_from([date(2000, 2, 29), date(2024, 2, 29), date(2020, 2, 28)]))
    target = date(start.year + 10, start.month, min(start.day, 28))
    end = target + timedelta(days=draw(st.integers(-3, 4)))
    return start, end


@settings(max_examples=100, deadline=None)
@given(st.lists(near_the_span_boundary(), min_size=1, max_size=20))
def test_csv_and_json_sources_agree_on_the_span_boundary(pairs):
    """The CSV and the JSON source reject exactly the same start/end pairs as longer than 10
    years, with the same reason."""
    csv_text = "Aktivitet,Startdatum,Slutdatum\n" + "".join(
        f"A{i},{s.isoformat()},{e.isoformat()}\n" for i, (s, e) in enumerate(pairs))
    from_csv = list(open_csv(csv_text.encode(), file_name="t.csv"))
    _, _, source = parse_payload({"pages": [{"items": [
        {"name": f"A{i}", "startDate": s.isoformat(), "endDate": e.isoformat()}
        for i, (s, e) in enumerate(pairs)]}]})
    from_json = list(source)

    def spans(rows):
        return [isinstance(r, Rejection) and r.reason == SPAN_REASON for r in rows]

    assert spans(from_csv) == spans(from_json)
    for (start, end), too_long in zip(pairs, spans(from_csv), strict=True):
        # The independent statement of the rule: end later than the same day 10 years on.
        assert too_long == ((end.year - 10, end.month, end.day) > (start.year, start.month, start.day))


DAY = DateColumn(day_first=True)
CSV_RULES = Rules(Blame(name="Aktivitet", start="Start", end="Slut", ring="Ring", group="Grupp",
                        label="Etikett"), start_dates=DAY, ranges=True, cells_of=tuple)
JSON_RULES = Rules(Blame(name="name", start="startDate", end="endDate"), start_dates=DAY,
                   cells_of=tuple)


def check(rules, name="Möte", start="2026-01-01", end="", ring=None, group=None, label=None,
          description=None, values=("raw",)):
    return rules.validate(7, name, start, end, ring, group, label, description, values)


@pytest.mark.parametrize(
    ("start", "end", "too_long"),
    [
        (date(2020, 1, 1), date(2030, 1, 1), False),
        (date(2020, 1, 1), date(2030, 1, 2), True),
        (date(2020, 6, 15), date(2030, 6, 14), False),
        (date(2020, 6, 15), date(2031, 1, 1), True),
        (date(2024, 2, 29), date(2034, 2, 28), False),
        (date(2024, 2, 29), date(2034, 3, 1), True),
        (date(2020, 12, 31), date(2030, 12, 31), False),
    ],
)
def test_span_boundary_is_the_same_day_ten_years_on(start, end, too_long):
    """An activity may end on the same day 10 years after its start, not a day later."""
    assert spans_too_long(start, end) is too_long
    row = check(CSV_RULES, start=start.isoformat(), end=end.isoformat())
    if too_long:
        assert row == Rejection(row_number=7, column="Slut", reason=SPAN_REASON, values=("raw",))
    else:
        assert isinstance(row, Activity) and (row.start, row.end) == (start, end)


@settings(max_examples=300, deadline=None)
@given(st.dates(date(1900, 1, 1), date(2100, 12, 31)), st.dates(date(1900, 1, 1), date(2100, 12, 31)))
def test_span_rule_matches_its_plain_statement(start, end):
    """spans_too_long is exactly "end later than the same day MAX_SPAN_YEARS years on"."""
    expected = (end.year - MAX_SPAN_YEARS, end.month, end.day) > (start.year, start.month, start.day)
    assert spans_too_long(start, end) is expected


@pytest.mark.parametrize(
    ("cells", "column", "reason"),
    [
        ({"name": "  "}, "Aktivitet", "Namn saknas"),
        ({"name": "n" * 201}, "Aktivitet", "Namnet är längre än 200 tecken (201)"),
        ({"start": " "}, "Start", "Startdatum saknas"),
        ({"start": "snart"}, "Start", "Ogiltigt startdatum: 'snart'"),
        ({"start": "2026-13-01"}, "Start", "Ogiltigt startdatum: '2026-13-01'"),
        ({"start": "1850-01-01"}, "Start",
         "Ogiltigt startdatum: '1850-01-01' (Årtalet 1850 är orimligt i '1850-01-01')"),
        ({"start": "3 maj"}, "Start", "Ogiltigt startdatum: '3 maj' (Årtal saknas i '3 maj')"),
        ({"end": "x"}, "Slut", "Ogiltigt slutdatum: 'x'"),
        ({"end": "2025-12-31"}, "Slut", "Slutdatum före startdatum"),
        ({"start": "2026-03-10 – 2026-03-01"}, "Start", "Slutdatum före startdatum"),
        ({"ring": "r" * 101}, "Ring", "Ring: namnet är längre än 100 tecken (101)"),
        ({"group": " " + "g" * 101}, "Grupp", "Grupp: namnet är längre än 100 tecken (101)"),
        ({"label": "l" * 101}, "Etikett", "Etikett: namnet är längre än 100 tecken (101)"),
    ],
)
def test_each_rule_rejects_with_its_reason_and_blame(cells, column, reason):
    """Each broken rule gives its Swedish reason and blames the source's name for the field
    (for end before start: the cell the end came from)."""
    row = check(CSV_RULES, **cells)
    assert isinstance(row, Rejection)
    assert (row.row_number, row.column, row.reason) == (7, column, reason)


def test_rules_apply_in_order():
    """A row breaking several rules is rejected for the first: name, then dates, then parents."""
    row = check(CSV_RULES, name="", start="x", ring="r" * 101)
    assert row.reason == "Namn saknas"
    row = check(CSV_RULES, start="x", end="y", ring="r" * 101)
    assert row.reason == "Ogiltigt startdatum: 'x'"


def test_texts_are_trimmed_and_empty_ones_are_none():
    """Name, parents and description are trimmed; an empty or blank one is None."""
    row = check(CSV_RULES, name=" Möte ", ring=" R ", group="  ", label="", description=" d ")
    assert (row.name, row.ring, row.group, row.label, row.description) == ("Möte", "R", None, None, "d")


def test_missing_end_is_a_one_day_activity_and_ranges_depend_on_the_source():
    """No end gives a one-day activity; a range in a cell is read only where the source allows
    ranges (CSV), in a JSON field it is unreadable."""
    assert check(CSV_RULES).end == date(2026, 1, 1)
    row = check(CSV_RULES, start="20250101-20251231")
    assert (row.start, row.end) == (date(2025, 1, 1), date(2025, 12, 31))
    assert check(CSV_RULES, end="2026-02-01 – 2026-02-10").end == date(2026, 2, 10)
    row = check(JSON_RULES, start="20250101-20251231")
    assert (row.column, row.reason) == ("startDate", "Ogiltigt startdatum: '20250101-20251231'")


def test_description_is_cut_with_the_marker():
    """A description over MAX_DESCRIPTION characters is cut to exactly that, ending in the marker."""
    row = check(CSV_RULES, description="x" * 20_000)
    assert len(row.description) == MAX_DESCRIPTION and row.description.endswith(TRUNCATED)
    assert check(CSV_RULES, description="x" * MAX_DESCRIPTION).description == "x" * MAX_DESCRIPTION


def test_rejection_keeps_the_raw_values_capped():
    """A rejection keeps every raw value as given, each cut at MAX_CELL with the marker."""
    row = check(CSV_RULES, name="", values=(" a ", "b" * 20_000))
    assert row.values == (" a ", "b" * (MAX_CELL - len(TRUNCATED)) + TRUNCATED)


@pytest.mark.parametrize("limit", [60, MAX_CELL])
def test_cap_has_one_marker_and_keeps_the_length(limit):
    """cap leaves short texts alone and cuts long ones to exactly `limit` with TRUNCATED."""
    assert cap("x" * limit, limit) == "x" * limit
    cut = cap("x" * (limit + 1), limit)
    assert len(cut) == limit and cut.endswith(" […]")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30), st.text(max_size=30),
       st.none() | st.text(max_size=5), st.booleans())
def test_any_cells_give_an_activity_or_a_rejection(name, start, end, ring, ranges):
    """No cell text makes the validation raise; an Activity always satisfies every rule."""
    rules = CSV_RULES if ranges else JSON_RULES
    row = rules.validate(2, name, start, end, ring, None, None, None, (name, start, end))
    assert isinstance(row, Activity | Rejection)
    if isinstance(row, Activity):
        assert row.name == row.name.strip() and 0 < len(row.name) <= MAX_NAME
        assert row.start <= row.end and not spans_too_long(row.start, row.end)


def test_csv_and_json_give_the_same_reasons_for_the_same_cells():
    """The CSV and the JSON form reject the same item for the same reason, each blaming its own
    name for the field."""
    cases = [("", "2026-01-01", ""), ("A", "", ""), ("A", "1850-01-01", ""), ("A", "x", ""),
             ("A", "2026-01-02", "2026-01-01"), ("A", "2026-01-01", "2040-01-01"),
             ("A", "2026-01-01", "3 maj")]
    csv_text = "Aktivitet,Startdatum,Slutdatum\n" + "".join(f"{n},{s},{e}\n" for n, s, e in cases)
    from_csv = list(open_csv(csv_text.encode(), file_name="t.csv"))
    _, _, source = parse_payload({"pages": [{"items": [
        {"name": n, "startDate": s, "endDate": e} for n, s, e in cases]}]})
    from_json = list(source)
    assert [r.reason for r in from_csv] == [r.reason for r in from_json]
    assert all(isinstance(r, Rejection) for r in from_csv)
    names = {"Aktivitet": "name", "Startdatum": "startDate", "Slutdatum": "endDate"}
    assert [names[r.column] for r in from_csv] == [r.column for r in from_json]


def _rules() -> Rules[list[str]]:
    return Rules(Blame(name="Aktivitet", start="Start", end="Slut"), start_dates=DateColumn(),
                 cells_of=list)


@pytest.mark.parametrize(
    ("start", "end", "expected_end"),
    [("2026-04-21", "2026-04-22", date(2026, 4, 21)),   # a one-day all-day event
     ("2026-09-14", "2026-09-17", date(2026, 9, 16)),   # three days
     ("2026-06-06", "2026-06-06", date(2026, 6, 6)),    # an end on the start day stays
     ("2026-06-06", "", date(2026, 6, 6))],             # no end: a one-day item
)
def test_an_exclusive_end_later_than_the_start_ends_the_day_before(start, end, expected_end):
    """With exclusive_end, an end later than the start gives the day before as the last day;
    an end on the start day and a missing end are left alone."""
    row = _rules().validate(2, "Konferens", start, end, None, None, None, None, [], True)
    assert isinstance(row, Activity)
    assert (row.start, row.end) == (date.fromisoformat(start), expected_end)


def test_without_exclusive_end_the_end_is_the_last_day():
    """By default the end cell is the last day of the activity."""
    row = _rules().validate(2, "Konferens", "2026-09-14", "2026-09-17", None, None, None, None, [])
    assert isinstance(row, Activity) and row.end == date(2026, 9, 17)


def test_an_exclusive_end_before_the_start_is_still_rejected():
    """An exclusive end before the start is rejected as end before start, not moved."""
    row = _rules().validate(2, "Konferens", "2026-09-14", "2026-09-13", None, None, None, None, [], True)
    assert isinstance(row, Rejection) and row.reason == "Slutdatum före startdatum"
