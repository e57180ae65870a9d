"""Column detection: header synonyms in Swedish and English, calendar exports, content sniffing
and the client's mapping."""

from __future__ import annotations

from datetime import date

import pytest

from importer.errors import BadRequest
from importer.model import Activity, Rejection
from importer.read.columns import detect
from importer.read.csv_source import open_csv, sniff
from importer.read.headers import normalise, unique_headers


def mapped(header: str, *rows: str) -> dict[str, str]:
    data = (header + "\n" + "\n".join(rows) + "\n").encode()
    return open_csv(data, file_name="t.csv").columns.as_mapping()


def test_normalise_folds_case_diacritics_and_spacing():
    """'  OMRÅDE ', 'Område' and 'omrade' are one header; the BOM and underscores vanish."""
    assert normalise("\ufeff  OMRÅDE ") == normalise("omrade") == "omrade"
    assert normalise("Start_Date") == "start date"


def test_the_apps_own_swedish_export():
    """`Aktivitet, Startdatum, Slutdatum, Beskrivning, Ring, Aktivitetsgrupp, Etikett` maps
    every column."""
    assert mapped(
        "Aktivitet,Startdatum,Slutdatum,Beskrivning,Ring,Aktivitetsgrupp,Etikett",
        "Möte,2026-01-01,2026-01-02,x,R,G,L",
    ) == {"name": "Aktivitet", "start": "Startdatum", "end": "Slutdatum",
          "description": "Beskrivning", "ring": "Ring", "group": "Aktivitetsgrupp",
          "label": "Etikett"}


def test_the_gantt_export_and_english_export():
    """`Namn, Startdatum, ...` (Gantt, with BOM) and `Activity, Start Date, ...` map too."""
    data = "Namn,Startdatum,Slutdatum,Ring,Aktivitetsgrupp,Etikett,Beskrivning\nA,2026-01-01,2026-01-01,R,G,L,D\n"
    source = open_csv(data.encode("utf-8-sig"), file_name="g.csv")
    assert source.columns.as_mapping()["name"] == "Namn"
    assert mapped("Activity,Start Date,End Date,Category,Owner,Description",
                  "Kickoff,2026-01-10,2026-01-11,Projekt,Anna,Start") == {
        "name": "Activity", "start": "Start Date", "end": "End Date", "group": "Category",
        "label": "Owner", "description": "Description"}


OUTLOOK = (
    '"Subject","Start Date","Start Time","End Date","End Time","All day event",'
    '"Reminder on/off","Reminder Date","Reminder Time","Meeting Organizer","Required Attendees",'
    '"Optional Attendees","Meeting Resources","Billing Information","Categories","Description",'
    '"Location","Mileage","Priority","Private","Sensitivity","Show time as"'
)
GOOGLE = "Subject,Start Date,Start Time,End Date,End Time,All Day Event,Description,Location,Private"


def test_outlook_calendar_export():
    """Outlook's export maps subject, dates, categories and description; times are noise."""
    row = ('"Styrelsemöte","3/14/2026","10:00:00 AM","3/14/2026","11:00:00 AM","False","False",'
           '"","","Anna","","","","","Möten","Agenda","Rum 1","","Normal","False","Normal","2"')
    source = open_csv(f"{OUTLOOK}\r\n{row}\r\n".encode(), file_name="outlook.csv")
    assert source.columns.as_mapping() == {
        "name": "Subject", "start": "Start Date", "end": "End Date", "group": "Categories",
        "description": "Description"}
    (activity,) = list(source)
    assert activity.start == date(2026, 3, 14) and activity.group == "Möten"
    assert activity.description == "Agenda • Meeting Organizer: Anna • Location: Rum 1"


def test_google_calendar_export():
    """Google Calendar's CSV maps without help; a US month-first column is read as such."""
    source = open_csv(
        (GOOGLE + "\nLansering,05/20/2026,10:00 AM,05/21/2026,11:00 AM,False,Ny version,Sthlm,False\n"
         "Planering,05/02/2026,,05/02/2026,,True,,,False\n").encode(),
        file_name="google.csv",
    )
    assert source.columns.as_mapping() == {
        "name": "Subject", "start": "Start Date", "end": "End Date", "description": "Description"}
    first, second = list(source)
    assert (first.start, first.end) == (date(2026, 5, 20), date(2026, 5, 21))
    assert second.start == date(2026, 5, 2)  # month-first for the whole column


