"""Reads the date forms people put in spreadsheets, deciding ambiguous orders per column."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, timedelta

from importer.messages import render
from importer.read.month_names import MONTHS, WEEKDAYS

MIN_YEAR, MAX_YEAR = 1900, 2100
EXCEL_EPOCH = date(1899, 12, 30)
SERIAL_MIN, SERIAL_MAX = 1, 80000
# Serial numbers a column found by content alone may hold (1990..2060): a customer number
# column full of small integers must not turn into dates.
SNIFF_SERIAL_MIN, SNIFF_SERIAL_MAX = 32874, 58440

class DateError(ValueError):
    """A cell that is not a readable date: `key` names its message in importer.messages
    (`date.*`), `params` fill it; `str()` renders it for a person (Swedish).

    Rendered only when asked: column sniffing raises and catches many of these.
    """

    def __init__(self, key: str, /, **params: object):
        super().__init__(key)  # args stay (key,): pickle rebuilds it, then restores params
        self.key = key
        self.params = params

    def __str__(self) -> str:
        return render(self.key, **self.params)


_NUMERIC = re.compile(r"(\d{1,4})([/.\-])(\d{1,2})\2(\d{2,4})\.?$")
_TIME_TAIL = re.compile(r"[T ]\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2}|[AaPp][Mm])?$")
# Day, month name, year with any separators (space, hyphen, slash, dot): "15-Mar-2026",
# "12-dec-26", "15/Mar/26", "15.mar.2026", "3. Maj 2026", "01 NOV 2026", "1:a maj 2026";
# year optional.
_DAY_MONTH_YEAR = re.compile(
    r"(\d{1,2})(?:st|nd|rd|th|:[ae])?\.?[\s/-]*([^\W\d_]+)\.?(?:,?[\s./-]*(\d{4}|\d{2}))?$")
# Month name, day, year: "March 3, 2026", "Mar-15-2026", "december 24th, 2026". The year is
# apart from the day ("Mar 2026" is no date).
_MONTH_DAY_YEAR = re.compile(
    r"([^\W\d_]+)\.?[\s./-]*(\d{1,2})(?:st|nd|rd|th)?\.?(?:(?:,\s*|[\s./-]+)(\d{4}|\d{2}))?$")
# Year, month name, day: "2026-mar-15", "2026 mars 15".
_YEAR_MONTH_DAY = re.compile(r"(\d{4})[\s./-]*([^\W\d_]+)\.?[\s./-]*(\d{1,2})\.?$")
_LEADING_WORD = re.compile(r"([^\W\d_]+)\.?,?\s+")
_MIDNIGHT = re.compile(r"(?:0?0[:.]00(?:[:.]00)?|12[:.]00(?:[:.]00)?\s*a\.?m\.?)$", re.IGNORECASE)
_COMPACT_RANGE = re.compile(r"(\d{8})\s*[-–—]\s*(\d{8})$")
_RANGE_SEPARATORS = (" – ", " — ", " - ", "–", "—", " till ", " to ", " -- ")
_DIGIT = re.compile(r"\d")
_SERIAL = re.compile(r"\d{1,5}(?:[.,]\d+)?$")


def _fold(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c)
    )


def _checked(year: int, month: int, day: int, text: str) -> date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateError("date.year_unreasonable", year=year, text=text)
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):
        raise DateError("date.invalid", text=text) from None


def _full_year(digits: str) -> int:
    year = int(digits)
    if len(digits) == 2:
        # Two-digit years are this century up to 69, like Excel's own cut-off (1930 for 30).
        return 2000 + year if year < 70 else 1900 + year
    if len(digits) != 4:
        return -1
    return year


def strip_time(text: str) -> str:
    """`2026-03-15 14:00` -> `2026-03-15`: the wheel keeps days, not times."""
    if ":" not in text and not ("." in text and " " in text):
        return text  # no time can be there; saves a regex scan on every plain date
    match = _TIME_TAIL.search(text)
    if match and match.start() >= 6:
        return text[: match.start()].rstrip(" ,")
    return text


def numeric_parts(text: str) -> tuple[int, int] | None:
    """The first two parts of a D/M/Y-like value, for deciding a column's order."""
    match = _NUMERIC.match(strip_time(text.strip()))
    if match is None or len(match.group(1)) > 2:
        return None
    return int(match.group(1)), int(match.group(3))


