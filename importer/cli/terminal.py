"""User text made safe for a terminal: no control character or escape sequence of a user reaches
it, and Rich never reads markup in it.

A file name, wheel title, e-mail, sheet name or server message is data a user chose. Printed as
it is, `\\x1b]0;…\\x07` retitles the operator's window, `\\x1b[2J` clears it, a newline forges a
table row, and through Rich markup `[kvartal 1]` disappears and `[/x]` raises MarkupError. So
every such value goes through `clean` (for `print`) or `text` (a Rich Text, which is never
parsed as markup).
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.text import Text

# Whole escape sequences (ECMA-48), so that their parameters do not show up as debris:
# CSI (`ESC [` or U+009B) up to its final byte; OSC, DCS, SOS, PM and APC strings (`ESC ]`,
# `ESC P`, `ESC X`, `ESC ^`, `ESC _` or their C1 forms) up to BEL or ST; else ESC with its
# intermediate and final bytes. An unterminated string loses only its introducer.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]?"
)
# What is left of C0, DEL and C1, and the bidirectional overrides and isolates, which reorder
# what the terminal shows ("Trojan Source"). Line breaks and tabs become a space.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACES = frozenset("\t\n\v\f\r\x85")
# Characters JSON may carry raw that a terminal still obeys (C1, DEL, the bidi controls).
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(value: object) -> str:
    """`str(value)` without escape sequences and control characters; line breaks and tabs
    become spaces, so one value stays on one line."""
    stripped = _SEQUENCE.sub("", str(value))
    return _CONTROL.sub(lambda m: " " if m.group() in _SPACES else "", stripped)


def text(value: object, style: str = "") -> Text:
    """`clean(value)` as Rich Text in `style`: printed literally, brackets and all."""
    return Text(clean(value), style=style)


def json_line(value: Any) -> str:
    """`value` as one line of JSON (non-ASCII kept readable) that carries no character a
    terminal obeys: the C0 controls json escapes itself, the rest are escaped here too."""
    dumped = json.dumps(value, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