def test_accounting_firm_file():
    """Klientansvarig becomes the label, a range column gives start and end, the rest goes to
    the description."""
    data = (
        "Kundnummer;Kund;Aktivitet;Räkenskapsår;Klientansvarig;Handläggare;Företagsform\n"
        "1001;Bygg AB;Bokslut;20250101-20251231;Marie Isidorsson;Per;AB\n"
        "1002;Café HB;Inkomstdeklaration;20250501-20260430;Per Olsson;;HB\n"
    ).encode("cp1252")
    source = open_csv(data, file_name="klienter.csv")
    mapping = source.columns.as_mapping()
    assert mapping["name"] == "Aktivitet"
    assert mapping["start"] == "Räkenskapsår"
    assert mapping["label"] == "Klientansvarig"
    first, second = list(source)
    assert (first.start, first.end, first.label) == (date(2025, 1, 1), date(2025, 12, 31),
                                                       "Marie Isidorsson")
    assert first.description == "Kundnummer: 1001 • Kund: Bygg AB • Handläggare: Per • Företagsform: AB"
    assert (second.start, second.end) == (date(2025, 5, 1), date(2026, 4, 30))


def test_person_column_is_extra_when_a_label_column_exists():
    """With an Etikett column, Ansvarig is description, not a second label."""
    source = open_csv(b"Aktivitet,Datum,Etikett,Ansvarig\nA,2026-01-01,Viktig,Eva\n",
                      file_name="t.csv")
    (row,) = list(source)
    assert (row.label, row.description) == ("Viktig", "Ansvarig: Eva")


def test_content_sniffing_when_headers_say_nothing():
    """Unknown headers: date-looking columns become start and end, the most varied text column
    the name."""
    data = ("Kol1,Kol2,Kol3,Kol4\n"
            "Ekonomi,Budget 2026,2026-01-10,2026-02-10\n"
            "Ekonomi,Prognos,2026-03-01,2026-03-31\n"
            "HR,Lönerevision,2026-04-01,2026-04-30\n").encode()
    source = open_csv(data, file_name="t.csv")
    assert source.columns.as_mapping() == {"name": "Kol2", "start": "Kol3", "end": "Kol4"}


def test_customer_numbers_are_not_dates():
    """A column of small integers is not taken for Excel serials by content sniffing."""
    data = b"Nr,Vad,Nar\n12,Bokslut,2026-01-10\n13,Moms,2026-02-12\n"
    assert open_csv(data, file_name="t.csv").columns.as_mapping() == {
        "name": "Vad", "start": "Nar"}


def test_serials_in_a_named_date_column():
    """Excel serial numbers in a column named as a date are read as dates."""
    (row,) = list(open_csv(b"Aktivitet,Startdatum\nA,45731\n", file_name="t.csv"))
    assert row.start == date(2025, 3, 15)


def test_mapping_overrides_detection():
    """The client's mapping wins over header names, matched exactly or loosely."""
    data = "Titel,Datum,Område,Notering\nA,2026-01-01,Ekonomi,Anna\n".encode()
    source = open_csv(data, file_name="t.csv",
                      mapping={"name": "Notering", "start": "datum", "group": "Område",
                               "label": None})
    (row,) = list(source)
    assert (row.name, row.group, row.ring) == ("Anna", "Ekonomi", None)
    assert row.description == "Titel: A"


@pytest.mark.parametrize(
    "mapping",
    [{"name": "Finns inte"}, {"colour": "Titel"}, {"name": 3}, ["Titel"]],
)
def test_bad_mapping_is_a_bad_request(mapping):
    """A mapping naming an unknown header or field raises BadRequest(bad_mapping)."""
    data = b"Titel,Datum\nA,2026-01-01\n"
    with pytest.raises(BadRequest) as info:
        open_csv(data, file_name="t.csv", mapping=mapping)
    assert info.value.code == "bad_mapping"
    with pytest.raises(BadRequest):
        sniff(data, mapping=mapping, complete=True)


