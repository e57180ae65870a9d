"""What an upload is by its bytes (never its name or declared type), and whether a workbook
package is safe to hand to the spreadsheet reader: pure, bytes in, a media type or an error out.

- OOXML workbooks (`.xlsx`, `.xlsm`) are ZIP packages (ECMA-376 Part 2, Open Packaging
  Conventions) whose `[Content_Types].xml` names a SpreadsheetML workbook part.
- OpenDocument spreadsheets (`.ods`) are ZIP packages whose `mimetype` member holds
  `application/vnd.oasis.opendocument.spreadsheet` (ODF 1.2 Part 3, section 3.3).
- Legacy Excel workbooks (`.xls`) are OLE2 compound files (MS-CFB, signature
  `D0 CF 11 E0 A1 B1 1A E1`) with a `Workbook` (BIFF8) or `Book` (BIFF5) stream (MS-XLS 2.1.2).
- An encrypted OOXML workbook is not a ZIP at all: it is a compound file holding the streams
  `EncryptionInfo` and `EncryptedPackage` (MS-OFFCRYPTO 2.3.4).
"""

from __future__ import annotations

import io
import struct
import zipfile

from importer.errors import UnreadableFile

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSM = "application/vnd.ms-excel.sheet.macroEnabled.12"
XLS = "application/vnd.ms-excel"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
#: The workbook media types, by the short name a person knows them by.
WORKBOOKS = {XLSX: "xlsx", XLSM: "xlsm", XLS: "xls", ODS: "ods"}

ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EOCD = b"PK\x05\x06"
_ODS_MIMETYPE = ODS.encode()

# A ZIP's central directory is parsed into one object per member before anything is read: a
# workbook has a few dozen members, so a directory of more is refused before zipfile parses it.
MAX_MEMBERS = 10_000
MAX_DIRECTORY_BYTES = 4 << 20
# Zip bombs: a workbook's XML inflates about 5-20 times (repetitive sheets up to ~50); deflate
# can reach ~1000. Declared sizes over these bounds are refused before calamine inflates a byte.
MAX_INFLATED_BYTES = 1 << 30
MAX_RATIO = 200
RATIO_FROM_BYTES = 1 << 20  # small members (styles, themes) may compress better; they are small
# Small members read here to tell the package's kind.
_SMALL_MEMBER = 1 << 20


def media_type_of(content: bytes | bytearray) -> str:
    """The media type `content` is: a workbook's (XLSX, XLSM, XLS, ODS) when its bytes say so,
    else text/csv, which the text reader then judges (and refuses as not text if binary).

    A ZIP or compound file too damaged to tell which workbook it is counts as XLSX or XLS, so
    that opening it says "damaged workbook" rather than "not text".
    """
    if content.startswith(CFB_MAGIC):
        if _has_stream(content, "EncryptionInfo"):
            return XLSX  # an encrypted OOXML package (MS-OFFCRYPTO); opening it says so
        if _has_stream(content, "Workbook") or _has_stream(content, "Book"):
            return XLS
        return CSV  # another compound file (a Word .doc): "not text", naming what it looks like
    if not content.startswith(ZIP_MAGIC):
        return CSV
    # ODF's `mimetype` is the first member, stored: its bytes sit right after the local header.
    if content[30:38] == b"mimetype" and content[38:38 + len(_ODS_MIMETYPE)] == _ODS_MIMETYPE:
        return ODS
    try:
        with _open_zip(content) as package:
            names = set(package.namelist())
            if "mimetype" in names and _member(package, "mimetype").strip() == _ODS_MIMETYPE:
                return ODS
            if "[Content_Types].xml" in names:
                types = _member(package, "[Content_Types].xml")
                if b"macroEnabled.main+xml" in types:
                    return XLSM
                if b"spreadsheetml.sheet.main+xml" in types:
                    return XLSX
            return CSV  # a ZIP that is no workbook (a .docx, an archive): "not text"
    except UnreadableFile:
        return XLSX  # unreadable as a ZIP: a damaged workbook, said so when it is opened


