"""Bytes to records: encoding, delimiter and a streaming csv reader that never holds all rows."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Iterator

from importer.errors import UnreadableFile
from importer.messages import render

# Big enough for any cell of a 100 MiB upload; the default (128 KiB) would make one giant cell
# abort the whole file. Rows cap their cells themselves (see validate.py).
csv.field_size_limit(max(csv.field_size_limit(), 1 << 28))

DELIMITERS = (",", ";", "\t")
SNIFF_LINES = 30

# Magic bytes and the catalogue key of what the file then is (importer.messages).
_MAGIC = (
    (b"PK\x03\x04", "file.kind_xlsx"),
    (b"\xd0\xcf\x11\xe0", "file.kind_xls"),
    (b"%PDF", "file.kind_pdf"),
    (b"\x89PNG", "file.kind_png"),
    (b"\xff\xd8\xff", "file.kind_jpeg"),
    (b"GIF8", "file.kind_gif"),
    (b"\x1f\x8b", "file.kind_gzip"),
    (b"7z\xbc\xaf", "file.kind_7z"),
    (b"Rar!", "file.kind_rar"),
)
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 13, 12)) + b"\x7f"


def not_text(prefix: bytes) -> None:
    """Raise `not_text` for a binary file, naming what it looks like when the magic says."""
    for magic, kind in _MAGIC:
        if prefix.startswith(magic):
            raise UnreadableFile(render("file.looks_like", kind=render(kind)), code="not_text")
    if prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    sample = prefix[:65536]
    if not sample:
        return
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    # Text files have no control bytes apart from tab and line ends; a few stray NULs are
    # tolerated (and stripped), a binary file has them everywhere.
    if controls * 100 > len(sample) * 2:
        raise UnreadableFile(render("file.not_text"), code="not_text")


def encoding_of(data: bytes, *, complete: bool = True) -> str:
    """The encoding to read `data` with: BOM, then valid UTF-8, then Windows-1252, then latin-1.

    Swedish Excel writes Windows-1252 when it does not write UTF-8. `complete=False` means
    `data` is a prefix that may end inside a multi-byte character.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decodes(data, "utf-8", complete):
        return "utf-8"
    legacy = _swedish_code_page(data[:65536])
    if legacy != "cp1252" and _decodes(data, legacy, complete):
        return legacy
    if _decodes(data, "cp1252", complete):
        return "cp1252"
    guess = _normalizer_guess(data[:65536])
    if guess and _decodes(data, guess, complete):
        return guess
    return "latin-1"


# Where each legacy code page puts å ä ö. Windows-1252 is what Swedish Excel writes; "CSV
# (Macintosh)" writes Mac Roman and old DOS programs (accounting exports) write cp850. Their
# letters sit on different bytes, so counting them tells the three apart.
_SWEDISH_LETTERS = {
    "cp1252": (b"\xe5", b"\xe4", b"\xf6"),
    "mac_roman": (b"\x8c", b"\x8a", b"\x9a"),
    "cp850": (b"\x86", b"\x84", b"\x94"),
}
_C1 = bytes(range(0x80, 0xA0))


def _swedish_code_page(sample: bytes) -> str:
    """Mac Roman or cp850 when the sample holds more of their å/ä/ö than Windows-1252's.

    The others' letters lie in 0x80..0x9F, where Windows-1252 has only punctuation, so a file
    without such bytes is settled at once. Two different letters are required: one repeated
    byte is more likely a Windows-1252 quote or dagger (cp850's ö is Windows' ”).
    """
    if len(sample.translate(None, _C1)) == len(sample):
        return "cp1252"
    counts = {encoding: [sample.count(b) for b in letters]
              for encoding, letters in _SWEDISH_LETTERS.items()}
    best, best_count = "cp1252", sum(counts["cp1252"])
    for encoding in ("mac_roman", "cp850"):
        found = counts[encoding]
        if sum(found) > best_count and sum(1 for n in found if n) >= 2:
            best, best_count = encoding, sum(found)
    return best


def _decodes(data: bytes, encoding: str, complete: bool) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(data)
    step = 1 << 20
    try:
        for offset in range(0, len(data), step):
            decoder.decode(view[offset:offset + step], final=False)
        if complete:
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


_PLAUSIBLE = ["cp850", "cp437", "mac_roman", "iso8859_15", "cp1250", "utf_16"]


def _normalizer_guess(sample: bytes) -> str | None:
    from charset_normalizer import from_bytes

    # Only encodings a Swedish spreadsheet could have been saved in: left free, the detector
    # proposes Ukrainian or Thai code pages for a few odd bytes.
    best = from_bytes(sample, cp_isolation=_PLAUSIBLE).best()
    return best.encoding if best else None


def decode_prefix(prefix: bytes, encoding: str) -> str:
    """Decode a prefix that may end mid-character (the tail is dropped, never an error)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(prefix, final=False)


def text_stream(data: bytes, encoding: str) -> Iterator[str]:
    """Lines of the decoded file, decoded chunk by chunk, NUL bytes removed."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="replace", newline="")
    if encoding.startswith("utf-16") or b"\x00" in data:
        return (line.replace("\x00", "") for line in stream)
    return iter(stream)


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
# skipping on decoded cells agree exactly: a cell of non-breaking spaces is a row (rejected
# for its missing name), not a blank line.
BLANK = " \t\r\n\x00\x0b\x0c"
_BLANK_BYTES = BLANK.encode()
# Encodings in which a byte below 0x80 is always that ASCII character.
_ASCII_SAFE = {"utf-8", "utf-8-sig", "cp1252", "latin-1"}


def is_blank(cells: list[str]) -> bool:
    return not any(cells) or not "".join(cells).strip(BLANK)


def count_records(data: bytes, encoding: str, delimiter: str, *, skip: int) -> int | None:
    """Non-blank records after the first `skip`, counted on the bytes; None when only a csv
    pass can tell (quotes may hold line breaks, or the encoding is not ASCII-compatible).

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
    for line in itertools.islice(io.BytesIO(data), skip, None):
        if line.strip(strip):
            count += 1
    return count