def test_detect_on_headers_alone():
    """detect() works from headers without any sample."""
    columns = detect(["Händelse", "Från", "Till", "Kategori"], [])
    assert columns.as_mapping() == {"name": "Händelse", "start": "Från", "end": "Till",
                                    "group": "Kategori"}


def test_rejections_carry_row_column_and_reason():
    """Each bad row names its spreadsheet row, the header to blame and a Swedish reason."""
    data = (
        "Aktivitet;Startdatum;Slutdatum;Ring\n"
        "OK;2026-01-01;2026-01-02;R\n"          # row 2
        ";2026-01-01;;\n"                       # row 3: no name
        "Feb;31/02/2026;;\n"                    # row 4: impossible date
        "Bakvänd;2026-03-10;2026-03-01;\n"      # row 5: end before start
        "Tom start;;2026-03-01;\n"              # row 6
        "Årtal;1850-01-01;;\n"                  # row 7
        f"Lång ring;2026-01-01;;{'r' * 101}\n"  # row 8
        "Länge;2020-01-01;2031-01-02;\n"        # row 9: more than 10 years
        "Kort slut;2026-01-05;bad;\n"           # row 10
    ).encode()
    rows = list(open_csv(data, file_name="t.csv"))
    assert isinstance(rows[0], Activity)
    got = [(r.row_number, r.column, r.reason) for r in rows[1:]]
    assert got == [
        (3, "Aktivitet", "Namn saknas"),
        (4, "Startdatum", "Ogiltigt startdatum: '31/02/2026'"),
        (5, "Slutdatum", "Slutdatum före startdatum"),
        (6, "Startdatum", "Startdatum saknas"),
        (7, "Startdatum", "Ogiltigt startdatum: '1850-01-01' (Årtalet 1850 är orimligt i '1850-01-01')"),
        (8, "Ring", "Ring: namnet är längre än 100 tecken (101)"),
        (9, "Slutdatum", "Aktiviteten spänner över mer än 10 år"),
        (10, "Slutdatum", "Ogiltigt slutdatum: 'bad'"),
    ]
    assert all(isinstance(r, Rejection) for r in rows[1:])
    assert rows[1].values == ("", "2026-01-01", "", "")


def test_missing_end_gives_a_one_day_item():
    """No end date means the item ends the day it starts."""
    (row,) = list(open_csv(b"Aktivitet,Datum\nA,2026-05-05\n", file_name="t.csv"))
    assert row.start == row.end == date(2026, 5, 5)


def test_month_first_decided_from_a_late_row():
    """A column whose first 50 rows are ambiguous is decided from the whole column."""
    rows = [f"A{i},01/02/2026" for i in range(120)] + ["Sen,02/13/2026"]
    data = ("Aktivitet,Datum\n" + "\n".join(rows) + "\n").encode()
    result = list(open_csv(data, file_name="t.csv"))
    assert result[0].start == date(2026, 1, 2)
    assert result[-1].start == date(2026, 2, 13)


def test_day_first_is_the_default_for_ambiguous_columns():
    """A column that never proves its order is read day-first, like Swedish files."""
    (row,) = list(open_csv(b"Aktivitet,Datum\nA,01/02/2026\n", file_name="t.csv"))
    assert row.start == date(2026, 2, 1)


def test_default_year_fills_yearless_dates():
    """`3 maj` reads with the default year given to open_csv."""
    (row,) = list(open_csv(b"Aktivitet,Datum\nA,3 maj\n", file_name="t.csv",
                           default_year=2027))
    assert row.start == date(2027, 5, 3)


def test_mapping_null_switches_a_field_off():
    """A field mapped to null is not detected: its column goes to the description."""
    data = b"Aktivitet,Datum,Etikett\nA,2026-01-01,Viktig\n"
    (row,) = list(open_csv(data, file_name="t.csv", mapping={"label": None}))
    assert (row.label, row.description) == (None, "Etikett: Viktig")


def test_start_and_deadline_side_by_side():
    """With both Start and Deadline, the deadline is the end."""
    assert mapped("Uppgift,Start,Deadline", "A,2026-01-01,2026-02-01") == {
        "name": "Uppgift", "start": "Start", "end": "Deadline"}


