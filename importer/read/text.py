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

import attrs

from importer.errors import UnreadableFile
from importer.messages import Term

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
            raise UnreadableFile.of("file.looks_like", params={"kind": Term(kind)}, code="not_text")
    if prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or utf16_without_bom(prefix):
        return
    sample = prefix[:65536]
    if not sample:
        return
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    # Text files have no control bytes apart from tab and line ends; a few stray NULs are
    # tolerated (and stripped), a binary file has them everywhere.
    if controls * 100 > len(sample) * 2:
        raise UnreadableFile.of("file.not_text", code="not_text")


@attrs.frozen(kw_only=True)
class Decoding:
    """How to decode a file: `encoding` with the codecs error handler `errors`.

    `errors` is "replace" (U+FFFD for a byte the encoding lacks) unless the file is UTF-8
    with a few stray bytes of a legacy code page: then it is a handler of this module that
    decodes each stray byte in `repaired_as`, and `repaired_bytes` bytes on `repaired_rows`
    lines (the first is line `first_repaired_row`, counted from 1) were repaired.
    """

    encoding: str
    errors: str = "replace"
    repaired_as: str | None = None
    repaired_bytes: int = 0
    repaired_rows: int = 0
    first_repaired_row: int | None = None


def encoding_of(data: bytes, *, complete: bool = True) -> str:
    """The encoding of `data` (see `decoding_of`; a repaired UTF-8 file is "utf-8")."""
    return decoding_of(data, complete=complete).encoding


