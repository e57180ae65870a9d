"""Which encoding a file's bytes are in: refused when they are not text at all, UTF-8, UTF-16
with or without a BOM, a legacy code page, or UTF-8 with a few stray legacy bytes repaired."""

from __future__ import annotations

import codecs
import functools
import re

import attrs

from importer.errors import UnreadableFile
from importer.messages import Term

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
