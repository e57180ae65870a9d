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


def _text_keys(table: str) -> set[str]:
    return set(re.findall(r'^ {4}"([\w.]+)":', table, re.MULTILINE))


def test_every_text_the_page_uses_is_in_swedish_and_english() -> None:
    """app.js's text tables have the same keys in sv and en, and hold every key index.html and the scripts use."""
    app = (page.STATIC_DIR / "app.js").read_text(encoding="utf-8")
    tables = re.search(r"^const TEXTS = \{\n  sv: \{\n(.*?)^  \},\n  en: \{\n(.*?)^  \},\n\};", app,
                       re.MULTILINE | re.DOTALL)
    assert tables, "app.js defines no TEXTS with sv and en tables"
    swedish, english = _text_keys(tables.group(1)), _text_keys(tables.group(2))
    assert len(swedish) > 100 and swedish == english, swedish ^ english
    html = (page.STATIC_DIR / "index.html").read_text(encoding="utf-8")
    used = set(re.findall(r'data-t(?:-[a-z-]+)?="([\w.]+)"', html))
    for path in SCRIPTS:
        used |= set(re.findall(r'\btn?\("([\w.]+)"', path.read_text(encoding="utf-8")))
    assert used and used <= swedish, used - swedish
