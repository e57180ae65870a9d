"""Which column feeds which field: the client's mapping, else header names, else content."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import attrs

from importer.errors import BadRequest
from importer.messages import render
from importer.read import dates

FIELDS = ("name", "start", "end", "ring", "group", "label", "description")

# Normalised header -> field. Normalising folds case, diacritics, underscores and spacing, so
# "Område", "omrade" and "OMRÅDE " are one key.
_SYNONYMS = {
    "name": (
        "aktivitet", "aktiviteter", "aktivitetsnamn", "namn", "name", "titel", "title",
        "handelse", "subject", "amne", "activity", "activity name", "uppgift", "task",
        "event", "rubrik",
    ),
    "start": (
        "startdatum", "fran", "from", "start", "start date", "startdate", "datum", "date",
        "deadline", "startdag", "fran datum", "begins", "start datum", "forfallodatum",
        "sista dag",
    ),
    "end": (
        "slutdatum", "till", "to", "end", "end date", "enddate", "slut", "slutdag",
        "till datum", "ends", "slut datum", "due date",
    ),
    "ring": ("ring", "omrade", "area", "ringnamn", "ring name"),
    "group": (
        "grupp", "kategori", "category", "categories", "aktivitetsgrupp", "activity group",
        "group", "typ", "type",
    ),
    "label": ("etikett", "etiketter", "label", "labels", "tag", "tags"),
    "description": (
        "beskrivning", "notes", "note", "description", "anteckningar", "anteckning",
        "kommentar", "kommentarer", "comment", "comments", "details",
    ),
}
_PERSON = (
    "ansvarig", "handlaggare", "klientansvarig", "owner", "responsible", "assignee",
    "person", "kontaktperson", "agare",
)
# Calendar exports carry these beside the dates; they would only clutter the description.
_NOISE = {
    "start time", "end time", "all day event", "private", "reminder on/off", "reminder date",
    "reminder time", "show time as", "sensitivity", "priority", "starttid", "sluttid",
    "heldag", "startmanad", "slutmanad", "startvecka", "slutvecka", "meeting resources",
    "billing information", "mileage", "resources",
}
_DUE = {"deadline", "forfallodatum", "sista dag", "due date"}
_NOT_A_DAY = ("time", "tid", "manad", "vecka", "month", "week")
_BY_HEADER = {syn: field for field, syns in _SYNONYMS.items() for syn in syns}
_SEPARATORS = re.compile(r"[\s_]+")
SAMPLE_ROWS = 50
SNIFF_COLUMNS = 64  # content sniffing looks no further right; headers are read in full


def normalise(header: str) -> str:
    text = header.replace("\ufeff", "").strip().strip('"').strip().lower()
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    return _SEPARATORS.sub(" ", text).strip(" :*")


@attrs.frozen(kw_only=True)
class ColumnMap:
    """Column indexes per field (None: not in the file) and the columns that go to description.

    `serial_dates` says whether the date columns may hold Excel serial numbers.
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
    serial_dates: bool = False

    def as_mapping(self) -> dict[str, str]:
        """Field -> header text, the form a client sends back as `mapping`."""
        return {f: self.headers[i] for f in FIELDS if (i := getattr(self, f)) is not None}


def known_header(header: str) -> bool:
    if len(header) > 40:
        return False
    key = normalise(header)
    return key in _BY_HEADER or key in _PERSON


def detect(
    headers: Sequence[str], sample: Sequence[Sequence[str]], mapping: dict[str, Any] | None = None
) -> ColumnMap:
    """Decide the columns. `sample` is a few data rows (padded or not) used for sniffing."""
    headers = tuple(h.replace("\ufeff", "").strip() for h in headers)
    chosen: dict[str, int] = {}
    if mapping:
        chosen.update(_from_mapping(headers, mapping))
    # A field the mapping sets to null is switched off: the client says the file has none.
    off = {f for f, h in (mapping or {}).items() if h is None or h == ""}
    chosen.update(dict.fromkeys(off, -1))
    taken = set(chosen.values())
    keys = [normalise(h) for h in headers]
    for index, key in enumerate(keys):
        field = _BY_HEADER.get(key)
        if field == "start" and "start" in chosen and key in _DUE:
            field = "end"  # "Start" and "Deadline" side by side: the deadline is the end
        if field and field not in chosen and index not in taken:
            chosen[field] = index
            taken.add(index)
    # Looser second look: "Startdatum (plan)", "Planerat slutdatum", "Projektnamn".
    for index, key in enumerate(keys):
        if index in taken or any(t in key for t in _NOT_A_DAY):
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
        people = [i for i, key in enumerate(keys) if i not in taken and key in _PERSON]
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
    return ColumnMap(headers=headers, extras=extras, serial_dates=serials, **chosen)


def _from_mapping(headers: tuple[str, ...], mapping: dict[str, Any]) -> dict[str, int]:
    if not isinstance(mapping, dict):
        raise BadRequest(render("mapping.not_object"), code="bad_mapping")
    by_exact = {h: i for i, h in reversed(list(enumerate(headers)))}
    by_loose = {normalise(h): i for i, h in reversed(list(enumerate(headers)))}
    chosen = {}
    for field, header in mapping.items():
        if field not in FIELDS:
            raise BadRequest(
                render("mapping.unknown_field", field=field, allowed=", ".join(FIELDS)),
                code="bad_mapping", details={"field": field},
            )
        if header is None or header == "":
            continue
        if not isinstance(header, str):
            raise BadRequest(render("mapping.not_text", field=field), code="bad_mapping",
                             details={"field": field})
        index = by_exact.get(header.strip(), by_loose.get(normalise(header)))
        if index is None:
            raise BadRequest(
                render("mapping.no_such_column", header=header, field=field,
                       headers=", ".join(headers)),
                code="bad_mapping", details={"field": field, "header": header},
            )
        chosen[field] = index
    return chosen


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
