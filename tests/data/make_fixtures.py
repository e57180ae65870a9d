"""Writes the two workbook fixtures no test can make on the fly (run by hand, not by pytest):

    pip install --target /tmp/gen xlwt msoffcrypto-tool
    PYTHONPATH=/tmp/gen .venv/bin/python tests/data/make_fixtures.py

- `aktiviteter.xls`: a real BIFF8 workbook (MS-XLS) as Excel 97-2003 writes it, from xlwt
  (LibreOffice, the usual writer, is not on the machines): sheet "Aktiviteter" with date cells
  in two display formats, a number, a text date, and a hidden sheet "Dolt" that has data.
- `krypterad.xlsx`: an OOXML workbook encrypted with the password "hemligt" (Agile
  encryption, MS-OFFCRYPTO 2.3.4.10) by msoffcrypto-tool: an OLE2 compound file with the
  streams EncryptionInfo and EncryptedPackage, not a ZIP.
"""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))


def write_xls(path: Path) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Aktiviteter")
    iso = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    swedish = xlwt.easyxf(num_format_str="D MMMM YYYY")
    for column, header in enumerate(["Aktivitet", "Startdatum", "Slutdatum", "Område", "Antal"]):
        sheet.write(0, column, header)
    rows = [
        ("Budgetmöte", date(2026, 3, 2), date(2026, 3, 3), "Ekonomi", 4.0),
        ("Årsredovisning", date(2026, 4, 15), date(2026, 5, 30), "Ekonomi", 12.0),
        ("Vårfest", date(2026, 6, 5), None, "Personal", 1.5),
    ]
    for r, (name, start, end, ring, count) in enumerate(rows, start=1):
        sheet.write(r, 0, name)
        sheet.write(r, 1, start, iso)
        if end is not None:
            sheet.write(r, 2, end, swedish)
        sheet.write(r, 3, ring)
        sheet.write(r, 4, count)
    hidden = book.add_sheet("Dolt")
    hidden.write(0, 0, "Aktivitet")
    hidden.write(0, 1, "Datum")
    hidden.write(1, 0, "Hemlig")
    hidden.write(1, 1, date(2026, 1, 1), iso)
    hidden.visibility = 1  # BOUNDSHEET hsState 1: hidden (MS-XLS 2.4.28)
    book.save(str(path))


def write_encrypted(path: Path) -> None:
    import msoffcrypto.format.ooxml

    from tests.data.workbooks import xlsx

    plain = xlsx({"Aktiviteter": [["Aktivitet", "Startdatum"], ["Möte", date(2026, 3, 2)]]})
    out = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(plain)).encrypt("hemligt", out)
    path.write_bytes(out.getvalue())


if __name__ == "__main__":
    write_xls(HERE / "aktiviteter.xls")
    write_encrypted(HERE / "krypterad.xlsx")
