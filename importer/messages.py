"""Every text the reader shows a person, defined once by a stable key, rendered by `render`.

Language per audience (API.md, "Language"):

- Rejection reasons (`row.*`, with the date details `date.*`): Swedish. They go to errors.csv
  and the page's review, for the person who corrects the file; they are rendered when the row
  is read and stored as text, so they keep the language they were read in.
- File errors (`file.*`, UnreadableFile, a 422 or a failed job): Swedish, the page's language.
- Request errors about an import's content: the mapping (`mapping.*`, code `bad_mapping`) and
  the structured JSON body (`payload.*`, code `bad_payload`), 400s. Swedish: they name the
  file's headers or the payload's fields and the page shows them next to what the person
  chose; API.md makes Swedish the default for every message meant for a person. The same
  `mapping.*` entries serve the API's parse of the form field (server/views/imports.py) and the
  reader's check against the headers (importer/read/columns.py), so `bad_mapping` reads alike
  from both.
- The server's other 400s (bad_mode, bad_notify, ...) are still English literals in server/;
  they move here with the issue that adds Accept-Language.

`code`s never change with the language; only these texts do.

Each entry is a key and a Swedish template with named `str.format` placeholders (Babel's
`python-brace-format`). English comes later as an `en` table in CATALOGUES with the same keys
and placeholders (or a gettext catalogue loaded into one): `render(key, **params)` stays the
Swedish default and `render_in(language, key, **params)` answers in a request's language. A
key missing from a language falls back to Swedish, so a partial translation never breaks a
message. Texts made before the request's language is known (raised errors, stored rejection
reasons) would then carry their key and params to the edge and be rendered there, as
DateError already does.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

SWEDISH = "sv"
DEFAULT_LANGUAGE = SWEDISH

SV: Mapping[str, str] = {
    # Rejection reasons: one row that cannot become an item (importer/read/validate.py).
    "row.name_missing": "Namn saknas",
    "row.name_too_long": "Namnet är längre än {limit} tecken ({length})",
    "row.start_missing": "Startdatum saknas",
    "row.start_invalid": "Ogiltigt startdatum: '{value}'",
    "row.start_invalid_because": "Ogiltigt startdatum: '{value}' ({detail})",
    "row.end_invalid": "Ogiltigt slutdatum: '{value}'",
    "row.end_invalid_because": "Ogiltigt slutdatum: '{value}' ({detail})",
    "row.end_before_start": "Slutdatum före startdatum",
    "row.span_too_long": "Aktiviteten spänner över mer än {years} år",
    "row.parent_too_long": "{column}: namnet är längre än {limit} tecken ({length})",
    # Why a date cell is unreadable (importer/read/dates.py DateError), the detail of a reason.
    "date.missing": "Datum saknas",
    "date.invalid": "Ogiltigt datum: '{text}'",
    "date.year_unreasonable": "Årtalet {year} är orimligt i '{text}'",
    "date.year_only": "Bara ett årtal, inget datum: '{text}'",
    "date.year_missing": "Årtal saknas i '{text}'",
    # Files that cannot be an import (UnreadableFile, importer/read/csv_source.py and text.py).
    "file.empty": "Filen är tom.",
    "file.no_data_rows": "Filen har en rubrikrad men inga datarader.",
    "file.no_header": (
        "Filen saknar rubrikrad: första raden ska namnge kolumnerna "
        "(till exempel Aktivitet, Startdatum, Slutdatum)."
    ),
    "file.no_usable_column": (
        "Ingen kolumn kan användas som aktivitetens {missing}. Rubriker: {headers}. "
        "Ange kolumnerna med mapping."
    ),
    "file.missing_name": "namn",
    "file.missing_date": "datum",
    "file.not_text": "Filen är inte en textfil (CSV). Exportera kalkylbladet som CSV och försök igen.",
    "file.looks_like": "Filen ser ut som {kind}, inte en CSV-fil. Exportera den som CSV och försök igen.",
    "file.kind_xlsx": "en Excel- eller zip-fil (xlsx)",
    "file.kind_xls": "en Excel-fil (xls)",
    "file.kind_pdf": "en PDF-fil",
    "file.kind_png": "en PNG-bild",
    "file.kind_jpeg": "en JPEG-bild",
    "file.kind_gif": "en GIF-bild",
    "file.kind_gzip": "en gzip-fil",
    "file.kind_7z": "en 7z-fil",
    "file.kind_rar": "en rar-fil",
    # Workbooks (importer/read/spreadsheet.py, spreadsheet_kinds.py, spreadsheet_sandbox.py).
    "file.workbook_encrypted": (
        "Arbetsboken är krypterad (skyddad med lösenord) och kan inte läsas. Spara en kopia utan "
        "lösenord (i Excel: Arkiv > Info > Skydda arbetsbok > Kryptera med lösenord, töm fältet) "
        "och försök igen."
    ),
    "file.workbook_damaged": (
        "Arbetsboken kan inte läsas: filen är skadad eller ingen riktig {kind}-fil. Öppna den i "
        "Excel eller LibreOffice, spara den på nytt och försök igen."
    ),
    "file.workbook_bomb": (
        "Arbetsboken packas upp till orimligt mycket ({ratio} gånger sin storlek i '{member}') och "
        "läses inte."
    ),
    "file.workbook_inflates": "Arbetsboken packas upp till {megabytes} MB; högst {limit} MB läses.",
    "file.workbook_members": "Arbetsboken består av {members} delar; så många har ingen riktig arbetsbok.",
    "file.workbook_cells": (
        "Bladet '{sheet}' är för stort att läsa ({rows} rader × {columns} kolumner; högst {limit} "
        "celler). Dela upp det eller spara det som CSV."
    ),
    "file.workbook_limits": (
        "Arbetsboken kunde inte läsas inom {megabytes} MB minne och {seconds} sekunder. Dela upp "
        "den eller spara bladet som CSV."
    ),
    "file.workbook_no_data": "Arbetsboken har inget synligt blad med data (blad: {sheets}).",
    # The `sheet` a request names (code bad_sheet, a 400 like bad_mapping).
    "file.sheet_unknown": "Bladet '{sheet}' finns inte i arbetsboken. Blad: {sheets}",
    # Cells that become text as Swedish Excel writes them in CSV; part of the data, so Swedish.
    "file.cell_true": "SANT",
    "file.cell_false": "FALSKT",
    # The name given to a column whose header cell is empty. It becomes part of the data (a
    # header in errors.csv, a name a mapping may use), so it is always rendered in Swedish.
    "file.unnamed_column": "Kolumn {number}",
    # The client's mapping (code bad_mapping): the API's parse and the reader's check.
    "mapping.not_json": "mapping är inte giltig JSON.",
    "mapping.not_object": "mapping ska vara ett JSON-objekt",
    "mapping.unknown_field": "Okänt fält i mapping: '{field}' (tillåtna: {allowed})",
    "mapping.not_text": "mapping.{field} ska vara en rubrik (text)",
    "mapping.ignore_not_list": "mapping.ignore ska vara en lista av rubriker i filen",
    "mapping.no_such_column": "Kolumnen '{header}' (mapping.{field}) finns inte i filen. Rubriker: {headers}",
    # The structured JSON body (code bad_payload, or no_data_rows), importer/read/structured.py.
    "payload.not_json": "Ogiltig JSON: {error}",
    "payload.not_object": "Kroppen ska vara ett JSON-objekt",
    "payload.bad_mode": "importMode ska vara 'append' eller 'replace', inte {value!r}",
    "payload.file_name_not_text": "fileName ska vara text",
    "payload.structure_not_object": "structure ska vara ett objekt",
    "payload.not_list_of_objects": "{where} ska vara en lista av objekt",
    "payload.bad_ring_type": "{where} ska vara 'inner' eller 'outer', inte {value!r}",
    "payload.pages_not_list": "pages ska vara en lista",
    "payload.page_not_object": "{where} ska vara ett objekt med en lista items",
    "payload.item_not_object": "{where} ska vara ett objekt",
    "payload.unknown_ref": "{where} {ref!r} finns inte i {declared}",
    "payload.id_missing": "{where} saknas",
    "payload.id_twice": "{where} {ref!r} förekommer två gånger",
    "payload.name_missing": "{where} saknas",
    "payload.name_too_long": "{where} är längre än {limit} tecken",
    "payload.bad_color": "{where} ska vara #RRGGBB, inte {value!r}",
    "payload.no_items": "Importen innehåller inga aktiviteter.",
    # Warnings about a file (importer.model.JobWarning), on a preview and on its job: rendered by
    # render_warning, which adds `<list>_text` for each list in the details and `order_words`.
    "warning.date_order_assumed": "Alla datum i kolumnen '{column}' kan läsas på två sätt ({ambiguous} st); "
                                  "de lästes med {order_words}. Välj datumordning om det blev fel.",
    "warning.unmapped_column": "Kolumner med data som inget fält tar: {columns_text}.",
    "warning.duplicate_items": "{count} aktiviteter fanns redan i årshjulet {outcome_words}.",
    "warning.long_items": "{count} aktiviteter är längre än {days} dagar.",
    "warning.same_dates": "Alla aktiviteter har samma datum ({date}).",
    "warning.encoding_repaired": "{bytes} byte var inte giltig text i filens teckenkodning och ersattes "
                                 "(på {rows} rader).",
    "warning.other_sheets": "Arbetsboken har fler blad med data: {sheets_text}. Bladet '{sheet}' lästes.",
}

#: A warning's key in the catalogue, by its code (importer.model.WARNINGS).
WARNING_KEYS = {
    "date_order_assumed": "warning.date_order_assumed",
    "unmapped_column": "warning.unmapped_column",
    "duplicate_items": "warning.duplicate_items",
    "long_items": "warning.long_items",
    "same_dates": "warning.same_dates",
    "encoding_repaired": "warning.encoding_repaired",
    "other_sheets": "warning.other_sheets",
}
ORDER_WORDS = {"day_first": "dagen före månaden", "month_first": "månaden före dagen"}
SKIPPED_WORDS = {True: "och hoppades över", False: "och importerades ändå"}

#: Language code -> its table. Adding English is adding `"en": EN` with the keys of SV.
CATALOGUES: dict[str, Mapping[str, str]] = {SWEDISH: SV}


def render(key: str, /, **params: object) -> str:
    """The Swedish text of `key` with `params` filled into its placeholders.

    Raises KeyError for a key the catalogue lacks, or a placeholder `params` does not fill.
    """
    return render_in(DEFAULT_LANGUAGE, key, **params)


def render_in(language: str, key: str, /, **params: object) -> str:
    """The text of `key` in `language` (Swedish when that language lacks it or is unknown),
    with `params` filled into its placeholders. Raises KeyError as `render` does."""
    template = CATALOGUES.get(language, SV).get(key)
    if template is None:
        template = SV[key]
    return template.format_map(params)


def render_warning(code: str, details: Mapping[str, object], language: str = DEFAULT_LANGUAGE) -> str:
    """The text of a warning (importer.model.JobWarning) for a person: its details fill the
    template, each list among them also as `<name>_text` ("a, b, c"), a date order code also
    as `order_words`, whether duplicates were skipped as `outcome_words`; a detail the template
    names but the warning lacks shows as "?". Raises KeyError for an unknown code."""
    params: dict[str, object] = dict(details)
    for name, value in details.items():
        if isinstance(value, list | tuple):
            params[f"{name}_text"] = ", ".join(str(v) for v in value)
    order = details.get("order")
    if isinstance(order, str):
        params["order_words"] = ORDER_WORDS.get(order, order)
    if "skipped" in details:
        params["outcome_words"] = SKIPPED_WORDS[bool(details["skipped"])]
    template = CATALOGUES.get(language, SV).get(WARNING_KEYS[code]) or SV[WARNING_KEYS[code]]
    # A detail the template names but the warning lacks shows as "?": a warning must never be
    # what fails an import (tests hold every producer to its template's details).
    return template.format_map(_Lenient(params))


class _Lenient(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "?"


def placeholders(template: str) -> frozenset[str]:
    """The named placeholders of a template (`"{where} {ref!r}"` -> `{"where", "ref"}`)."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)
