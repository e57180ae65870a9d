"""Accept-Language negotiation (server/language.py, RFC 9110 §12.5.4 and §12.4.2): ranges
ordered by q-value, q=0 excluded, `en-GB` matching `en`, `*` and anything unreadable Swedish."""

from __future__ import annotations

import pytest

from server.language import negotiate, preferred_ranges


@pytest.mark.parametrize(("header", "language"), [
    (None, "sv"),
    ("", "sv"),
    ("en", "en"),
    ("EN", "en"),
    ("en-GB", "en"),
    ("en-US,en;q=0.9", "en"),
    ("sv-SE", "sv"),
    ("sv-SE,sv;q=0.9,en-US;q=0.8,en;q=0.7", "sv"),
    ("*", "sv"),
    ("*, en;q=0.5", "sv"),
    ("en;q=0.5, sv", "sv"),
    ("sv;q=0.1, en;q=0.9", "en"),
    ("de, en;q=0.8", "en"),
    ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "en"),
    ("de, fr", "sv"),
    ("en;q=0", "sv"),
    ("en;q=0.000, sv;q=0.001", "sv"),
    ("en ; q = 0.8", "en"),
])
def test_negotiate_picks_the_most_preferred_language_we_have(header, language):
    """negotiate(header) is "en" when the highest-weighted range we can serve is English
    (`en`, `en-GB`), else "sv"; equal weights keep the header's order and `*` means the default."""
    assert negotiate(header) == language


@pytest.mark.parametrize("header", [
    "garbage;;;", "en;q=2", "en;q=0.5000", "en;q=abc", "12345", "en_GB", "ä", ",,,", ";q=1",
    "x" * 5000, "en-" + "a" * 20,
])
def test_unreadable_headers_and_elements_give_swedish(header):
    """A malformed element (a bad tag, a q-value outside 0..1 or with more than three decimals)
    counts as not sent, so a header of nothing else is Swedish; nothing raises."""
    assert negotiate(header) == "sv"


def test_preferred_ranges_sorts_by_weight_stably_and_drops_q_zero():
    """The ranges of RFC 9110's example come out most preferred first; q=0 means "not acceptable"."""
    assert preferred_ranges("da, en-gb;q=0.8, en;q=0.7") == ["da", "en-gb", "en"]
    assert preferred_ranges("en;q=0.7, da, sv;q=0, fr;q=0.7") == ["da", "en", "fr"]