def test_conflicting_late_rows_settle_day_first():
    """Month-first proof followed by day-first proof in one column means day-first."""
    rows = [f"A{i},01/02/2026" for i in range(60)] + ["B,02/13/2026", "C,13/02/2026"]
    data = ("Aktivitet,Datum\n" + "\n".join(rows) + "\n").encode()
    result = list(open_csv(data, file_name="t.csv"))
    assert result[0].start == date(2026, 2, 1)
    assert isinstance(result[-2], Rejection) and result[-1].start == date(2026, 2, 13)


def test_loose_person_header_becomes_the_label():
    """'Projektansvarig' names a person too; the app's own 'Tid' stays in the description."""
    data = b"Aktivitet,Datum,Tid,Projektansvarig\nA,2026-01-01,10:00,Eva\n"
    (row,) = list(open_csv(data, file_name="t.csv"))
    assert (row.label, row.description) == ("Eva", "Tid: 10:00")


# -- calendar exports in six languages (issue 15, kinds 1 and 2) --------------------------------

# Outlook's 22 columns in its order, as each language's Outlook writes them, with its "true".
OUTLOOK_HEADERS = {
    "en": ("Subject,Start Date,Start Time,End Date,End Time,All day event,Reminder on/off,"
           "Reminder Date,Reminder Time,Meeting Organizer,Required Attendees,Optional Attendees,"
           "Meeting Resources,Billing Information,Categories,Description,Location,Mileage,Priority,"
           "Private,Sensitivity,Show time as", "True"),
    "sv": ("Ämne,Startdatum,Starttid,Slutdatum,Sluttid,Heldagshändelse,Påminnelse på/av,"
           "Påminnelsedatum,Påminnelsetid,Mötesarrangör,Obligatoriska deltagare,Valfria deltagare,"
           "Mötesresurser,Faktureringsinformation,Kategorier,Beskrivning,Plats,Körsträcka,Prioritet,"
           "Privat,Känslighet,Visa tid som", "Sant"),
    "no": ("Emne,Startdato,Starttid,Sluttdato,Sluttid,Heldagsavtale,Påminnelse på/av,"
           "Påminnelsesdato,Påminnelsestid,Møtearrangør,Obligatoriske deltakere,Valgfrie deltakere,"
           "Møteressurser,Faktureringsinformasjon,Kategorier,Beskrivelse,Sted,Kjørelengde,Prioritet,"
           "Privat,Følsomhet,Vis tid som", "Sann"),
    "da": ("Emne,Startdato,Starttidspunkt,Slutdato,Sluttidspunkt,Heldagsbegivenhed,Påmindelse til/fra,"
           "Påmindelsesdato,Påmindelsesklokkeslæt,Mødearrangør,Obligatoriske deltagere,"
           "Valgfrie deltagere,Mødelokaler,Faktureringsoplysninger,Kategorier,Beskrivelse,Placering,"
           "Kørsel,Prioritet,Privat,Følsomhed,Vis tid som", "Sand"),
    "fi": ("Aihe,Alkamispäivä,Alkamisaika,Päättymispäivä,Päättymisaika,Koko päivän tapahtuma,"
           "Muistutus käytössä/ei käytössä,Muistutuspäivä,Muistutusaika,Kokouksen järjestäjä,"
           "Pakolliset osallistujat,Valinnaiset osallistujat,Kokousresurssit,Laskutustiedot,Luokat,"
           "Kuvaus,Sijainti,Matka,Prioriteetti,Yksityinen,Luottamuksellisuus,Näytä aika muodossa", "Tosi"),
    "de": ("Betreff,Beginnt am,Beginnt um,Endet am,Endet um,Ganztägiges Ereignis,Erinnerung Ein/Aus,"
           "Erinnerung am,Erinnerung um,Besprechungsplanung,Erforderliche Teilnehmer,"
           "Optionale Teilnehmer,Besprechungsressourcen,Abrechnungsinformationen,Kategorien,"
           "Beschreibung,Ort,Reisekilometer,Priorität,Privat,Vertraulichkeit,Zeitspanne zeigen als", "Wahr"),
}
# The date each language's Outlook writes for 14 September 2026 (its locale's short date).
OUTLOOK_DATES = {"en": ("9/14/2026", "9/17/2026"), "sv": ("2026-09-14", "2026-09-17"),
                 "no": ("14.09.2026", "17.09.2026"), "da": ("14-09-2026", "17-09-2026"),
                 "fi": ("14.9.2026", "17.9.2026"), "de": ("14.09.2026", "17.09.2026")}


