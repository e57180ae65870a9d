"""Every text the service shows a person, defined once by a stable key, rendered by `render`.

The texts live in gettext catalogues managed with Babel: `importer/locale/{sv,en}/LC_MESSAGES/
messages.po` (msgid = the stable key, msgstr = the text with named `str.format` placeholders,
Babel's `python-brace-format` flag), compiled to the `.mo` files next to them and loaded here with
Python's `gettext`. The `.mo` files are committed: an install needs no build step and no Babel
at import time (the reader's child processes import this module too), and
tests/unit/test_messages.py fails when one is older than its `.po` (fix: `pybabel compile -d
importer/locale -D messages`).

Language (API.md, "Language"): Swedish by default, English when the request prefers it; `code`s
never change, only texts. A key missing from a language falls back to Swedish, so a partial
translation never breaks a message.

- `render_in(language, key, **params)` answers in a language, `render_warning(code, details,
  language)` a warning.
- `render(key, **params)` answers in the *current language*: Swedish unless the code running
  sets another with `use_language` (a context variable). Only a process or task that works for
  one request sets it: the preview's child process (importer/previews/plan.py) before it reads
  the file, so that rejection reasons (`row.*`, `date.*`) and the reader's errors come out in the
  request's language without a key travelling with every rejected row. The API's own process
  never sets it: there the reader's errors carry their `key` and `params` (importer.errors.
  ImporterError) and server/middlewares.py renders them in the request's language. A new thread
  starts with the default context: Swedish.
- Texts that become data (`file.cell_true`/`file.cell_false`, what Swedish Excel writes in a CSV;
  `file.unnamed_column`, a header errors.csv and a mapping use) are always rendered in Swedish
  with `render_in(SWEDISH, ...)`.
"""

from __future__ import annotations

import contextlib
import gettext
import json
import string
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the warnings' type; the model never needs this module
    from importer.model import JobWarning

SWEDISH = "sv"
ENGLISH = "en"
DEFAULT_LANGUAGE = SWEDISH
LANGUAGES = (SWEDISH, ENGLISH)
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


def _load(language: str) -> gettext.GNUTranslations:
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as fp:
        return gettext.GNUTranslations(fp)


_SV = _load(SWEDISH)
_TRANSLATIONS: dict[str, gettext.GNUTranslations] = {SWEDISH: _SV}
for _language in LANGUAGES[1:]:
    _TRANSLATIONS[_language] = _load(_language)
    _TRANSLATIONS[_language].add_fallback(_SV)

_current: ContextVar[str] = ContextVar("importer_language", default=DEFAULT_LANGUAGE)


def current_language() -> str:
    """The language `render` answers in here (see the module's docstring)."""
    return _current.get()


def set_language(language: str) -> None:
    """Make `render` answer in `language` in this context from now on (a process that works for
    one request: the preview's child). Unknown languages render Swedish."""
    _current.set(language if language in _TRANSLATIONS else DEFAULT_LANGUAGE)


@contextlib.contextmanager
def use_language(language: str) -> Iterator[None]:
    """`render` answers in `language` inside the block."""
    token = _current.set(language if language in _TRANSLATIONS else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


def template(language: str, key: str) -> str:
    """The template of `key` in `language` (Swedish where that language lacks it or is
    unknown). Raises KeyError for a key no catalogue has."""
    text = _TRANSLATIONS.get(language, _SV).gettext(key)
    if text == key:
        raise KeyError(key)
    return text


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
ORDER_KEYS = {"day_first": "warning.order_day_first", "month_first": "warning.order_month_first"}
SKIPPED_KEYS = {True: "warning.duplicates_skipped", False: "warning.duplicates_kept"}


@dataclass(frozen=True, slots=True)
class Term:
    """A catalogue key given as a param of another text (`file.looks_like`'s `kind`): rendered
    in the language of the text it fills."""

    key: str


def render(key: str, /, **params: object) -> str:
    """The text of `key` in the current language (Swedish unless `use_language` says another)
    with `params` filled into its placeholders.

    Raises KeyError for a key the catalogue lacks, or a placeholder `params` does not fill.
    """
    return render_in(_current.get(), key, **params)


def render_in(language: str, key: str, /, **params: object) -> str:
    """The text of `key` in `language` (Swedish when that language lacks it or is unknown),
    with `params` filled into its placeholders (a Term param rendered in that language too).
    Raises KeyError as `render` does."""
    for name, value in params.items():
        if isinstance(value, Term):
            params[name] = template(language, value.key)
    return template(language, key).format_map(params)


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
        params["order_words"] = template(language, ORDER_KEYS[order]) if order in ORDER_KEYS else order
    if "skipped" in details:
        params["outcome_words"] = template(language, SKIPPED_KEYS[bool(details["skipped"])])
    # A detail the template names but the warning lacks shows as "?": a warning must never be
    # what fails an import (tests hold every producer to its template's details).
    return template(language, WARNING_KEYS[code]).format_map(_Lenient(params))


class _Lenient(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "?"


def placeholders(template: str) -> frozenset[str]:
    """The named placeholders of a template (`"{where} {ref!r}"` -> `{"where", "ref"}`)."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


# The warnings go out in every notification of the job: the schema allows 4,000 bytes of them
# (CHECK import_jobs_warnings_size; Postgres' NOTIFY payload is 8,000 in all). They are written
# twice at most (once the file is opened, and at completion), so each write keeps under half.
MAX_WARNINGS_BYTES = 1900


def warning_objects(warnings: Sequence[JobWarning], language: str = DEFAULT_LANGUAGE) -> list[dict[str, Any]]:
    """Warnings as the job object and the preview show them, `{code, message, details}`, the message rendered
    from the catalogue in `language`; details are dropped (the message keeps the gist) where they
    would make the whole longer than MAX_WARNINGS_BYTES."""
    shown = [{"code": w.code, "message": render_warning(w.code, w.details, language), "details": w.details}
             for w in warnings]
    for entry in shown:
        if len(json.dumps(shown, default=str)) <= MAX_WARNINGS_BYTES:
            break
        entry["details"] = {}
    while shown and len(json.dumps(shown, default=str)) > MAX_WARNINGS_BYTES:
        shown.pop()
    return shown
