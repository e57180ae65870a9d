"""The message catalogues (importer/locale/{sv,en}/LC_MESSAGES/messages.po, Babel-managed,
loaded with gettext): every key the code uses exists in both languages, every entry is used,
placeholders are identical across languages, every template renders, the committed .mo files
match their .po, and rendering answers in the asked language with Swedish as the fallback."""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from importer import messages
from importer.errors import BadRequest, NotFound, UnreadableFile
from importer.messages import Term, placeholders, render, render_in, use_language
from importer.model import WARNINGS
from importer.read.csv_source import open_csv

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "importer" / "locale"
# Keys appear as string literals: render("row.name_missing"), DateError("date.invalid"), ...
KEY = re.compile(r"""["']((?:row|date|file|mapping|payload|warning|api|job|cell|sheet|mail)\.[a-z0-9_]+)["']""")
USERS = [*sorted((ROOT / "importer").rglob("*.py")), *sorted((ROOT / "server").rglob("*.py"))]


def catalogue(language: str) -> dict[str, str]:
    """The entries of a language's .po file, key -> template."""
    with open(LOCALE / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return {m.id: m.string for m in read_po(f, locale=language) if m.id}


SV = catalogue("sv")
EN = catalogue("en")


def used_keys() -> set[str]:
    return {key for path in USERS for key in KEY.findall(path.read_text(encoding="utf-8"))}


def test_every_key_the_code_names_is_in_both_catalogues():
    """No module of importer/ or server/ names a key that the Swedish or the English catalogue lacks."""
    used = used_keys()
    assert used - set(SV) == set()
    assert used - set(EN) == set()


def test_every_catalogue_entry_is_used():
    """The catalogues hold no entry that no module names, and both hold the same keys."""
    assert set(SV) - used_keys() == set()
    assert set(SV) == set(EN)


@pytest.mark.parametrize("key", sorted(SV))
def test_placeholders_are_identical_across_languages(key):
    """A key's English template names exactly the placeholders of its Swedish one, is not empty,
    and carries Babel's python-brace-format flag when it has placeholders."""
    assert EN[key] and SV[key]
    assert placeholders(EN[key]) == placeholders(SV[key]), (SV[key], EN[key])
    for language in ("sv", "en"):
        # Read from the file's text: Babel's reader drops the flag again where the msgid (our
        # key) has no braces.
        text = (LOCALE / language / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
        flagged = set(re.findall(r'^#, .*python-brace-format.*\nmsgid "([^"]+)"', text, re.MULTILINE))
        assert (key in flagged) == bool(placeholders(SV[key])), (language, key)


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("key", sorted(SV))
def test_every_template_renders_with_its_placeholders(key, language):
    """Each template is valid str.format syntax and renders in each language once its
    placeholders are given."""
    text = render_in(language, key, **dict.fromkeys(placeholders(SV[key]), "X"))
    assert text and "{" not in text


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_committed_mo_files_match_their_po(language):
    """Each committed .mo holds exactly what Babel compiles from its .po (after editing a .po:
    `pybabel compile -d importer/locale -D messages`)."""
    directory = LOCALE / language / "LC_MESSAGES"
    with open(directory / "messages.po", "rb") as f:
        compiled = io.BytesIO()
        write_mo(compiled, read_po(f, locale=language))
    compiled.seek(0)
    with open(directory / "messages.mo", "rb") as f:
        committed = gettext.GNUTranslations(f)
    fresh = gettext.GNUTranslations(compiled)
    keys = set(SV)
    assert {k: committed.gettext(k) for k in keys} == {k: fresh.gettext(k) for k in keys}, (
        "run: pybabel compile -d importer/locale -D messages")


def test_render_fills_named_placeholders_and_refuses_unknown_keys():
    """Placeholders are filled by name (with !r where the template asks); a missing one or an
    unknown key raises KeyError."""
    assert render("row.name_too_long", limit=200, length=201) == "Namnet är längre än 200 tecken (201)"
    assert render("payload.bad_mode", value="merge") == (
        "importMode ska vara 'append' eller 'replace', inte 'merge'")
    with pytest.raises(KeyError):
        render("row.name_too_long", limit=200)
    with pytest.raises(KeyError):
        render("row.no_such_key")
    with pytest.raises(KeyError):
        render_in("en", "row.no_such_key")


def test_render_in_answers_in_the_language_with_swedish_for_unknown_languages():
    """render_in gives the English text for "en", the Swedish one for "sv" and for a language
    the service does not have ("fi")."""
    assert render_in("en", "row.name_missing") == "Name missing"
    assert render_in("sv", "row.name_missing") == "Namn saknas"
    assert render_in("fi", "row.name_missing") == "Namn saknas"


def test_render_follows_the_current_language_only_inside_use_language():
    """render answers in Swedish by default, in English inside use_language("en"), and in
    Swedish again after the block."""
    assert render("file.empty") == "Filen är tom."
    with use_language("en"):
        assert render("file.empty") == "The file is empty."
        assert messages.current_language() == "en"
    assert render("file.empty") == "Filen är tom."


def test_a_term_param_is_rendered_in_the_language_of_its_text():
    """A Term param (a catalogue key filling another text) takes the language of that text."""
    assert render_in("en", "file.looks_like", kind=Term("file.kind_pdf")).startswith("The file looks like a PDF file")
    assert render_in("sv", "file.looks_like", kind=Term("file.kind_pdf")).startswith("Filen ser ut som en PDF-fil")


def test_an_error_carries_its_key_and_renders_in_any_language():
    """ImporterError.of keeps a Swedish `message` (for logs and old callers) and its key and
    params, so message_in gives the text in another language; an error without a key gives its
    message as raised."""
    error = NotFound.of("api.no_job")
    assert (error.message, error.key, error.code) == ("Importen finns inte.", "api.no_job", "not_found")
    assert error.message_in("en") == "No such job."
    assert BadRequest("as raised").message_in("en") == "as raised"


def test_data_texts_stay_swedish_whatever_the_current_language():
    """A header cell left empty becomes "Kolumn N" (a header errors.csv and a mapping use) even
    when the current language is English; the file's errors carry their key for the request's
    language."""
    with use_language("en"):
        source = open_csv(b"Aktivitet,Startdatum,\nA,2026-01-01,x\n", file_name="t.csv")
        assert "Kolumn 3" in source.columns.headers
        with pytest.raises(UnreadableFile) as empty:
            open_csv(b"", file_name="t.csv")
    assert empty.value.key == "file.empty"
    assert empty.value.message_in("en") == "The file is empty."


def test_bad_mapping_reads_alike_from_the_api_and_the_reader():
    """A mapping that is not a JSON object gets the same bad_mapping message and key from the
    API's parse of the form field and from the reader."""
    from server.views.upload_fields import parse_mapping

    with pytest.raises(BadRequest) as from_api:
        parse_mapping("[1, 2]")
    with pytest.raises(BadRequest) as from_reader:
        open_csv(b"Titel,Datum\nA,2026-01-01\n", file_name="t.csv", mapping=["Titel"])
    assert from_api.value.code == from_reader.value.code == "bad_mapping"
    assert from_api.value.message == from_reader.value.message == render("mapping.not_object")
    assert from_api.value.key == from_reader.value.key == "mapping.not_object"
    with pytest.raises(BadRequest) as not_json:
        parse_mapping("{not json")
    assert (not_json.value.code, not_json.value.message) == ("bad_mapping", render("mapping.not_json"))


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_warning_code_has_a_message_that_renders_its_details(language):
    """Each code of the contract has a catalogue entry, and render_warning fills it from details,
    lists joined and the date order and the duplicates' outcome in words of the language."""
    assert set(messages.WARNING_KEYS) == set(WARNINGS)
    text = messages.render_warning("other_sheets", {"sheet": "Plan", "sheets": ["Budget", "Arkiv"]}, language)
    assert text == {"sv": "Arbetsboken har fler blad med data: Budget, Arkiv. Bladet 'Plan' lästes.",
                    "en": "The workbook has more sheets with data: Budget, Arkiv. The sheet 'Plan' was read."}[language]
    text = messages.render_warning("date_order_assumed", {"column": "Start", "ambiguous": 12,
                                                          "order": "day_first", "source": "default"}, language)
    words = {"sv": "dagen före månaden", "en": "the day before the month"}[language]
    assert words in text and "'Start'" in text and "12" in text
    text = messages.render_warning("duplicate_items", {"count": 3, "skipped": True}, language)
    assert text.startswith("3 ") and {"sv": "hoppades över", "en": "skipped"}[language] in text