def check_package(content: bytes | bytearray, media_type: str) -> None:
    """Raise UnreadableFile for a workbook that must not reach calamine: encrypted
    (`workbook_encrypted`), a zip bomb or too many members (`workbook_too_large`), or a ZIP
    whose directory cannot be read (`workbook_damaged`). Cheap: reads the ZIP's directory and
    at most a small manifest, never inflates the sheets."""
    kind = WORKBOOKS[media_type]
    if content.startswith(CFB_MAGIC):
        if _has_stream(content, "EncryptionInfo"):
            raise encrypted()
        return  # xls: calamine itself refuses an encrypted one (FILEPASS, MS-XLS 2.4.117)
    with _open_zip(content, kind) as package:
        # Why before calamine: it inflates a member as it parses it, and the Rust reader has no
        # bound of its own; a few KB of deflate can claim gigabytes. The declared sizes are what
        # the package says; a package that lies about them fails its CRC check when read.
        total = 0
        for info in package.infolist():
            total += info.file_size
            if info.file_size >= RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise too_large("file.workbook_bomb", member=info.filename,
                                ratio=info.file_size // max(info.compress_size, 1))
        if total > MAX_INFLATED_BYTES:
            raise too_large("file.workbook_inflates", megabytes=total >> 20,
                            limit=MAX_INFLATED_BYTES >> 20)
        if kind == "ods" and "META-INF/manifest.xml" in package.namelist():
            # ODF 1.2 Part 3, 3.8: an encrypted member is listed with its encryption-data.
            if b"encryption-data" in _member(package, "META-INF/manifest.xml", kind):
                raise encrypted()


def encrypted() -> UnreadableFile:
    return UnreadableFile.of("file.workbook_encrypted", code="workbook_encrypted")


def damaged(kind: str, reason: str | None = None) -> UnreadableFile:
    details = {"kind": kind} if reason is None else {"kind": kind, "reason": reason[:200]}
    return UnreadableFile.of("file.workbook_damaged", params={"kind": kind}, code="workbook_damaged",
                          details=details)


def too_large(key: str, **params: object) -> UnreadableFile:
    return UnreadableFile.of(key, params=params, code="workbook_too_large",
                          details={k: v for k, v in params.items()})


def _open_zip(content: bytes | bytearray, kind: str = "zip") -> zipfile.ZipFile:
    """The package's ZipFile once its end record says the directory is of a sane size; a
    damaged one is refused as a damaged `kind` (xlsx, ods ...)."""
    tail_at = max(0, len(content) - (65535 + 22))
    at = bytes(content[tail_at:]).rfind(_EOCD)
    if at < 0:
        raise damaged(kind, "no end of central directory")
    record = bytes(content[tail_at + at: tail_at + at + 22])
    if len(record) < 22:
        raise damaged(kind, "truncated end of central directory")
    members, directory_bytes = struct.unpack_from("<HI", record, 10)
    if members > MAX_MEMBERS or directory_bytes > MAX_DIRECTORY_BYTES:
        raise too_large("file.workbook_members", members=members)
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise damaged(kind, str(exc)) from None


def _member(package: zipfile.ZipFile, name: str, kind: str = "zip") -> bytes:
    """A small member's bytes (at most _SMALL_MEMBER, inflated under that bound)."""
    try:
        with package.open(name) as member:
            return member.read(_SMALL_MEMBER)
    except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError, OSError, KeyError) as exc:
        raise damaged(kind, str(exc)) from None


def _has_stream(content: bytes | bytearray, name: str) -> bool:
    """Whether a compound file has a directory entry named `name`.

    MS-CFB 2.6: directory entries are 128 bytes, in sectors of 512 or 4096 bytes after the
    512-byte header, so an entry starts at a multiple of 128; it begins with the name in UTF-16LE,
    its length in bytes with the terminating NUL at offset 0x40, and its type (2: stream, 1:
    storage) at 0x42. Searching the bytes for an aligned entry finds it without walking the FAT.
    """
    needle = name.encode("utf-16-le") + b"\x00\x00"
    length = struct.pack("<H", len(needle))
    at = content.find(needle, 512)
    while at >= 0:
        if at % 128 == 0 and content[at + 0x40: at + 0x42] == length and content[at + 0x42] in (1, 2):
            return True
        at = content.find(needle, at + 1)
    return False