def _outlook_row(values: dict[int, str]) -> str:
    return ",".join(f'"{values.get(i, "")}"' for i in range(22))


@pytest.mark.parametrize("language", sorted(OUTLOOK_HEADERS))
def test_outlook_export_in_each_language(language):
    """Outlook's export in English, Swedish, Norwegian, Danish, Finnish and German: subject,
    dates, categories and description are mapped, the housekeeping columns are dropped like
    the English ones, organizer and location go to the description, and an all-day event's
    exclusive end (the next day) gives the day before as its last day."""
    header, true = OUTLOOK_HEADERS[language]
    names = header.split(",")
    first, after = OUTLOOK_DATES[language]
    housekeeping = {6: true, 7: first, 8: "08:00:00", 12: "Rum A", 13: "Projekt 7", 17: "12",
                    18: "Normal", 19: "False", 20: "Normal", 21: "3"}
    all_day = {0: "Konferens", 1: first, 2: "00:00:00", 3: after, 4: "00:00:00", 5: true,
               9: "Anna", 14: "Resa", 15: "Två dagar", 16: "Göteborg", **housekeeping}
    timed = {0: "Möte", 1: first, 2: "09:00:00", 3: first, 4: "10:00:00", 5: "False",
             14: "Möten", **housekeeping}
    data = "\r\n".join([header, _outlook_row(all_day), _outlook_row(timed)]) + "\r\n"
    source = open_csv(data.encode("utf-8-sig"), file_name="outlook.csv")
    assert source.columns.as_mapping() == {"name": names[0], "start": names[1], "end": names[3],
                                           "group": names[14], "description": names[15]}
    assert source.columns.calendar == ("outlook", language)
    conference, meeting = list(source)
    assert (conference.start, conference.end, conference.group) == (
        date(2026, 9, 14), date(2026, 9, 16), "Resa")
    assert conference.description == f"Två dagar • {names[9]}: Anna • {names[16]}: Göteborg"
    assert (meeting.start, meeting.end, meeting.description) == (date(2026, 9, 14), date(2026, 9, 14), None)


GOOGLE_HEADERS = {
    "en": "Subject,Start Date,Start Time,End Date,End Time,All Day Event,Description,Location,Private",
    "sv": "Ämne,Startdatum,Starttid,Slutdatum,Sluttid,Heldagshändelse,Beskrivning,Plats,Privat",
    "no": "Emne,Startdato,Starttid,Sluttdato,Sluttid,Heldagsavtale,Beskrivelse,Sted,Privat",
    "da": "Emne,Startdato,Starttidspunkt,Slutdato,Sluttidspunkt,Heldagsbegivenhed,Beskrivelse,Placering,Privat",
    "fi": "Aihe,Alkamispäivä,Alkamisaika,Päättymispäivä,Päättymisaika,Koko päivän tapahtuma,Kuvaus,Sijainti,Yksityinen",
    "de": "Betreff,Beginnt am,Beginnt um,Endet am,Endet um,Ganztägiges Ereignis,Beschreibung,Ort,Privat",
}