def decoding_of(data: bytes, *, complete: bool = True) -> Decoding:
    """How to read `data`: BOM, UTF-16 without BOM, valid UTF-8, UTF-8 with a few stray legacy
    bytes repaired, then Windows-1252 (or Mac Roman / cp850), a charset-normalizer guess among
    plausible code pages, latin-1.

    Swedish Excel writes Windows-1252 when it does not write UTF-8. A file that is UTF-8 but
    for a row pasted from an old Windows program is not decoded whole as Windows-1252 (which
    would turn every å, ä and ö of its valid rows into mojibake): only its stray bytes are read
    in the legacy code page. `complete=False` means `data` is a prefix that may end inside a
    multi-byte character.
    """
    if data.startswith(codecs.BOM_UTF8):
        if _decodes(data, "utf-8", complete):
            return Decoding(encoding="utf-8-sig")
        # The BOM says UTF-8: whatever does not decode is stray, however much of it there is.
        return _mixed_utf8(data, "utf-8-sig", complete, always=True) or Decoding(encoding="utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Decoding(encoding="utf-16")
    if bomless := utf16_without_bom(data[:65536]):
        return Decoding(encoding=bomless)
    if _decodes(data, "utf-8", complete):
        return Decoding(encoding="utf-8")
    mixed = _mixed_utf8(data, "utf-8", complete)
    if mixed is not None:
        return mixed
    legacy = _swedish_code_page(data[:65536])
    if legacy != "cp1252" and _decodes(data, legacy, complete):
        return Decoding(encoding=legacy)
    if _decodes(data, "cp1252", complete):
        return Decoding(encoding="cp1252")
    guess = _normalizer_guess(data[:65536])
    if guess and _decodes(data, guess, complete):
        return Decoding(encoding=guess)
    return Decoding(encoding="latin-1")


def utf16_without_bom(sample: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" for UTF-16 text written without a byte order mark, else None.

    Some exporters write UTF-16 without a BOM (RFC 2781 section 3.3 allows it). Text in Latin
    letters then has a zero byte in every other position (the high byte of each code unit),
    which no 8-bit text file has; the sample must also decode to text with no more control
    characters than `not_text` allows.
    """
    sample = sample[: len(sample) & ~1]
    if len(sample) < 8 or b"\x00" not in sample:
        return None
    half = len(sample) // 2
    low_zeros, high_zeros = sample[0::2].count(0), sample[1::2].count(0)
    if high_zeros * 10 >= half * 3 and low_zeros * 20 < half:
        encoding = "utf-16-le"
    elif low_zeros * 10 >= half * 3 and high_zeros * 20 < half:
        encoding = "utf-16-be"
    else:
        return None
    text = sample.decode(encoding, errors="replace")
    controls = sum(1 for char in text if char < " " and char not in "\t\n\r\f")
    return encoding if controls * 100 <= len(text) * 2 else None


# Stray bytes of a mostly-UTF-8 file as surrogateescape shows them (U+DC80..U+DCFF).
_STRAY = re.compile("[\udc80-\udcff]+")
# What proves a file UTF-8: Latin-1 letters and signs (å ä ö é ü ø æ ß, no-break space, «»°;
# bytes C2 xx and C3 xx) and general punctuation (– — ’ ” • …, bytes E2 80 xx) and the euro
# sign. Windows-1252 text forms valid UTF-8 only by accident, and then with a capital letter
# before a dash or quote ("Ä–" is C4 96, UTF-8's "Ė"), or a letter before two of them, never
# these: they would need "Â", "Ã" or "â€" in the Windows text.
_PROOF = re.compile("[\u00a0-\u00ff\u2000-\u203f\u20ac]")
# A UTF-8 file is repaired rather than read whole in a legacy code page when it holds such
# proof, at least one character per REPAIR_RATIO stray bytes.
REPAIR_RATIO = 20
_ENOUGH_STRAY = 4096  # a legacy file is recognised after this many stray bytes


def _mixed_utf8(data: bytes, encoding: str, complete: bool, *, always: bool = False) -> Decoding | None:
    """A Decoding that repairs the stray bytes of a mostly-UTF-8 file, or None for a legacy one.

    Stray bytes are counted with the lines they are on; the code page they are read in is the
    one whose Swedish letters they hold (`_swedish_code_page`).
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")
    newline = "\n" if b"\n" in data else "\r"
    valid = stray = rows = 0
    line, last_row, first_row = 1, 0, None
    sample = bytearray()
    view = memoryview(data)
    step = 1 << 20
    for offset in range(0, len(data), step):
        last = offset + step >= len(data)
        text = decoder.decode(view[offset:offset + step], final=complete and last)
        if text.isascii():
            line += text.count(newline)
            continue
        position = here = 0
        for match in _STRAY.finditer(text):
            line += text.count(newline, position, match.start())
            position = match.start()
            if line != last_row:
                rows, last_row = rows + 1, line
                first_row = first_row or line
            here += match.end() - match.start()
            if len(sample) < 4096:
                sample.extend(ord(char) - 0xDC00 for char in match.group())
        line += text.count(newline, position)
        stray += here
        valid += len(_PROOF.findall(text))
        if not always and stray >= _ENOUGH_STRAY and stray > REPAIR_RATIO * valid:
            return None
    if not stray or (not always and (not valid or stray > REPAIR_RATIO * valid)):
        return None
    legacy = _swedish_code_page(bytes(sample))
    return Decoding(encoding=encoding, errors=_repair_handler(legacy), repaired_as=legacy,
                    repaired_bytes=stray, repaired_rows=rows, first_repaired_row=first_row)


@functools.cache
def _repair_handler(legacy: str) -> str:
    """The name of a codecs error handler that decodes each stray byte in `legacy` (registered
    once per process: a child-process reader registers its own on first use)."""
    # Bytes the code page leaves undefined (0x81, 0x8D, ... in Windows-1252) become U+FFFD.
    table = "".join(bytes([b]).decode(legacy, errors="replace") for b in range(128, 256))

    def repair(exc: UnicodeError) -> tuple[str, int]:
        if not isinstance(exc, UnicodeDecodeError):
            raise exc
        bad = exc.object[exc.start:exc.end]
        return "".join(table[b - 128] if b >= 128 else chr(b) for b in bad), exc.end

    name = f"importer.repair_{legacy}"
    codecs.register_error(name, repair)
    return name


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


def decode_prefix(prefix: bytes, encoding: str, errors: str = "replace") -> str:
    """Decode a prefix that may end mid-character (the tail is dropped, never an error)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    return decoder.decode(prefix, final=False)


def text_stream(data: bytes, encoding: str, *, errors: str = "replace",
                clean: bool = False) -> Iterator[str]:
    """Lines of the decoded file, decoded chunk by chunk, NUL bytes removed; with `clean`
    (see `needs_cleaning`) every line goes through `clean`."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors=errors, newline="")
    nul = encoding.startswith("utf-16") or b"\x00" in data
    if clean:
        return _cleaned(stream, nul)
    if nul:
        return (line.replace("\x00", "") for line in stream)
    return iter(stream)


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
