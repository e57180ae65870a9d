"""Which column feeds which field: the client's mapping, else header names, else content."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import attrs

from importer.errors import BadRequest
from importer.read import dates
from importer.read.text import clean

FIELDS = ("name", "start", "end", "ring", "group", "label", "description")
#: The mapping key whose list of headers is kept out of every field and of the description.
IGNORE = "ignore"

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
# The columns errors.csv adds around the file's own (server/views/jobs.py), as normalised.
ERRORS_ROW, ERRORS_REASON = "rad", "orsak"
_NOISE = {
    "start time", "end time", "all day event", "private", "reminder on/off", "reminder date",
    "reminder time", "show time as", "sensitivity", "priority", "starttid", "sluttid",
    "heldag", "startmanad", "slutmanad", "startvecka", "slutvecka", "meeting resources",
    "billing information", "mileage", "resources",
    # errors.csv's row number and reason (server/views/jobs.py), when a corrected one comes back.
    ERRORS_ROW, ERRORS_REASON,
}

# Calendar exports, by language and column role. Outlook's CSV export (File > Open & Export >
# Import/Export > Comma Separated Values) writes 22 columns named in the language of its user
# interface; Google Calendar's CSV import format (support.google.com/calendar/answer/37118,
# "Create or edit a CSV file") uses nine of them: subject, start and end date and time, all
# day event, description, location, private. English as Outlook writes it (Mozilla
# Lightning's Outlook CSV importer uses the same names), Swedish from a real Swedish export,
# German from real German exports, Danish after a Danish export's header; Norwegian and
# Finnish from those Outlook translations, with variants other versions use. A name missing
# here is only a missing synonym: the column then goes to the description. Matching folds
# case and diacritics (`normalise`).
CALENDAR_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "subject": ("Subject",), "start_date": ("Start Date",), "start_time": ("Start Time",),
        "end_date": ("End Date",), "end_time": ("End Time",),
        "all_day": ("All day event", "All Day", "All-day event", "Allday"),
        "reminder": ("Reminder on/off",), "reminder_date": ("Reminder Date",),
        "reminder_time": ("Reminder Time",), "organizer": ("Meeting Organizer",),
        "required": ("Required Attendees",), "optional": ("Optional Attendees",),
        "resources": ("Meeting Resources", "Resources"), "billing": ("Billing Information",),
        "categories": ("Categories",), "description": ("Description",),
        "location": ("Location",), "mileage": ("Mileage",), "priority": ("Priority",),
        "private": ("Private",), "sensitivity": ("Sensitivity",), "show_as": ("Show time as",),
    },
    "sv": {
        "subject": ("Ämne",), "start_date": ("Startdatum",), "start_time": ("Starttid",),
        "end_date": ("Slutdatum",), "end_time": ("Sluttid",),
        "all_day": ("Heldagshändelse", "Heldagsaktivitet"),
        "reminder": ("Påminnelse på/av",), "reminder_date": ("Påminnelsedatum",),
        "reminder_time": ("Påminnelsetid",), "organizer": ("Mötesarrangör", "Mötesorganisatör"),
        "required": ("Obligatoriska deltagare",), "optional": ("Valfria deltagare",),
        "resources": ("Mötesresurser",), "billing": ("Faktureringsinformation",),
        "categories": ("Kategorier",), "description": ("Beskrivning",), "location": ("Plats",),
        "mileage": ("Körsträcka",), "priority": ("Prioritet",), "private": ("Privat",),
        "sensitivity": ("Känslighet",), "show_as": ("Visa tid som",),
    },
    "no": {
        "subject": ("Emne",), "start_date": ("Startdato",), "start_time": ("Starttid", "Starttidspunkt"),
        "end_date": ("Sluttdato",), "end_time": ("Sluttid", "Slutttid", "Sluttidspunkt"),
        "all_day": ("Heldagsavtale", "Heldagshendelse", "Heldagsaktivitet"),
        "reminder": ("Påminnelse på/av",), "reminder_date": ("Påminnelsesdato",),
        "reminder_time": ("Påminnelsestid", "Påminnelsesklokkeslett"),
        "organizer": ("Møtearrangør", "Møteleder"),
        "required": ("Obligatoriske deltakere", "Nødvendige deltakere"),
        "optional": ("Valgfrie deltakere",), "resources": ("Møteressurser",),
        "billing": ("Faktureringsinformasjon",), "categories": ("Kategorier",),
        "description": ("Beskrivelse",), "location": ("Sted", "Plassering"),
        "mileage": ("Kjørelengde", "Kilometer"), "priority": ("Prioritet",),
        "private": ("Privat",), "sensitivity": ("Følsomhet", "Sensitivitet"),
        "show_as": ("Vis tid som",),
    },
    "da": {
        "subject": ("Emne",), "start_date": ("Startdato",), "start_time": ("Starttidspunkt",),
        "end_date": ("Slutdato",), "end_time": ("Sluttidspunkt",),
        "all_day": ("Heldagsbegivenhed", "Heldagsaftale"),
        "reminder": ("Påmindelse til/fra",), "reminder_date": ("Påmindelsesdato",),
        "reminder_time": ("Påmindelsesklokkeslæt", "Påmindelsestidspunkt"),
        "organizer": ("Mødearrangør", "Mødeindkalder"),
        "required": ("Obligatoriske deltagere", "Påkrævede deltagere"),
        "optional": ("Valgfrie deltagere",),
        "resources": ("Mødelokaler", "Mødefaciliteter", "Mødehjælpemidler", "Mødressourcer"),
        "billing": ("Faktureringsoplysninger",), "categories": ("Kategorier",),
        "description": ("Beskrivelse",), "location": ("Placering", "Sted"),
        "mileage": ("Kørsel", "Kilometertal"), "priority": ("Prioritet",),
        "private": ("Privat",), "sensitivity": ("Følsomhed",), "show_as": ("Vis tid som",),
    },
    "fi": {
        "subject": ("Aihe",), "start_date": ("Alkamispäivä", "Aloituspäivä", "Alkamispvm"),
        "start_time": ("Alkamisaika", "Aloitusaika"),
        "end_date": ("Päättymispäivä", "Lopetuspäivä", "Päättymispvm"),
        "end_time": ("Päättymisaika", "Lopetusaika"),
        "all_day": ("Koko päivän tapahtuma",),
        "reminder": ("Muistutus käytössä/ei käytössä", "Muistutus päällä/pois", "Muistutus"),
        "reminder_date": ("Muistutuspäivä", "Muistutuksen päivämäärä"),
        "reminder_time": ("Muistutusaika", "Muistutuksen aika"),
        "organizer": ("Kokouksen järjestäjä",), "required": ("Pakolliset osallistujat",),
        "optional": ("Valinnaiset osallistujat",), "resources": ("Kokousresurssit",),
        "billing": ("Laskutustiedot",), "categories": ("Luokat",), "description": ("Kuvaus",),
        "location": ("Sijainti",), "mileage": ("Matka", "Kilometrit", "Matkakilometrit"),
        "priority": ("Prioriteetti", "Tärkeys"), "private": ("Yksityinen",),
        "sensitivity": ("Luottamuksellisuus",), "show_as": ("Näytä aika muodossa", "Näytä aikana"),
    },
    "de": {
        "subject": ("Betreff",), "start_date": ("Beginnt am",), "start_time": ("Beginnt um",),
        "end_date": ("Endet am",), "end_time": ("Endet um",),
        "all_day": ("Ganztägiges Ereignis", "Ganztaegiges Ereignis"),
        "reminder": ("Erinnerung Ein/Aus",), "reminder_date": ("Erinnerung am",),
        "reminder_time": ("Erinnerung um",), "organizer": ("Besprechungsplanung", "Besprechungsplaner"),
        "required": ("Erforderliche Teilnehmer",), "optional": ("Optionale Teilnehmer",),
        "resources": ("Besprechungsressourcen",), "billing": ("Abrechnungsinformationen",),
        "categories": ("Kategorien",), "description": ("Beschreibung",), "location": ("Ort",),
        "mileage": ("Reisekilometer",), "priority": ("Priorität",), "private": ("Privat",),
        "sensitivity": ("Vertraulichkeit",), "show_as": ("Zeitspanne zeigen als",),
    },
}
#: What each calendar column is: a field, or housekeeping that is dropped like the English
#: noise. Organizer, attendees and location are neither: they go to the description.
_CALENDAR_FIELDS = {"subject": "name", "start_date": "start", "end_date": "end",
                    "categories": "group", "description": "description"}
_HOUSEKEEPING = {"start_time", "end_time", "all_day", "reminder", "reminder_date",
                 "reminder_time", "resources", "billing", "mileage", "priority", "private",
                 "sensitivity", "show_as"}
#: Roles only Outlook's export has; a calendar layout without them is Google's import format.
_OUTLOOK_ONLY = {"reminder", "reminder_date", "reminder_time", "organizer", "required",
                 "optional", "resources", "billing", "categories", "mileage", "priority",
                 "sensitivity", "show_as"}
#: An all-day flag that is set, in the languages above (Outlook writes its booleans in the
#: language of its user interface: True, Sant, Sann, Sand, Tosi, Wahr or Ein), folded.
ALL_DAY_TRUE = frozenset({
    "true", "yes", "y", "1", "x", "sant", "sann", "sand", "tosi", "wahr", "ja", "j", "ein",
    "an", "pa", "til", "kylla", "on"})
_DUE = {"deadline", "forfallodatum", "sista dag", "due date"}
_NOT_A_DAY = ("time", "tid", "manad", "vecka", "month", "week")
_BY_HEADER = {syn: field for field, syns in _SYNONYMS.items() for syn in syns}
_SEPARATORS = re.compile(r"[\s_]+")
SAMPLE_ROWS = 50
SNIFF_COLUMNS = 64  # content sniffing looks no further right; headers are read in full


def normalise(header: str) -> str:
    """The key a header is matched by: case, diacritics, invisible characters, underscores
    and spacing folded ("  OMRÅDE " and "omrade" are one key)."""
    text = (header if header.isascii() else clean(header)).strip().strip('"').strip().lower()
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    return _SEPARATORS.sub(" ", text).strip(" :*")


def _calendar_keys() -> dict[str, dict[str, frozenset[str]]]:
    return {language: {role: frozenset(normalise(name) for name in names)
                       for role, names in roles.items()}
            for language, roles in CALENDAR_HEADERS.items()}


_CALENDAR_KEYS = _calendar_keys()
for _roles in _CALENDAR_KEYS.values():
    for _role, _keys in _roles.items():
        if _role in _CALENDAR_FIELDS:
            _BY_HEADER.update(dict.fromkeys(_keys, _CALENDAR_FIELDS[_role]))
        elif _role in _HOUSEKEEPING:
            _NOISE.update(_keys)
_ALL_DAY = frozenset(key for roles in _CALENDAR_KEYS.values() for key in roles["all_day"])
_END_TIME = frozenset(key for roles in _CALENDAR_KEYS.values() for key in roles["end_time"])
_SUBJECTS = frozenset(key for roles in _CALENDAR_KEYS.values() for key in roles["subject"])


def calendar_layout(headers: Sequence[str]) -> tuple[str, str] | None:
    """`(kind, language)` when the headers are a calendar export of CALENDAR_HEADERS: kind
    "outlook", or "google" for Google Calendar's import format (no column only Outlook has);
    None when the subject and start date of one language are not both there."""
    keys = {normalise(h) for h in headers}
    if keys.isdisjoint(_SUBJECTS):
        return None
    best: tuple[int, str, set[str]] | None = None
    for language, roles in _CALENDAR_KEYS.items():
        found = {role for role, names in roles.items() if keys & names}
        if {"subject", "start_date"} <= found and (best is None or len(found) > best[0]):
            best = (len(found), language, found)
    if best is None or best[0] < 3:
        return None
    _count, language, found = best
    return ("outlook" if found & _OUTLOOK_ONLY else "google"), language


def layout_day_first(columns: ColumnMap) -> bool | None:
    """The date order a known layout implies, for date columns whose values all read both
    ways: Google Calendar's import format is month-first (its help page writes 05/30/2020);
    an export whose headers are Swedish, Norwegian, Danish, Finnish or German comes from a
    locale that writes dates day-first or ISO (CLDR's short date formats). None: the layout
    says nothing (Outlook's English export is written in the locale of Windows, US or not)."""
    if columns.calendar is None:
        return None
    kind, language = columns.calendar
    if language == "en":
        return False if kind == "google" else None
    return True


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


def _repeats(headers: Sequence[str]) -> dict[int, int]:
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
    return key in _BY_HEADER or key in _PERSON


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
    for index, first in _repeats(headers).items():
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
    all_day = next((i for i, key in enumerate(keys) if key in _ALL_DAY and i not in taken), None)
    end_time = next((i for i, key in enumerate(keys) if key in _END_TIME and i not in taken), None)
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