@pytest.mark.parametrize("language", sorted(GOOGLE_HEADERS))
def test_google_calendar_format_in_each_language(language):
    """Google Calendar's import format under each language's names: all-day events with an
    exclusive end (flag set, or an end time of 00:00 on a later day) end the day before, a
    one-day all-day event stays one day, Private is dropped and Location described."""
    header = GOOGLE_HEADERS[language]
    true = OUTLOOK_HEADERS[language][1]
    rows = ["Sportlov,2026-02-23,,2026-02-28,," + true + ",Vecka 9,,False",
            "Nationaldagen,2026-06-06,,2026-06-06,," + true + ",,,False",
            "Kväll,2026-05-20,22:00,2026-05-21,00:00,False,,Hemma,True",
            "Workshop,2026-05-20,09:00,2026-05-21,16:00,False,,,False"]
    source = open_csv(("\n".join([header, *rows]) + "\n").encode(), file_name="google.csv")
    assert source.columns.calendar == ("google", language)
    got = [(r.name, r.start, r.end, r.description) for r in source]
    location = header.split(",")[7]
    assert got == [("Sportlov", date(2026, 2, 23), date(2026, 2, 27), "Vecka 9"),
                   ("Nationaldagen", date(2026, 6, 6), date(2026, 6, 6), None),
                   ("Kväll", date(2026, 5, 20), date(2026, 5, 20), f"{location}: Hemma"),
                   ("Workshop", date(2026, 5, 20), date(2026, 5, 21), None)]


def test_a_plain_sheet_with_a_heldag_column_keeps_inclusive_ends():
    """A person's own sheet is not a calendar export: its end date is the last day even with a
    Heldag column, and a Swedish end time column without 00:00 changes nothing."""
    data = "Aktivitet,Startdatum,Slutdatum,Heldag,Sluttid\nSportlov,2026-02-23,2026-02-27,Ja,16:00\n"
    (row,) = list(open_csv(data.encode(), file_name="t.csv"))
    assert (row.start, row.end) == (date(2026, 2, 23), date(2026, 2, 27))


# -- repeated headers (issue 15, kind 6) --------------------------------------------------------

def test_two_date_columns_with_one_header_are_start_and_end():
    """`Datum,Datum` is start and end (the second named `Datum#2`), nothing in the description."""
    source = open_csv(b"Aktivitet;Datum;Datum\nProjektvecka;2026-05-04;2026-05-08\n", file_name="t.csv")
    assert source.columns.as_mapping() == {"name": "Aktivitet", "start": "Datum", "end": "Datum#2"}
    (row,) = list(source)
    assert (row.start, row.end, row.description) == (date(2026, 5, 4), date(2026, 5, 8), None)


@pytest.mark.parametrize("header", ["Slutdatum,Slutdatum", "End Date,end date", "Till,Till"])
def test_two_end_columns_with_one_header_are_start_and_end_too(header):
    """Whatever date header is repeated (an end's, in any case), the first is the start and
    the repeat the end."""
    (row,) = list(open_csv(f"Aktivitet,{header}\nA,2026-05-04,2026-05-08\n".encode(), file_name="t.csv"))
    assert (row.start, row.end) == (date(2026, 5, 4), date(2026, 5, 8))


def test_other_repeats_are_named_and_never_merged():
    """A repeated non-date header keeps both columns, the repeat named `Header#2` in the
    description and for mapping; a third repeat is `Header#3`."""
    data = b"Aktivitet,Datum,Kommentar,Kommentar,Kommentar\nA,2026-05-04,ett,tva,tre\n"
    source = open_csv(data, file_name="t.csv")
    assert source.columns.headers == ("Aktivitet", "Datum", "Kommentar", "Kommentar#2", "Kommentar#3")
    (row,) = list(source)
    assert row.description == "ett • Kommentar#2: tva • Kommentar#3: tre"
    mapped_source = open_csv(data, file_name="t.csv", mapping={"label": "Kommentar#2"})
    (mapped,) = list(mapped_source)
    assert (mapped.label, mapped.description) == ("tva", "ett • Kommentar#3: tre")


def test_unique_headers_never_collides_with_a_header_of_the_file():
    """A generated `Header#2` that the file already has becomes `Header#3`; the first of each
    header keeps its name."""
    assert unique_headers(["Datum", "Datum#2", "Datum", "A"]) == ["Datum", "Datum#2", "Datum#3", "A"]
    assert unique_headers(["A", "B"]) == ["A", "B"]


# -- ambiguous date columns (issue 15, kind 7) --------------------------------------------------

