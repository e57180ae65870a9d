"""A realistic Swedish example file: an accounting firm's client activities, like the original's.

`python -m importer.cli.example_data [ROWS] > importer/examples/aktiviteter.csv` writes the
bundled file (2,000 rows, seed 2025); tests use `write()` for files of any size.
"""

from __future__ import annotations

import csv
import datetime
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

HEADER = ["Aktivitet", "Kund", "Kundnummer", "Företagsform", "Startdatum", "Slutdatum",
          "Område", "Kategori", "Klientansvarig", "Beskrivning"]

ADVISERS = ["Marie Isidorsson", "Johan Lindqvist", "Sara Holm", "Erik Bergström",
            "Anna Nyberg", "Lars Öberg", "Fatima Khalil", "Per Åkesson"]

FIRST = ["Andersson", "Björk", "Carlsson", "Dahl", "Ek", "Forsberg", "Gustafsson", "Hedlund",
         "Isaksson", "Jansson", "Karlsson", "Lund", "Mattsson", "Nilsson", "Olofsson", "Persson",
         "Qvist", "Rask", "Sjöberg", "Törnqvist", "Ulfsson", "Viklund", "Wallin", "Åberg", "Öhman"]
TRADE = ["Bygg", "Måleri", "Konsult", "El", "Redovisning", "Fastigheter", "Transport", "Café",
         "Tandvård", "Design", "VVS", "Skog", "Bageri", "Data", "Fiske"]
FORMS = [("AB", "Aktiebolag"), ("HB", "Handelsbolag"), ("", "Enskild firma"), ("Ek. för.", "Ekonomisk förening")]

# Område (ring) -> Kategori (group) -> (how many days it usually takes, or None for a whole
# fiscal year written as one range YYYYMMDD-YYYYMMDD in Startdatum)
AREAS: dict[str, dict[str, int | None]] = {
    "Bokslut & deklaration": {
        "Bokslut": 30, "Årsredovisning": 21, "Inkomstdeklaration 1": 14, "Inkomstdeklaration 2": 14,
        "Inkomstdeklaration 4": 14, "Räkenskapsår": None, "Bokslutsmöte": 1, "Revision": 10,
        "K10-blankett": 3, "Periodiseringsfond": 2, "Skatteberäkning": 3, "Bolagsstämma": 1,
        "Registrering Bolagsverket": 2,
    },
    "Löpande redovisning": {
        "Momsdeklaration": 5, "Bokföring": 7, "Kvartalsrapport": 10, "Avstämning bank": 2,
        "Leverantörsreskontra": 3, "Kundreskontra": 3, "Månadsbokslut": 5, "Budget": 14,
        "Likviditetsplan": 7, "Anläggningsregister": 2, "Inventering": 2, "Fakturering": 1,
        "Hyresavisering": 1,
    },
    "Lön & personal": {
        "Lönekörning": 2, "Arbetsgivardeklaration": 3, "Kontrolluppgift": 5, "Semesterlöneskuld": 2,
        "Pensionsrapportering": 2, "Traktamenten": 1, "Friskvårdsbidrag": 1, "Förmånsvärden": 2,
        "Sjuklön": 1, "Lönerevision": 7, "Tjänstepension": 2, "Personalmöte": 1, "Introduktion": 3,
    },
}

# Rows that cannot become an item, so that errors.csv has something to show.
BAD_ROWS = [
    ["", "Dahl Måleri HB", "K-1003", "Handelsbolag", "2025-03-01", "2025-03-05",
     "Löpande redovisning", "Bokföring", "Sara Holm", "Namnet saknas"],
    ["Bokslut Ek Fastigheter AB", "Ek Fastigheter AB", "K-1004", "Aktiebolag", "2025-13-45", "",
     "Bokslut & deklaration", "Bokslut", "Johan Lindqvist", "Datum som inte finns"],
    ["Momsdeklaration Lund Café", "Lund Café", "K-1011", "Enskild firma", "snart", "sedan",
     "Löpande redovisning", "Momsdeklaration", "Anna Nyberg", "Datum i fritext"],
    ["Revision Rask Transport AB", "Rask Transport AB", "K-1017", "Aktiebolag", "2025-09-30", "2025-09-01",
     "Bokslut & deklaration", "Revision", "Erik Bergström", "Slutdatum före startdatum"],
    ["Lönekörning Viklund Bageri", "Viklund Bageri", "K-1022", "Enskild firma", "", "",
     "Lön & personal", "Lönekörning", "Per Åkesson", "Inga datum alls"],
    ["Kontrolluppgift Öhman VVS AB", "Öhman VVS AB", "K-1025", "Aktiebolag", "31/02/2025", "",
     "Lön & personal", "Kontrolluppgift", "Lars Öberg", "Den 31 februari"],
]


def clients(rng: random.Random, count: int = 46) -> list[tuple[str, str, str, str]]:
    """(name, number, form, adviser) of the firm's clients."""
    seen: set[str] = set()
    result: list[tuple[str, str, str, str]] = []
    while len(result) < count:
        short, form = rng.choice(FORMS)
        name = f"{rng.choice(FIRST)} {rng.choice(TRADE)}" + (f" {short}" if short else "")
        if name in seen:
            continue
        seen.add(name)
        result.append((name, f"K-{1000 + len(result)}", form, rng.choice(ADVISERS)))
    return result


def rows(count: int, seed: int = 2025, *, bad: bool = True) -> Iterator[list[str]]:
    """`count` data rows; with `bad`, the rows of BAD_ROWS are spread among them."""
    rng = random.Random(seed)
    firm = clients(rng)
    bad_at = {round((i + 1) * count / (len(BAD_ROWS) + 1)): row for i, row in enumerate(BAD_ROWS)} if bad else {}
    for n in range(count):
        if n in bad_at:
            yield bad_at[n]
            continue
        client, number, form, adviser = firm[n % len(firm)]
        area = rng.choice(list(AREAS))
        category, days = rng.choice(list(AREAS[area].items()))
        year = 2025 if rng.random() < 0.8 else 2026
        if days is None:
            # A fiscal year in one column, sometimes broken (brutet räkenskapsår: May to April).
            if rng.random() < 0.7:
                start_text = f"{year}0101-{year}1231"
            else:
                start_text = f"{year}0501-{year + 1}0430"
            end_text = ""
            description = f"Räkenskapsår för {client}"
        else:
            start = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randrange(365))
            if rng.random() < 0.03:
                start = datetime.date(year, 12, rng.randrange(10, 28))  # runs into the next year
                days = max(days, 20)
            end = start + datetime.timedelta(days=rng.randrange(max(days, 1)))
            start_text, end_text = start.isoformat(), end.isoformat()
            description = rng.choice([
                f"{category} för {client}", f"Underlag från kund senast {start_text}",
                f"Kontakta {adviser.split()[0]} vid frågor", "Påminnelse skickas en vecka innan",
                "", "Avstämning med kund; se mail", f"{form}, {number}",
            ])
        yield [f"{category} – {client}", client, number, form, start_text, end_text,
               area, category, adviser, description]


def write(out: TextIO | Path, count: int, seed: int = 2025, *, bad: bool = True) -> None:
    """Write a UTF-8 CSV (comma, quoted where needed) of `count` data rows."""
    if isinstance(out, Path):
        with out.open("w", encoding="utf-8", newline="") as handle:
            write(handle, count, seed, bad=bad)
        return
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows(count, seed, bad=bad))


if __name__ == "__main__":
    write(sys.stdout, int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
