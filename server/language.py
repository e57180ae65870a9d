"""The language of a request: Swedish unless its `Accept-Language` prefers English.

RFC 9110 §12.5.4: `Accept-Language` is a list of language ranges (`en-GB`, `sv`, `*`), each with
an optional weight `;q=` from 0 to 1 (1 when absent; 0 means "not acceptable"). The ranges are
ordered by weight (a stable sort: equal weights keep the header's order) and Babel's
`negotiate_locale` picks the first one we have (`en-GB` matches `en`). `*` and anything
unreadable give Swedish, the product's language (API.md, "Language").
"""

from __future__ import annotations

import re

from aiohttp import hdrs, web
from babel.core import negotiate_locale

from importer.messages import DEFAULT_LANGUAGE, LANGUAGES

LANGUAGE = web.RequestKey("language", str)

# language-range = (1*8ALPHA *("-" 1*8alphanum)) / "*"   (RFC 4647 §2.1)
_RANGE = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")
# qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )   (RFC 9110 §12.4.2)
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")
# A header longer than this is not a browser's: read only its start.
MAX_HEADER = 1000


def preferred_ranges(header: str | None) -> list[str]:
    """The language ranges of an `Accept-Language` value, most preferred first, without those
    weighted 0 and without malformed elements (`"da, en-gb;q=0.8, en;q=0.7"` -> `["da", "en-gb",
    "en"]`)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, element in enumerate(header[:MAX_HEADER].split(",")):
        tag, *parameters = (part.strip() for part in element.split(";"))
        if not _RANGE.match(tag):
            continue
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                weight = float(value) if _QVALUE.match(value) else -1.0
        if weight > 0:
            weighted.append((-weight, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(header: str | None) -> str:
    """`"en"` when the header prefers English to Swedish, else `"sv"`; `*` is "anything", so
    the default."""
    for tag in preferred_ranges(header):
        if tag == "*":
            return DEFAULT_LANGUAGE
        chosen = negotiate_locale([tag.lower()], list(LANGUAGES), sep="-", aliases={})
        if chosen is not None:
            return chosen
    return DEFAULT_LANGUAGE


def request_language(request: web.Request) -> str:
    """The request's language, negotiated once and kept in the request (`LANGUAGE`)."""
    language = request.get(LANGUAGE)
    if language is None:
        language = negotiate(request.headers.get(hdrs.ACCEPT_LANGUAGE))
        request[LANGUAGE] = language
    return language
