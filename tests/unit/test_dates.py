"""Date cells: every form people write, the column-wide order decision, and refusals."""

from __future__ import annotations

from datetime import date

import pytest

from importer.read.dates import DateColumn, DateError, decide_day_first, is_date, is_midnight, strip_time

D = date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-15", D(2026, 3, 15)),
        ("2026/03/15", D(2026, 3, 15)),
        ("2026.03.15", D(2026, 3, 15)),
        ("2026-3-5", D(2026, 3, 5)),
        ("20260315", D(2026, 3, 15)),
        ("15/03/2026", D(2026, 3, 15)),
        ("5/3/2026", D(2026, 3, 5)),
        ("15.03.2026", D(2026, 3, 15)),
        ("15-03-2026", D(2026, 3, 15)),
        ("15/03/26", D(2026, 3, 15)),
        ("1.2.99", D(1999, 2, 1)),
        ("3 mars 2026", D(2026, 3, 3)),
        ("15 jan 2026", D(2026, 1, 15)),
        ("15 jan. 2026", D(2026, 1, 15)),
        ("3. Maj 2026", D(2026, 5, 3)),
        ("1 okt 2025", D(2025, 10, 1)),
        ("March 3, 2026", D(2026, 3, 3)),
        ("Mar 3 2026", D(2026, 3, 3)),
        ("december 24th, 2026", D(2026, 12, 24)),
        ("2026-03-15 14:00", D(2026, 3, 15)),
        ("2026-03-15T14:00:00Z", D(2026, 3, 15)),
        ("2026-03-15T14:00:00+01:00", D(2026, 3, 15)),
        ("15/03/2026 09:00", D(2026, 3, 15)),
        ("  2026-03-15  ", D(2026, 3, 15)),
    ],
)
def test_reads_every_common_form(text, expected):
    """Each written form reads as the day a Swedish reader means."""
    assert DateColumn().parse(text) == expected


def test_month_first_column_reads_us_dates():
    """A column decided month-first reads 03/15/2026 and 3/4/2026 the US way."""
    column = DateColumn(day_first=False)
    assert column.parse("03/15/2026") == D(2026, 3, 15)
    assert column.parse("3/4/2026") == D(2026, 3, 4)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["01/02/2026", "13/02/2026"], True),
        (["01/02/2026", "02/13/2026"], False),
        (["01/02/2026", "03/04/2026"], None),
        (["2026-01-01", "x"], None),
        (["02/13/2026", "13/02/2026"], True),  # conflicting: Swedish order wins
    ],
)
def test_order_is_decided_from_the_column(values, expected):
    """A first part over 12 proves day-first, a second part over 12 month-first."""
    assert decide_day_first(values) is expected


def test_excel_serials_only_where_allowed():
    """Serial numbers are dates only in a column allowed to hold them, within 1..80000."""
    assert DateColumn(serials=True).parse("45731") == D(2025, 3, 15)
    assert DateColumn(serials=True).parse("45731,5") == D(2025, 3, 15)
    with pytest.raises(DateError):
        DateColumn().parse("45731")
    with pytest.raises(DateError):
        DateColumn(serials=True).parse("90000")
    with pytest.raises(DateError, match="årtal"):
        DateColumn(serials=True).parse("2026")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20250101-20251231", (D(2025, 1, 1), D(2025, 12, 31))),
        ("20250101 - 20251231", (D(2025, 1, 1), D(2025, 12, 31))),
        ("2025-01-01 – 2025-03-31", (D(2025, 1, 1), D(2025, 3, 31))),
        ("2025-01-01 - 2025-03-31", (D(2025, 1, 1), D(2025, 3, 31))),
        ("2025-01-01-2025-03-31", (D(2025, 1, 1), D(2025, 3, 31))),
        ("1/1/2025–31/3/2025", (D(2025, 1, 1), D(2025, 3, 31))),
        ("1 jan 2025 till 31 mars 2025", (D(2025, 1, 1), D(2025, 3, 31))),
        ("2025-06-01", (D(2025, 6, 1), None)),
        ("15-03-2026", (D(2026, 3, 15), None)),
    ],
)
def test_a_cell_may_hold_a_range(text, expected):
    """A whole range in one cell gives start and end; a single date gives no end."""
    assert DateColumn().parse_range(text) == expected


@pytest.mark.parametrize(
    "text",
    ["31/02/2026", "2026-02-30", "1850-01-01", "2101-01-01", "01/01/1899", "hello", "",
     "13/13/2026", "32 jan 2026", "3 smarch 2026", "2026-13-01", "1/2/203", "12345678"],
)
def test_unreadable_dates_are_refused_not_fixed(text):
    """Impossible days and years outside 1900..2100 raise DateError instead of being guessed."""
    with pytest.raises(DateError):
        DateColumn().parse(text)


def test_yearless_dates_need_a_default_year():
    """`3 maj` takes the default year when one is given, and is refused without one."""
    assert DateColumn(default_year=2026).parse("3 maj") == D(2026, 5, 3)
    with pytest.raises(DateError, match="Årtal saknas"):
        DateColumn().parse("3 maj")


