"""Header names as files write them: which names mean which field, the key they are matched
by, and repeated headers made unique (`Header#2`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from importer.read.text import clean

# Normalised header -> field. Normalising folds case, diacritics, underscores and spacing, so
# "Område", "omrade" and "OMRÅDE " are one key.
SYNONYMS: dict[str, tuple[str, ...]] = {
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
PERSON = (
    "ansvarig", "handlaggare", "klientansvarig", "owner", "responsible", "assignee",
    "person", "kontaktperson", "agare",
)
# The columns errors.csv adds around the file's own (server/views/jobs.py), as normalised.
ERRORS_ROW, ERRORS_REASON = "rad", "orsak"
# Calendar exports carry these beside the dates; they would only clutter the description.
NOISE = frozenset({
    "start time", "end time", "all day event", "private", "reminder on/off", "reminder date",
    "reminder time", "show time as", "sensitivity", "priority", "starttid", "sluttid",
    "heldag", "startmanad", "slutmanad", "startvecka", "slutvecka", "meeting resources",
    "billing information", "mileage", "resources",
    # errors.csv's row number and reason (server/views/jobs.py), when a corrected one comes back.
    ERRORS_ROW, ERRORS_REASON,
})
_SEPARATORS = re.compile(r"[\s_]+")


def normalise(header: str) -> str:
    """The key a header is matched by: case, diacritics, invisible characters, underscores
    and spacing folded ("  OMRÅDE " and "omrade" are one key)."""
    text = (header if header.isascii() else clean(header)).strip().strip('"').strip().lower()
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    return _SEPARATORS.sub(" ", text).strip(" :*")


def unique_headers(names: Sequence[str]) -> list[str]:
    """`names` with each repeat of a header renamed `Header#2`, `Header#3`, ... (API.md,
    `mapping`: "Where two columns share a header, "Header#2" names the second").

    Repeats are found by `normalise`d key ("Datum" and "datum " repeat each other); the first
    keeps its name, and a generated name never collides with a header of the file.
    """
    keys = [normalise(n) for n in names]
    taken = set(keys)
    if len(taken) == len(keys):
        return list(names)
    seen: dict[str, int] = {}
    out = []
    for name, key in zip(names, keys, strict=True):
        count = seen.get(key, 0) + 1
        seen[key] = count
        if count == 1 or not name:
            out.append(name)
            continue
        candidate = f"{name}#{count}"
        while normalise(candidate) in taken:
            count += 1
            candidate = f"{name}#{count}"
        taken.add(normalise(candidate))
        out.append(candidate)
    return out


def repeats(headers: Sequence[str]) -> dict[int, int]:
    """Index of each `Header#n` made by `unique_headers` -> index of the first `Header`."""
    first: dict[str, int] = {}
    repeats: dict[int, int] = {}
    if not any("#" in header for header in headers):
        return repeats
    for index, header in enumerate(headers):
        base, hash_, number = header.rpartition("#")
        if hash_ and number.isdigit() and normalise(base) in first:
            repeats[index] = first[normalise(base)]
        else:
            first.setdefault(normalise(header), index)
    return repeats
