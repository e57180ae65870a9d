"""Column detection: header synonyms in Swedish and English, calendar exports, content sniffing
and the client's mapping."""

from __future__ import annotations

from datetime import date

import pytest

from importer.errors import BadRequest
from importer.model import Activity, Rejection
from importer.read.columns import detect, normalise
from importer.read.csv_source import open_csv, sniff


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