def test_year_reason_is_specific():
    """A year out of range says so, rather than a generic 'invalid'."""
    with pytest.raises(DateError, match="1850"):
        DateColumn().parse("1850-01-01")


def test_strip_time_keeps_dates_that_look_like_times():
    """Only a real time tail is cut: dotted dates stay whole."""
    assert strip_time("15.03.2026") == "15.03.2026"
    assert strip_time("2026-03-15 09.30") == "2026-03-15"


def test_is_date_accepts_either_order():
    """Column sniffing counts 02/13/2026 as a date even though day-first cannot read it."""
    assert is_date("02/13/2026")
    assert not is_date("Bokslut")
    assert not is_date("12")


# -- month names (issue 15, kind 3) -------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # every separator, any case, two- and four-digit years
        ("15-Mar-2026", D(2026, 3, 15)),
        ("12-dec-26", D(2026, 12, 12)),
        ("15/Mar/26", D(2026, 3, 15)),
        ("15.mar.2026", D(2026, 3, 15)),
        ("15 MAR 26", D(2026, 3, 15)),
        ("15-MARS-2026", D(2026, 3, 15)),
        ("15mar2026", D(2026, 3, 15)),
        ("01 NOV 2026", D(2026, 11, 1)),
        ("3 mars 26", D(2026, 3, 3)),
        ("Mar-15-2026", D(2026, 3, 15)),
        ("Mar/15/26", D(2026, 3, 15)),
        ("2026-mar-15", D(2026, 3, 15)),
        ("2026 mars 15", D(2026, 3, 15)),
        ("1:a maj 2026", D(2026, 5, 1)),
        # Swedish, full and abbreviated
        ("5 januari 2026", D(2026, 1, 5)),
        ("5-feb-2026", D(2026, 2, 5)),
        ("5 augusti 2026", D(2026, 8, 5)),
        ("5.okt.2026", D(2026, 10, 5)),
        # English
        ("5 January 2026", D(2026, 1, 5)),
        ("5-Sept-2026", D(2026, 9, 5)),
        ("October 5, 2026", D(2026, 10, 5)),
        ("5-May-26", D(2026, 5, 5)),
        # Norwegian
        ("5. mai 2026", D(2026, 5, 5)),
        ("24. desember 2026", D(2026, 12, 24)),
        ("24-des-2026", D(2026, 12, 24)),
        # Danish
        ("6. marts 2026", D(2026, 3, 6)),
        ("6-maj-2026", D(2026, 5, 6)),
        # German
        ("3. März 2026", D(2026, 3, 3)),
        ("3-Mrz-2026", D(2026, 3, 3)),
        ("14. Dez. 2026", D(2026, 12, 14)),
        ("1. Januar 2026", D(2026, 1, 1)),
        ("1. Jänner 2026", D(2026, 1, 1)),
        # Finnish: nominative, partitive (in dates), genitive, abbreviations
        ("15. maaliskuuta 2026", D(2026, 3, 15)),
        ("15 maaliskuu 2026", D(2026, 3, 15)),
        ("1. kesäkuuta 2026", D(2026, 6, 1)),
        ("1.heinäk.2026", D(2026, 7, 1)),
        ("6. joulukuuta 26", D(2026, 12, 6)),
        # a weekday in front, as long date formats write it
        ("tisdag 3 mars 2026", D(2026, 3, 3)),
        ("den 3 mars 2026", D(2026, 3, 3)),
        ("Mon, 15 Mar 2026", D(2026, 3, 15)),
        ("Dienstag, 3. März 2026", D(2026, 3, 3)),
    ],
)
def test_month_names_with_any_separator_case_year_and_language(text, expected):
    """Month names read with hyphens, slashes, dots or spaces, in any case, with 2- or 4-digit
    years, in Swedish, English, Norwegian, Danish, German and Finnish."""
    assert DateColumn().parse(text) == expected


@pytest.mark.parametrize("text", ["Mar 2026", "15-Smarch-2026", "32-jan-2026", "15-Mar-226", "tisdag"])
def test_month_names_that_are_no_date_are_refused(text):
    """A month and year without a day, an unknown month, an impossible day and a 3-digit year
    are refused, never guessed."""
    with pytest.raises(DateError):
        DateColumn().parse(text)


def test_month_names_in_a_range_cell():
    """A range cell with month names and hyphens inside its dates splits at the spaced dash."""
    assert DateColumn().parse_range("15-Mar-2026 - 20-Mar-2026") == (D(2026, 3, 15), D(2026, 3, 20))


@pytest.mark.parametrize(
    ("text", "midnight"),
    [("00:00:00", True), ("0:00", True), ("00.00", True), ("12:00:00 AM", True), ("12:00 am", True),
     (" 00:00 ", True), ("09:00:00", False), ("12:00:00 PM", False), ("", False), ("00:30", False)],
)
def test_is_midnight(text, midnight):
    """00:00 in 24-hour and 12-hour forms is midnight; any other time or an empty cell is not."""
    assert is_midnight(text) is midnight
