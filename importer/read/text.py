"""Bytes to records: encoding, delimiter and a streaming csv reader that never holds all rows."""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import re
import unicodedata
from collections.abc import Iterator

# Big enough for any cell of a 100 MiB upload; the default (128 KiB) would make one giant cell
# abort the whole file. Rows cap their cells themselves (see validate.py).
csv.field_size_limit(max(csv.field_size_limit(), 1 << 28))

DELIMITERS = (",", ";", "\t")
SNIFF_LINES = 30

def text_stream(data: bytes, encoding: str, *, errors: str = "replace",
                clean: bool = False) -> Iterator[str]:
    """Lines of the decoded file, decoded chunk by chunk; with `clean` (see `needs_cleaning`)
    every line goes through `clean`.

    NULs of UTF-16 text are removed (what a UTF-16 file's padding leaves where a writer put
    them). A stray NUL in text of any other encoding stays: the row holding it is rejected
    (API.md, "Errors": text Postgres cannot store rejects its row, not the import), see
    `has_stray_nul`."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors=errors, newline="")
    nul = encoding.startswith("utf-16")
    if clean:
        return _cleaned(stream, nul)
    if nul:
        return (line.replace("\x00", "") for line in stream)
    return iter(stream)


def has_stray_nul(data: bytes, encoding: str) -> bool:
    """Whether decoded lines of `data` (text_stream) may hold a NUL, so that its rows must be
    checked for one (validate.Rules check_text): one search of the bytes, so that the files
    without (all but a few) pay nothing per row."""
    return not encoding.startswith("utf-16") and b"\x00" in data


_CHUNK = 1 << 16  # characters of whole lines cleaned at once
# Line breaks of str.splitlines that the csv reader's lines (newline="") do not break at.
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _cleaned(stream: io.TextIOWrapper, nul: bool) -> Iterator[str]:
    """The stream's lines through `clean`, a chunk of whole lines at a time: the scans and
    the normalisation run in C over the chunk, not in Python for each line. Cleaning removes
    no line break, so the chunk splits back into the same lines."""
    while lines := stream.readlines(_CHUNK):
        chunk = "".join(lines)
        if nul:
            chunk = chunk.replace("\x00", "")
        elif chunk.isascii():
            yield from lines
            continue
        chunk = clean(chunk)
        if any(char in chunk for char in _OTHER_BREAKS):
            yield from io.StringIO(chunk, newline="")
        else:
            yield from chunk.splitlines(keepends=True)


# -- invisible characters and Unicode normalisation -------------------------------------------

#: Characters a spreadsheet shows as nothing, removed from every header and cell: zero-width
#: space, non-joiner and joiner (U+200B..U+200D), left-to-right and right-to-left marks
#: (U+200E, U+200F, which Windows puts into formatted dates), word joiner (U+2060), a byte
#: order mark inside the text (U+FEFF), soft hyphen (U+00AD) and the old Mongolian vowel
#: separator (U+180E). A zero-width joiner between two emoji is kept: it is part of the
#: emoji (Unicode TS #51, ZWJ sequences).
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad\u180e"
#: Spaces that look like a space but are not U+0020: no-break (U+00A0, Excel's thousands
#: separator), narrow no-break (U+202F, macOS's time separator) and figure space (U+2007).
#: They become ordinary spaces, so "Team A" is one group however it was typed.
ODD_SPACES = "\u00a0\u202f\u2007"
# str.replace runs at memchr speed, and a test for a character wider than the text's widest
# costs nothing; str.translate or re.sub would visit every character of the text.
_REPLACEMENTS = tuple((char, " ") for char in ODD_SPACES) + tuple(
    (char, "") for char in INVISIBLE if char != "\u200d")
_EMOJI = "\u00a9\u00ae\u2190-\u21ff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff"
_LONE_JOINER = re.compile(f"(?<![{_EMOJI}\ufe0f])\u200d|\u200d(?![{_EMOJI}])")


def clean(text: str) -> str:
    """`text` with INVISIBLE characters removed, ODD_SPACES as spaces, in Unicode NFC.

    NFC (Unicode Standard Annex #15) composes what macOS writes decomposed: "a" followed by
    U+030A COMBINING RING ABOVE becomes "å", so "Område" matches however it was typed. Plain
    ASCII is returned as is, at the cost of one O(1) test.
    """
    if text.isascii():
        return text
    for char, replacement in _REPLACEMENTS:
        if char in text:
            text = text.replace(char, replacement)
    if "\u200d" in text:
        text = _LONE_JOINER.sub("", text)
    # normalize() returns its argument when the quick check says NFC already (UAX #15).
    return unicodedata.normalize("NFC", text)


def clean_text(text: str) -> str:
    """A decoded stretch of a file through `clean` (an alias that says it is whole lines)."""
    return clean(text)


# Hangul vowel and trailing-consonant jamo compose with a preceding syllable, and these vowel
# signs with a preceding letter, though their combining class is 0 (Unicode's NFC_Quick_Check
# is Maybe for them); every other character that NFC can change has a combining class or an
# NFC_Quick_Check of No.
_COMPOSES_AFTER = re.compile(
    "[\u1161-\u1175\u11a8-\u11c2\u09be\u09d7\u0b3e\u0b56\u0b57\u0bbe\u0bd7\u0cc2\u0cd5\u0cd6"
    "\u0d3e\u0d57\u0dcf\u0ddf\u102e\u1b35\U00011127\U0001133e\U00011357\U000114b0\U000114ba"
    "\U000114bd\U000115af\U00011930]")
# First bytes of the UTF-8 form of every character `clean` may change (INVISIBLE, ODD_SPACES
# and the characters NFC may change: `_suspect`, over Python's Unicode database; a unit test
# holds the two together). Å, Ä, Ö, é, ü and every other Latin-1 letter (0xC3), Latin
# Extended-A (0xC4, 0xC5) and most scripts start with other bytes.
_UTF8_SUSPECT_LEADS = tuple(bytes([b]) for b in (
    0xC2, 0xCC, 0xCD, 0xCE, 0xD2, 0xD6, 0xD7, 0xD8, 0xD9, 0xDB, 0xDC, 0xDD, 0xDF,
    0xE0, 0xE1, 0xE2, 0xE3, 0xEA, 0xEF, 0xF0))
_ASCII = bytes(range(128))
_UTF8 = {"utf-8", "utf-8-sig"}


def needs_cleaning(data: bytes, encoding: str, errors: str = "replace") -> bool:
    """Whether any line of the file would be changed by `clean`, decided once per file on
    its bytes so that the row loop of the others pays nothing.

    Exact for UTF-8 and single-byte code pages: an ASCII file, or a UTF-8 file without any of
    the leading bytes of those characters, is settled by memchr scans; otherwise the distinct
    non-ASCII characters are looked at one by one. UTF-16 and repaired files are always cleaned.
    """
    if data.isascii():
        return False
    if errors != "replace" or encoding.startswith("utf-16"):
        return True
    if encoding in _UTF8:
        start = 3 if data.startswith(codecs.BOM_UTF8) else 0  # the BOM's 0xEF is no suspect
        if all(data.find(lead, start) < 0 for lead in _UTF8_SUSPECT_LEADS):
            return False
        # Every byte of a multi-byte UTF-8 character is >= 0x80: without the ASCII bytes, what
        # is left is the file's non-ASCII characters, still valid UTF-8.
        others = data.translate(None, _ASCII).decode(encoding, errors="replace")
        return any(_suspect(char) for char in set(others))
    try:
        suspects = _suspect_bytes(encoding)
    except LookupError:
        return True
    return any(byte in data for byte in suspects)


def _suspect(char: str) -> bool:
    return (char in INVISIBLE or char in ODD_SPACES or unicodedata.combining(char) != 0
            or not unicodedata.is_normalized("NFC", char) or _COMPOSES_AFTER.match(char) is not None)


@functools.cache
def _suspect_bytes(encoding: str) -> tuple[bytes, ...]:
    """The bytes of a single-byte code page that decode to a character `clean` changes."""
    decoded = bytes(range(128, 256)).decode(encoding, errors="replace")
    if len(decoded) != 128:
        raise LookupError(encoding)  # not a single-byte code page
    return tuple(bytes([128 + i]) for i, char in enumerate(decoded) if _suspect(char))


def delimiter_of(text: str) -> str:
    """The delimiter used by the first lines: the candidate that splits them most consistently.

    Counts each candidate outside quotes, line by line; csv.Sniffer guesses wrong on short
    files and on quoted fields. With no candidate at all the file has a single column.
    """
    counts: dict[str, list[int]] = {d: [] for d in DELIMITERS}
    current = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for line in text[:32768].splitlines()[: SNIFF_LINES * 4]:
        if not quoted and '"' not in line:
            for d in DELIMITERS:
                current[d] = line.count(d)
        else:
            # Only lines with quotes pay for a character scan; a quoted field may go on
            # over several lines, so the record ends only where the quotes are closed.
            for char in line:
                if char == '"':
                    quoted = not quoted
                elif not quoted and char in current:
                    current[char] += 1
            if quoted:
                continue
        if any(current.values()):
            for d in DELIMITERS:
                counts[d].append(current[d])
            if len(counts[","]) >= SNIFF_LINES:
                break
        current = dict.fromkeys(DELIMITERS, 0)
    best, best_score = ",", (0, 0, 0)
    for d in DELIMITERS:
        seen = counts[d]
        if not seen or seen[0] == 0:
            continue
        header = seen[0]
        consistent = sum(1 for n in seen if n == header)
        score = (consistent, -_spread(seen), header)
        if score > best_score:
            best, best_score = d, score
    return best


def _spread(seen: list[int]) -> int:
    return max(seen) - min(seen)


def records(lines: Iterator[str], delimiter: str) -> Iterator[list[str]]:
    """csv records; a quoted field may hold delimiters and line breaks."""
    return csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)


# What a blank record may hold. ASCII only, so that counting on bytes (count_records) and
# skipping on decoded cells agree exactly. In a file that is cleaned (needs_cleaning), a cell
# of no-break spaces or zero-width characters is blank once cleaned, and count_records looks
# at such lines decoded and cleaned to agree.
BLANK = " \t\r\n\x00\x0b\x0c"
_BLANK_BYTES = BLANK.encode()
# Encodings in which a byte below 0x80 is always that ASCII character.
_ASCII_SAFE = {"utf-8", "utf-8-sig", "cp1252", "latin-1"}


def is_blank(cells: list[str]) -> bool:
    return not any(cells) or not "".join(cells).strip(BLANK)


def count_records(data: bytes, encoding: str, delimiter: str, *, skip: int, clean: bool = False,
                  errors: str = "replace") -> int | None:
    """Non-blank records after the first `skip`, counted on the bytes; None when only a csv
    pass can tell (quotes may hold line breaks, or the encoding is not ASCII-compatible).
    `clean` says the file's lines are read through `clean` (`needs_cleaning`): a line whose
    first byte after ASCII blanks is not ASCII is then decoded (with `errors`) and cleaned
    before it is judged blank.

    Without quotes every line is one record, so counting lines is exact and four times
    faster than a csv.reader pass.
    """
    if encoding not in _ASCII_SAFE or b'"' in data:
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # lone CR line ends: rare enough to leave to the csv pass
    strip = _BLANK_BYTES + delimiter.encode()
    count = 0
    # BytesIO yields one line at a time: no list of a 100 MiB file's lines.
    lines = itertools.islice(io.BytesIO(data), skip, None)
    if not clean:
        for line in lines:
            if line.strip(strip):
                count += 1
        return count
    blank = BLANK + delimiter
    for line in lines:
        rest = line.strip(strip)
        # ASCII blanks never end inside a character, so `rest` decodes whole.
        if rest and (rest[0] < 0x80 or clean_text(rest.decode(encoding, errors)).strip(blank)):
            count += 1
    return count
