"""Month and weekday names of the date forms people write, in the languages of the exports we
read (Swedish, English, Norwegian, Danish, German, Finnish): folded, as importer.read.dates
looks them up."""

from __future__ import annotations

# Month names, folded (lower case, no diacritics: "März" is "marz"), full and abbreviated, in
# the languages of the exports we read (calendar.CALENDAR_HEADERS): Swedish, English,
# Norwegian, Danish, German and Finnish (CLDR's month names and their abbreviations, with the
# abbreviations people write: "sept", "mrz", "maalisk"), looked up without a trailing dot.
MONTH_NAMES = {
    1: ("januari", "jan", "january", "januar", "janner", "jaenner"),
    2: ("februari", "feb", "febr", "february", "februar", "feber"),
    3: ("mars", "mar", "march", "marts", "marz", "maerz", "mrz"),
    4: ("april", "apr"),
    5: ("maj", "may", "mai"),
    6: ("juni", "jun", "june"),
    7: ("juli", "jul", "july"),
    8: ("augusti", "aug", "august"),
    9: ("september", "sep", "sept"),
    10: ("oktober", "okt", "october", "oct"),
    11: ("november", "nov"),
    12: ("december", "dec", "desember", "des", "dezember", "dez"),
}
# Finnish months are compounds of a stem and "kuu" (month), written "maaliskuu", in dates as
# "15. maaliskuuta" (partitive) or "maaliskuun" (genitive), abbreviated "maalisk." or "maalis".
FINNISH_STEMS = ("tammi", "helmi", "maalis", "huhti", "touko", "kesa", "heina", "elo", "syys",
                  "loka", "marras", "joulu")
MONTHS = {name: number for number, names in MONTH_NAMES.items() for name in names}
for number, stem in enumerate(FINNISH_STEMS, start=1):
    MONTHS.update(dict.fromkeys(
        (stem, stem + "k", stem + "kuu", stem + "kuuta", stem + "kuun"), number))
# Weekday names that long date formats put first ("tisdag 3 mars 2026", "Mon, 15 Mar 2026",
# "den 3 mars 2026" in Swedish Excel's long format): dropped before reading the date.
WEEKDAYS = frozenset((
    "mandag", "tisdag", "onsdag", "torsdag", "fredag", "lordag", "sondag", "man", "tis", "ons",
    "tors", "tor", "fre", "lor", "son", "den",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue",
    "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
    "tirsdag",
    "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag", "mo", "di",
    "mi", "do", "fr", "sa", "so", "am",
    "maanantai", "tiistai", "keskiviikko", "torstai", "perjantai", "lauantai", "sunnuntai",
    "ma", "ti", "ke", "to", "pe", "la", "su",
))