def test_an_ambiguous_column_is_read_day_first_and_says_so():
    """A column whose every D/M/Y date reads both ways is read day-first by default, and the
    source carries date_order_assumed with its evidence."""
    data = b"Aktivitet,Datum\nA,01/02/2026\nB,03/04/2026\nC,05/05/2026\n"
    source = open_csv(data, file_name="t.csv")
    assert [r.start for r in source] == [date(2026, 2, 1), date(2026, 4, 3), date(2026, 5, 5)]
    assert (source.date_order, source.date_order_source) == ("day_first", "default")
    (warning,) = source.warnings
    assert (warning.code, warning.details) == ("date_order_assumed", {
        "column": "Datum", "ambiguous": 2, "order": "day_first", "source": "default",
        "example": "01/02/2026", "read_as": "2026-02-01"})


def test_a_requested_order_overrides_and_silences():
    """date_order="month_first" reads the same column month-first with no warning; the source
    says the request decided."""
    data = b"Aktivitet,Datum\nA,01/02/2026\nB,03/04/2026\n"
    source = open_csv(data, file_name="t.csv", date_order="month_first")
    assert [r.start for r in source] == [date(2026, 1, 2), date(2026, 3, 4)]
    assert (source.date_order, source.date_order_source, source.warnings) == ("month_first", "request", ())
    day_first = open_csv(b"Aktivitet,Datum\nA,02/13/2026\n", file_name="t.csv", date_order="day_first")
    (row,) = list(day_first)
    assert isinstance(row, Rejection)  # the request wins over the data's proof
    with pytest.raises(ValueError, match="date_order"):
        open_csv(data, file_name="t.csv", date_order="year_first")


def test_google_calendar_layout_decides_month_first():
    """Google Calendar's import format is month-first: an all-ambiguous column follows it and
    the warning names the layout as the reason."""
    data = (GOOGLE_HEADERS["en"] + "\nLansering,05/04/2026,,05/06/2026,,True,,,False\n").encode()
    source = open_csv(data, file_name="google.csv")
    (row,) = list(source)
    assert (row.start, row.end) == (date(2026, 5, 4), date(2026, 5, 5))
    assert (source.date_order, source.date_order_source) == ("month_first", "layout")
    assert [(w.details["column"], w.details["source"], w.details["order"]) for w in source.warnings] == [
        ("Start Date", "layout", "month_first"), ("End Date", "layout", "month_first")]


def test_a_german_outlook_export_is_day_first_by_its_layout():
    """An export with German headers comes from a day-first locale: an all-ambiguous column is
    read day-first, with the layout as the reason."""
    header = "Betreff,Beginnt am,Beginnt um,Endet am,Endet um,Ganztägiges Ereignis,Erinnerung Ein/Aus,Ort"
    source = open_csv(f"{header}\nTreffen,04.05.2026,10:00:00,04.05.2026,11:00:00,Aus,Aus,Bonn\n".encode(),
                      file_name="de.csv")
    (row,) = list(source)
    assert row.start == date(2026, 5, 4)
    assert {w.details["source"] for w in source.warnings} == {"layout"}


def test_a_column_the_data_decides_has_no_warning():
    """One value that reads only one way decides the column: no warning, source "data"."""
    source = open_csv(b"Aktivitet,Datum\nA,01/02/2026\nB,13/02/2026\n", file_name="t.csv")
    assert (source.date_order, source.date_order_source, source.warnings) == ("day_first", "data", ())


def test_a_mapping_can_keep_columns_out_of_the_description():
    """`ignore` lists headers that go to no field and not to the description; as_mapping gives it
    back, and a value that is not a list of the file's headers is a bad_mapping."""
    headers = ["Aktivitet", "Startdatum", "Ansvar", "Kostnad"]
    sample = [["Möte", "2026-01-01", "Eva", "100"]]
    plain = detect(headers, sample)
    assert [plain.headers[i] for i in plain.extras] == ["Ansvar", "Kostnad"]
    kept_out = detect(headers, sample, {"ignore": ["kostnad"]})
    assert [kept_out.headers[i] for i in kept_out.extras] == ["Ansvar"]
    assert kept_out.as_mapping() == {"name": "Aktivitet", "start": "Startdatum", "ignore": ["Kostnad"]}
    for bad in ("Kostnad", ["Saknas"], [1]):
        with pytest.raises(BadRequest) as refused:
            detect(headers, sample, {"ignore": bad})
        assert refused.value.code == "bad_mapping"
