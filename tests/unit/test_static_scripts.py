"""Every script of the page builds its DOM from text, and every script it imports is served."""

from __future__ import annotations

import re

from server.views import page

SCRIPTS = sorted(page.STATIC_DIR.glob("*.js"))


def test_no_script_puts_data_in_as_markup() -> None:
    """No static script uses innerHTML, outerHTML, insertAdjacentHTML, document.write or eval."""
    assert {p.name for p in SCRIPTS} >= {"app.js", "wheel.js"}
    for path in SCRIPTS:
        source = path.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in source, f"{path.name}: {sink}"


def test_every_imported_module_is_a_served_static_file() -> None:
    """A module a script imports ("./x.js") is in STATIC_FILES, with a JavaScript media type."""
    for path in SCRIPTS:
        for name in re.findall(r'^import .* from "\./([\w.-]+)";$', path.read_text(encoding="utf-8"), re.MULTILINE):
            assert page.STATIC_FILES.get(name, "").startswith("text/javascript"), f"{path.name} imports {name}"
