"""Calendar exports: the header names Outlook and Google Calendar write, by language and
column role, and the layout (kind, language) a file's headers show."""

from __future__ import annotations

from collections.abc import Sequence

from importer.read.headers import normalise

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
CALENDAR_FIELDS = {"subject": "name", "start_date": "start", "end_date": "end",
                    "categories": "group", "description": "description"}
HOUSEKEEPING = {"start_time", "end_time", "all_day", "reminder", "reminder_date",
                 "reminder_time", "resources", "billing", "mileage", "priority", "private",
                 "sensitivity", "show_as"}
#: Roles only Outlook's export has; a calendar layout without them is Google's import format.
OUTLOOK_ONLY = {"reminder", "reminder_date", "reminder_time", "organizer", "required",
                 "optional", "resources", "billing", "categories", "mileage", "priority",
                 "sensitivity", "show_as"}
#: An all-day flag that is set, in the languages above (Outlook writes its booleans in the
#: language of its user interface: True, Sant, Sann, Sand, Tosi, Wahr or Ein), folded.
ALL_DAY_TRUE = frozenset({
    "true", "yes", "y", "1", "x", "sant", "sann", "sand", "tosi", "wahr", "ja", "j", "ein",
    "an", "pa", "til", "kylla", "on"})


def calendar_keys() -> dict[str, dict[str, frozenset[str]]]:
    return {language: {role: frozenset(normalise(name) for name in names)
                       for role, names in roles.items()}
            for language, roles in CALENDAR_HEADERS.items()}


CALENDAR_KEYS = calendar_keys()
ALL_DAY = frozenset(key for roles in CALENDAR_KEYS.values() for key in roles["all_day"])
END_TIME = frozenset(key for roles in CALENDAR_KEYS.values() for key in roles["end_time"])
SUBJECTS = frozenset(key for roles in CALENDAR_KEYS.values() for key in roles["subject"])


def calendar_layout(headers: Sequence[str]) -> tuple[str, str] | None:
    """`(kind, language)` when the headers are a calendar export of CALENDAR_HEADERS: kind
    "outlook", or "google" for Google Calendar's import format (no column only Outlook has);
    None when the subject and start date of one language are not both there."""
    keys = {normalise(h) for h in headers}
    if keys.isdisjoint(SUBJECTS):
        return None
    best: tuple[int, str, set[str]] | None = None
    for language, roles in CALENDAR_KEYS.items():
        found = {role for role, names in roles.items() if keys & names}
        if {"subject", "start_date"} <= found and (best is None or len(found) > best[0]):
            best = (len(found), language, found)
    if best is None or best[0] < 3:
        return None
    _count, language, found = best
    return ("outlook" if found & OUTLOOK_ONLY else "google"), language


def layout_day_first(calendar: tuple[str, str] | None) -> bool | None:
    """The date order a known layout implies, for date columns whose values all read both
    ways: Google Calendar's import format is month-first (its help page writes 05/30/2020);
    an export whose headers are Swedish, Norwegian, Danish, Finnish or German comes from a
    locale that writes dates day-first or ISO (CLDR's short date formats). None: the layout
    says nothing (Outlook's English export is written in the locale of Windows, US or not)."""
    if calendar is None:
        return None
    kind, language = calendar
    if language == "en":
        return False if kind == "google" else None
    return True
