"""A workbook's typed cells as text, once: dates ISO (validation's fast path), whole numbers
without `.0`, booleans as Swedish Excel writes them, times as HH:MM (spreadsheet.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from importer.messages import SWEDISH, render_in

#: What calamine gives for a cell.
Cell = str | float | int | bool | date | datetime | time | timedelta


def text_of(value: Cell) -> str:
    """A typed cell as text: dates ISO, whole numbers without `.0` (module docstring)."""
    if isinstance(value, float):
        return whole(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return render_in(SWEDISH, "file.cell_true") if value else render_in(SWEDISH, "file.cell_false")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, time):
        return value.strftime("%H:%M" if not value.second and not value.microsecond else "%H:%M:%S")
    return str(value)


def whole(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"


# The common cell types by their exact type, so that a row costs one dict look-up per cell that
# is not text; anything else goes through text_of.
TEXTS: dict[type, Callable[[Any], str]] = {
    date: date.isoformat, float: whole, int: str,
    datetime: lambda value: value.date().isoformat(),
}