class DateColumn:
    """Parses one column's cells. `day_first` and `serials` are decided for the whole column.

    `default_year` fills dates written without a year (`3 maj`); without it they are rejected.
    """

    def __init__(self, *, day_first: bool = True, serials: bool = False,
                 default_year: int | None = None):
        self.day_first = day_first
        self.serials = serials
        self.default_year = default_year

    def parse(self, text: str) -> date:
        """One date, or DateError. ISO first: it is what nearly every file holds."""
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            try:
                value = date.fromisoformat(text)
            except ValueError:
                raise DateError("date.invalid", text=text) from None
            if not MIN_YEAR <= value.year <= MAX_YEAR:
                raise DateError("date.year_unreasonable", year=value.year, text=text)
            return value
        return self._parse_slow(text.strip())

    def _parse_slow(self, text: str) -> date:
        if not text:
            raise DateError("date.missing")
        bare = strip_time(text)
        if len(bare) >= 8 and bare[4] in "-/." and bare[:4].isdigit():
            year, rest = bare[:4], bare[5:]
            parts = rest.replace("/", "-").replace(".", "-").split("-")
            if (len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit()
                    and len(parts[0]) <= 2 and len(parts[1]) <= 2):
                return _checked(int(year), int(parts[0]), int(parts[1]), text)
        if bare.isdigit():
            if len(bare) == 8:
                return _checked(int(bare[:4]), int(bare[4:6]), int(bare[6:]), text)
            return self._serial(bare, text)
        match = _NUMERIC.match(bare)
        if match:
            first, _, second, year = match.groups()
            if len(first) == 4:
                return _checked(int(first), int(second), int(year), text)
            day, month = (first, second) if self.day_first else (second, first)
            full = _full_year(year)
            if full < 0:
                raise DateError("date.invalid", text=text)
            return _checked(full, int(month), int(day), text)
        if _SERIAL.match(bare):
            return self._serial(bare, text)
        return self._named(bare, text)

    def _serial(self, digits: str, text: str) -> date:
        if not self.serials:
            raise DateError("date.invalid", text=text)
        number = float(digits.replace(",", "."))
        if len(digits) == 4 and MIN_YEAR <= number <= MAX_YEAR:
            # "2026" in a date column is a year, not the serial for 18 July 1905.
            raise DateError("date.year_only", text=text)
        if not SERIAL_MIN <= number <= SERIAL_MAX:
            raise DateError("date.invalid", text=text)
        value = EXCEL_EPOCH + timedelta(days=int(number))
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise DateError("date.year_unreasonable", year=value.year, text=text)
        return value

    def _named(self, bare: str, text: str) -> date:
        """A date with a month name (MONTHS), in any of the three orders, with any separator,
        a 2- or 4-digit year or none (then `default_year`), after an optional weekday."""
        folded = _fold(bare)
        leading = _LEADING_WORD.match(folded)
        while leading and leading.group(1) in WEEKDAYS and leading.group(1) not in MONTHS:
            folded = folded[leading.end():]
            leading = _LEADING_WORD.match(folded)
        year: str | None
        match = _DAY_MONTH_YEAR.match(folded)
        if match:
            day, month_name, year = match.groups()
        elif match := _MONTH_DAY_YEAR.match(folded):
            month_name, day, year = match.groups()
        elif match := _YEAR_MONTH_DAY.match(folded):
            year, month_name, day = match.groups()
        else:
            raise DateError("date.invalid", text=text)
        month = MONTHS.get(month_name)
        if month is None:
            raise DateError("date.invalid", text=text)
        if year is None:
            if self.default_year is None:
                raise DateError("date.year_missing", text=text)
            return _checked(self.default_year, month, int(day), text)
        return _checked(_full_year(year), month, int(day), text)

    def parse_range(self, text: str) -> tuple[date, date | None]:
        """A cell that may hold a whole range (`20250101-20251231`); end is None for one date."""
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            return self.parse(text), None
        stripped = text.strip()
        if len(stripped) >= 17 and stripped[:8].isdigit():
            match = _COMPACT_RANGE.match(stripped)
            if match:
                return self.parse(match.group(1)), self.parse(match.group(2))
        # Every separator but the bare hyphen has a space or a long dash.
        spaced = " " in stripped or "–" in stripped or "—" in stripped
        for separator in _RANGE_SEPARATORS if spaced else ():
            if separator in stripped:
                left, _, right = stripped.partition(separator)
                if left.strip() and right.strip():
                    try:
                        return self.parse(left.strip()), self.parse(right.strip())
                    except DateError:
                        break
        # `2025-01-01-2025-03-31`: two ISO dates joined by a bare hyphen.
        if len(stripped) == 21 and stripped[10] == "-":
            try:
                return self.parse(stripped[:10]), self.parse(stripped[11:])
            except DateError:
                pass
        return self.parse(stripped), None


def is_date(text: str, *, serials: bool = False) -> bool:
    """Whether a sampled cell reads as a date (either order), for column sniffing."""
    if not 5 <= len(text) < 60 or not _DIGIT.search(text):
        return False  # every date form has a digit; this keeps sniffing text columns cheap
    probe = DateColumn(serials=serials, default_year=2000)
    try:
        probe.parse_range(text)
        return True
    except DateError:
        if numeric_parts(text) is not None:
            probe.day_first = False
            try:
                probe.parse(text)
                return True
            except DateError:
                return False
        return False


def is_midnight(text: str) -> bool:
    """Whether a time cell says 00:00 (`00:00`, `0:00:00`, `00.00`, `12:00:00 AM`)."""
    text = text.strip()
    return bool(text) and _MIDNIGHT.match(text) is not None


def is_serial(text: str, *, low: int = SERIAL_MIN, high: int = SERIAL_MAX) -> bool:
    text = text.strip()
    if not _SERIAL.match(text):
        return False
    return low <= float(text.replace(",", ".")) <= high


def decide_day_first(values: Iterable[str]) -> bool | None:
    """True/False once the values settle the order, None while every value is ambiguous.

    A first part over 12 proves day-first; a second part over 12 proves month-first. Swedish
    files are day-first, so conflicting evidence also means day-first (the odd rows fail).
    """
    month_first = False
    for value in values:
        parts = numeric_parts(value)
        if parts is None:
            continue
        first, second = parts
        if first > 12 and second <= 12:
            return True
        if second > 12 and first <= 12:
            month_first = True
    return False if month_first else None
