"""The message catalogue: every key the code uses exists, every entry is used, and rendering
fills named placeholders in the asked language with Swedish as the fallback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from importer import messages
from importer.errors import BadRequest
from importer.messages import SV, placeholders, render, render_in
from importer.model import WARNINGS
from importer.read.csv_source import open_csv

ROOT = Path(__file__).resolve().parents[2]
# Keys appear as string literals: render("row.name_missing"), DateError("date.invalid"), ...
KEY = re.compile(r"""["']((?:row|date|file|mapping|payload|warning)\.[a-z0-9_]+)["']""")
USERS = [*sorted((ROOT / "importer" / "read").glob("*.py")), ROOT / "server" / "views" / "imports.py",
         ROOT / "importer" / "messages.py"]


def used_keys() -> set[str]:
    return {key for path in USERS for key in KEY.findall(path.read_text(encoding="utf-8"))}


def test_every_key_the_code_names_is_in_the_catalogue():
    """No module names a message key the Swedish catalogue lacks."""
    assert used_keys() - set(SV) == set()


def test_every_catalogue_entry_is_used():
    """The catalogue holds no entry that no module names."""
    assert set(SV) - used_keys() == set()


@pytest.mark.parametrize("key", sorted(SV))
def test_every_template_renders_with_its_placeholders(key):
    """Each template is valid str.format syntax and renders once its placeholders are given."""
    text = render(key, **dict.fromkeys(placeholders(SV[key]), "X"))
    assert text and "{" not in text


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


def test_a_new_language_is_only_new_entries(monkeypatch):
    """Adding a language table makes render answer in it, key by key, with Swedish for the
    keys it lacks and for unknown languages."""
    monkeypatch.setitem(messages.CATALOGUES, "en", {"row.name_missing": "Name missing"})
    assert render_in("en", "row.name_missing") == "Name missing"
    assert render_in("en", "row.start_missing") == "Startdatum saknas"
    assert render_in("fi", "row.name_missing") == render("row.name_missing") == "Namn saknas"


def test_bad_mapping_reads_alike_from_the_api_and_the_reader():
    """A mapping that is not a JSON object gets the same bad_mapping message from the API's
    parse of the form field and from the reader."""
    from server.views.imports import parse_mapping

    with pytest.raises(BadRequest) as from_api:
        parse_mapping("[1, 2]")
    with pytest.raises(BadRequest) as from_reader:
        open_csv(b"Titel,Datum\nA,2026-01-01\n", file_name="t.csv", mapping=["Titel"])
    assert from_api.value.code == from_reader.value.code == "bad_mapping"
    assert from_api.value.message == from_reader.value.message == render("mapping.not_object")
    with pytest.raises(BadRequest) as not_json:
        parse_mapping("{not json")
    assert (not_json.value.code, not_json.value.message) == ("bad_mapping", render("mapping.not_json"))


def test_every_warning_code_has_a_message_that_renders_its_details():
    """Each code of the contract has a catalogue entry, and render_warning fills it from details,
    lists joined and the date order in words."""
    assert set(messages.WARNING_KEYS) == set(WARNINGS)
    text = messages.render_warning("other_sheets", {"sheet": "Plan", "sheets": ["Budget", "Arkiv"]})
    assert text == "Arbetsboken har fler blad med data: Budget, Arkiv. Bladet 'Plan' lästes."
    text = messages.render_warning("date_order_assumed", {"column": "Start", "ambiguous": 12,
                                                          "order": "day_first", "source": "default"})
    assert "dagen före månaden" in text and "'Start'" in text and "12" in text
