"""importer.cli.terminal: user text shown in a terminal keeps its words and loses every control."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from importer.cli import terminal


@pytest.mark.parametrize(("raw", "shown"), [
    ("[kvartal 1] budget.csv", "[kvartal 1] budget.csv"),
    ("\x1b[31mred\x1b[0m", "red"),
    ("\x1b]0;title\x07after", "after"),
    ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),
    ("\x9b2Jc1\x9d0;t\x9cend", "c1end"),
    ("bell\x07 nul\x00 del\x7f", "bell nul del"),
    ("two\nlines\r\tand a tab", "two lines  and a tab"),
    ("\x1b[31", "31"),
    ("abc\u202egnp.exe", "abcgnp.exe"),
    ("Årsbokslut 2026 · åäö", "Årsbokslut 2026 · åäö"),
])
def test_clean_drops_sequences_and_controls_and_keeps_text(raw: str, shown: str) -> None:
    """Escape sequences go whole, other controls go, line breaks become spaces, letters stay."""
    assert terminal.clean(raw) == shown


def test_text_is_never_read_as_markup() -> None:
    """A closing tag of no opened style is printed as it is, not raised as a MarkupError."""
    console = Console(width=80, record=True, color_system=None)
    console.print(terminal.text("[/x]@example.com [bold]b[/bold]"))
    assert console.export_text().strip() == "[/x]@example.com [bold]b[/bold]"


def test_json_line_escapes_what_a_terminal_obeys_and_keeps_the_value() -> None:
    """The JSON carries no raw C0/C1 control and parses back to the same value."""
    value = {"file_name": "\x1b[2J\x9b2Jå\u202e.csv"}
    line = terminal.json_line(value)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in line)
    assert "å" in line and json.loads(line) == value
