"""Which column feeds which field: the client's mapping, else header names, else content."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from importer.errors import BadRequest
from importer.read import dates
from importer.read.calendar import (
    ALL_DAY,
    CALENDAR_FIELDS,
    CALENDAR_KEYS,
    END_TIME,
    HOUSEKEEPING,
    calendar_layout,
)
from importer.read.headers import ERRORS_REASON, ERRORS_ROW, NOISE, PERSON, SYNONYMS, normalise, repeats
from importer.read.text import clean

FIELDS = ("name", "start", "end", "ring", "group", "label", "description")
#: The mapping key whose list of headers is kept out of every field and of the description.
IGNORE = "ignore"

_DUE = {"deadline", "forfallodatum", "sista dag", "due date"}
_NOT_A_DAY = ("time", "tid", "manad", "vecka", "month", "week")
_BY_HEADER = {syn: field for field, syns in SYNONYMS.items() for syn in syns}
_NOISE = set(NOISE)
# Calendar exports' columns: fields by their names in every language, housekeeping as noise.
for _roles in CALENDAR_KEYS.values():
    for _role, _keys in _roles.items():
        if _role in CALENDAR_FIELDS:
            _BY_HEADER.update(dict.fromkeys(_keys, CALENDAR_FIELDS[_role]))
        elif _role in HOUSEKEEPING:
            _NOISE.update(_keys)
SAMPLE_ROWS = 50
SNIFF_COLUMNS = 64  # content sniffing looks no further right; headers are read in full


@attrs.frozen(kw_only=True)
class ColumnMap:
    """Column indexes per field (None: not in the file) and the columns that go to description.

    `serial_dates` says whether the date columns may hold Excel serial numbers. `all_day` and
    `end_time` are a calendar export's all-day flag and end time columns (their ends are
    exclusive, see importer.read.rows), `calendar` its `calendar_layout`.
    """

    headers: tuple[str, ...]
    name: int | None = None
    start: int | None = None
    end: int | None = None
    ring: int | None = None
    group: int | None = None
    label: int | None = None
    description: int | None = None
    extras: tuple[int, ...] = ()
    #: Columns the mapping's `ignore` keeps out of every field and of the description.
    ignored: tuple[int, ...] = ()
    #: The file is an errors.csv coming back corrected (Rad first, Orsak last): its
    #: neutralised formula-like cells lose their apostrophe again (validate.unquote).
    corrected: bool = False
    serial_dates: bool = False
    all_day: int | None = None
    end_time: int | None = None
    calendar: tuple[str, str] | None = None

    def as_mapping(self) -> dict[str, Any]:
        """Field -> header text (and `ignore` -> headers), the form a client sends back as `mapping`."""
        mapping: dict[str, Any] = {f: self.headers[i] for f in FIELDS if (i := getattr(self, f)) is not None}
        if self.ignored:
            mapping[IGNORE] = [self.headers[i] for i in self.ignored]
        return mapping


def known_header(header: str) -> bool:
    if len(header) > 40:
        return False
    key = normalise(header)
    return key in _BY_HEADER or key in PERSON


def detect(
    headers: Sequence[str], sample: Sequence[Sequence[str]], mapping: dict[str, Any] | None = None
) -> ColumnMap:
    """Decide the columns. `sample` is a few data rows (padded or not) used for sniffing.

    `headers` should be unique (`unique_headers`): two date columns under one header (a
    `Datum` and its `Datum#2`) are start and end. Raises BadRequest (bad_mapping) for a
    mapping that names no header or an unknown field.
    """
    headers = tuple(clean(h).strip() for h in headers)
    chosen: dict[str, int] = {}
    ignored: tuple[int, ...] = ()
    if mapping:
        chosen.update(_from_mapping(headers, mapping))
        ignored = _ignored(headers, mapping.get(IGNORE))
    # A field the mapping sets to null is switched off: the client says the file has none.
    off = {f for f, h in (mapping or {}).items() if f != IGNORE and (h is None or h == "")}
    chosen.update(dict.fromkeys(off, -1))
    taken = set(chosen.values()) | set(ignored)
    keys = [normalise(h) for h in headers]
    for index, key in enumerate(keys):
        field = _BY_HEADER.get(key)
        if field == "start" and "start" in chosen and key in _DUE:
            field = "end"  # "Start" and "Deadline" side by side: the deadline is the end
        if field and field not in chosen and index not in taken:
            chosen[field] = index
            taken.add(index)
    # Two date columns under one header: the first is the start, its repeat the end.
    for index, first in repeats(headers).items():
        field = _BY_HEADER.get(keys[first])
        if field not in ("start", "end") or index in taken or chosen.get(field) != first:
            continue
        if field == "start" and "end" not in chosen:
            chosen["end"] = index
            taken.add(index)
        elif field == "end" and "start" not in chosen:
            chosen["start"], chosen["end"] = first, index
            taken.add(index)
    # Looser second look: "Startdatum (plan)", "Planerat slutdatum", "Projektnamn".
    for index, key in enumerate(keys):
        if index in taken or key in _NOISE or any(t in key for t in _NOT_A_DAY):
            continue
        if "slut" in key or key.startswith("end "):
            field = "end"
        elif any(w in key for w in ("start", "datum", "date", "deadline")):
            field = "start"
        elif any(w in key for w in ("namn", "name", "aktivitet")):
            field = "name"
        else:
            continue
        if field not in chosen:
            chosen[field] = index
            taken.add(index)
    if "label" not in chosen:
        # A person column is the label: exact names first, then "Projektansvarig" and kin.
        people = [i for i, key in enumerate(keys) if i not in taken and key in PERSON]
        people += [i for i, key in enumerate(keys) if i not in taken and i not in people
                   and any(word in key for word in ("ansvarig", "handlaggare", "owner"))]
        if people:
            chosen["label"] = people[0]
            taken.add(people[0])
    cache: dict[int, list[str]] = {}

    def column(index: int) -> list[str]:
        # Sampled values of one column, built only for the columns a decision looks at.
        if index not in cache:
            cache[index] = [row[index].strip() for row in sample[:SAMPLE_ROWS]
                            if index < len(row)]
        return cache[index]

    sniffable = range(min(len(headers), SNIFF_COLUMNS))
    serials = False
    if "start" not in chosen:
        date_columns = [i for i in sniffable
                        if i not in taken and _dateish(column(i), sniffed=True)]
        if date_columns:
            chosen["start"] = date_columns[0]
            taken.add(date_columns[0])
            if "end" not in chosen and len(date_columns) > 1:
                chosen["end"] = date_columns[1]
                taken.add(date_columns[1])
    dated = [chosen[f] for f in ("start", "end") if chosen.get(f, -1) >= 0]
    if dated:
        serials = all(_mostly_dates(column(i)) for i in dated)
    if "name" not in chosen:
        best, best_score = None, 0
        for i in sniffable:
            if i in taken or keys[i] in _NOISE:
                continue
            values = [v for v in column(i) if v]
            if not values or any(_numberish(v) or dates.is_date(v) for v in values[:10]):
                continue
            score = len(set(values))
            if score > best_score:
                best, best_score = i, score
        if best is not None:
            chosen["name"] = best
            taken.add(best)
    extras = tuple(
        i for i in range(len(headers))
        if i not in taken and keys[i] not in _NOISE and headers[i]
    )
    chosen = {f: i for f, i in chosen.items() if i >= 0}
    all_day = next((i for i, key in enumerate(keys) if key in ALL_DAY and i not in taken), None)
    end_time = next((i for i, key in enumerate(keys) if key in END_TIME and i not in taken), None)
    corrected = len(keys) > 2 and keys[0] == ERRORS_ROW and keys[-1] == ERRORS_REASON
    return ColumnMap(headers=headers, extras=extras, ignored=ignored, corrected=corrected,
                     serial_dates=serials, all_day=all_day,
                     end_time=end_time, calendar=calendar_layout(headers), **chosen)


def _from_mapping(headers: tuple[str, ...], mapping: dict[str, Any]) -> dict[str, int]:
    if not isinstance(mapping, dict):
        raise BadRequest.of("mapping.not_object", code="bad_mapping")
    by_exact = {h: i for i, h in reversed(list(enumerate(headers)))}
    by_loose = {normalise(h): i for i, h in reversed(list(enumerate(headers)))}
    chosen = {}
    for field, header in mapping.items():
        if field == IGNORE:
            continue  # _ignored
        if field not in FIELDS:
            raise BadRequest.of(
                "mapping.unknown_field", params={"field": field, "allowed": ", ".join((*FIELDS, IGNORE))},
                code="bad_mapping", details={"field": field},
            )
        if header is None or header == "":
            continue
        if not isinstance(header, str):
            raise BadRequest.of("mapping.not_text", params={"field": field}, code="bad_mapping",
                             details={"field": field})
        chosen[field] = _column(headers, by_exact, by_loose, header, field)
    return chosen


def _column(headers: tuple[str, ...], by_exact: dict[str, int], by_loose: dict[str, int], header: str,
            field: str) -> int:
    index = by_exact.get(header.strip(), by_loose.get(normalise(header)))
    if index is None:
        raise BadRequest.of(
            "mapping.no_such_column", params={"header": header, "field": field, "headers": ", ".join(headers)},
            code="bad_mapping", details={"field": field, "header": header},
        )
    return index


def _ignored(headers: tuple[str, ...], names: Any) -> tuple[int, ...]:
    """The columns `mapping.ignore` names (API.md: kept out of the description), in file order.
    Raises BadRequest (bad_mapping) for a value that is not a list of headers of the file."""
    if names is None:
        return ()
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise BadRequest.of("mapping.ignore_not_list", code="bad_mapping", details={"field": IGNORE})
    by_exact = {h: i for i, h in reversed(list(enumerate(headers)))}
    by_loose = {normalise(h): i for i, h in reversed(list(enumerate(headers)))}
    return tuple(sorted({_column(headers, by_exact, by_loose, name, IGNORE) for name in names}))


def _numberish(value: str) -> bool:
    return value.replace(" ", "").replace(",", "").replace(".", "").replace("-", "").isdigit()


def _dateish(values: list[str], *, sniffed: bool) -> bool:
    """Whether every sampled value reads as a date (at least one must be present).

    A column found by content alone must hold real dates, or serials in 1990..2060; a column
    named as a date may hold any Excel serial.
    """
    present = [v for v in values if v]
    if not present:
        return False
    real = 0
    for value in present:
        if (value.isdigit() and len(value) != 8) or dates.is_serial(value):
            low, high = ((dates.SNIFF_SERIAL_MIN, dates.SNIFF_SERIAL_MAX) if sniffed
                         else (dates.SERIAL_MIN, dates.SERIAL_MAX))
            if not dates.is_serial(value, low=low, high=high):
                return False
            continue
        if not dates.is_date(value):
            return False
        real += 1
    return real > 0 or not sniffed or len(present) >= 3


def _mostly_dates(values: list[str]) -> bool:
    """A named date column may hold Excel serials when at least 80% of its sample are dates or
    serials: one typo must not turn every serial of the column into a rejection."""
    present = [v for v in values if v]
    if not present:
        return False
    good = sum(1 for v in present if dates.is_serial(v) or dates.is_date(v))
    return good * 5 >= len(present) * 4
