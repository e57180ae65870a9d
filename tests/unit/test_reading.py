"""Bytes to records: encodings, delimiters, line ends, quoting, ragged rows, binary files."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from importer.errors import UnreadableFile
from importer.model import Activity, Rejection
from importer.read.csv_source import open_csv, sniff
from importer.read.encoding import encoding_of
from importer.read.text import clean, count_records, delimiter_of, needs_cleaning

HEADER = "Aktivitet,Startdatum,Slutdatum\n"


def read(data: bytes, **kwargs):
    return list(open_csv(data, file_name="t.csv", **kwargs))


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Aktivitet,Startdatum\nMöte,2026-01-01\n".encode(), "utf-8"),
        ("Aktivitet,Startdatum\nMöte,2026-01-01\n".encode("utf-8-sig"), "utf-8-sig"),
        ("Aktivitet,Startdatum\nMöte,2026-01-01\n".encode("cp1252"), "cp1252"),
        ("Aktivitet\tStartdatum\nMöte\t2026-01-01\n".encode("utf-16"), "utf-16"),
        ("Aktivitet;Startdatum\rMöte på Åland;2026-01-01\r".encode("mac_roman"), "mac_roman"),
        ("Aktivitet;Startdatum\r\nMöte på Åland;2026-01-01\r\n".encode("cp850"), "cp850"),
    ],
)
def test_swedish_letters_survive_every_encoding(data, encoding):
    """UTF-8 with and without BOM, Windows-1252, Excel's UTF-16, Mac Roman ("CSV (Macintosh)")
    and DOS cp850 all read 'Möte' intact."""
    source = open_csv(data, file_name="t.csv")
    assert source.encoding == encoding
    (row,) = list(source)
    assert row.name in ("Möte", "Möte på Åland")


def test_cp1252_typographic_characters():
    """Windows-1252-only bytes (en dash, curly quotes) decode as themselves, not as latin-1."""
    data = "Aktivitet;Startdatum\nÅrsredovisning – “klar”;2026-01-01\n".encode("cp1252")
    (row,) = read(data)
    assert row.name == "Årsredovisning – “klar”"


@pytest.mark.parametrize("text", ["Budget 500 € och 200 €", "Plan… mer… ännu…", "Svar – “ja”"])
def test_windows_punctuation_is_not_taken_for_mac_letters(text):
    """Euro signs, ellipses and dashes in a Windows-1252 file keep it Windows-1252."""
    data = f"Aktivitet;Startdatum\n{text};2026-01-01\n".encode("cp1252")
    assert encoding_of(data) == "cp1252"


def test_undecodable_bytes_still_decode():
    """Bytes undefined in Windows-1252 pick a plausible code page or latin-1, never an error."""
    data = b"Aktivitet,Startdatum\nM\x81\x8d\x8f\x90\x9d,2026-01-01\n"
    assert encoding_of(data) in ("latin-1", "cp850", "cp437", "mac_roman", "iso8859_15", "cp1250")
    (row,) = read(data)
    assert len(row.name) == 6


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ('"a,x";b;c\n"1,2";2;3\n', ";"),
        ('name,start,desc\n"one; two; three",2026-01-01,"a;b;c"\n', ","),
        ("Namn;Startdatum;Anteckning\nMöte;2026-01-01;Kl. 10, rum 3\n", ";"),
    ],
)
def test_delimiter_is_counted_outside_quotes(text, delimiter):
    """The delimiter is the candidate that splits the first lines consistently outside quotes."""
    assert delimiter_of(text) == delimiter


def test_crlf_and_quoted_newlines_count_as_one_row():
    """A quoted field may hold line breaks and delimiters; such a record is one row."""
    data = (
        'Aktivitet,Startdatum,Beskrivning\r\n'
        '"Möte, stort",2026-01-01,"rad ett\r\nrad två"\r\n'
        'Nästa,2026-02-01,x\r\n'
    ).encode()
    source = open_csv(data, file_name="t.csv")
    rows = list(source)
    assert source.total_rows == 2
    assert [r.row_number for r in rows] == [2, 3]
    assert rows[0].name == "Möte, stort"
    assert rows[0].description == "rad ett\r\nrad två"


def test_ragged_rows_are_padded_or_cut():
    """Short rows are padded and long rows cut to the header, never a crash."""
    data = (HEADER + "Kort,2026-01-01\nLång,2026-01-01,2026-01-02,extra,mer\n").encode()
    rows = read(data)
    assert [(r.name, r.end) for r in rows] == [("Kort", date(2026, 1, 1)),
                                             ("Lång", date(2026, 1, 2))]


def test_a_stray_nul_byte_rejects_its_row():
    """A stray NUL byte in UTF-8 text rejects its row (Postgres cannot store it; API.md: such
    text in a cell rejects that row), with the cells kept as errors.csv can hold them; the
    other rows import."""
    data = (HEADER + "Mö\x00te,2026-01-01,\nPlan,2026-02-01,\n").encode()
    rejected, accepted = read(data)
    assert isinstance(rejected, Rejection) and "NUL" in rejected.reason
    assert rejected.values[0] == "Möte"
    assert isinstance(accepted, Activity) and accepted.name == "Plan"


def test_a_record_of_blanks_and_nuls_is_blank_when_counted_and_when_read():
    """A NUL counts as blank: a record of only tabs and NULs is neither counted nor read as a
    row, by the byte count and the csv pass alike (a lone CR forces the csv pass here)."""
    data = (HEADER + "Plan,2026-02-01,\r\t\x00\nMöte,2026-03-01,\n").encode()
    source = open_csv(data, file_name="j.csv")
    rows = list(source)
    assert source.total_rows == len(rows) == 2
    assert [r.name for r in rows] == ["Plan", "Möte"]


def test_the_nuls_of_utf16_text_are_removed():
    """NULs in UTF-16 text (a writer's padding) are removed rather than rejecting every row."""
    data = "\ufeff".encode("utf-16-le") + (HEADER + "Mö\x00te,2026-01-01,\n").encode("utf-16-le")
    (row,) = read(data)
    assert row.name == "Möte"


def test_huge_cells_are_capped():
    """A name over 200 characters is rejected; a huge description is cut with a marker."""
    big = "x" * 50_000
    data = f"Aktivitet,Startdatum,Beskrivning\n{'n' * 201},2026-01-01,\nOk,2026-01-01,{big}\n"
    rejected, accepted = read(data.encode())
    assert isinstance(rejected, Rejection) and "200" in rejected.reason
    assert rejected.column == "Aktivitet"
    assert len(accepted.description) == 10_000 and accepted.description.endswith("[…]")


def test_rejection_values_are_capped():
    """Raw cells kept in a rejection are cut at 10,000 characters."""
    data = f"Aktivitet,Startdatum\nX,{'9' * 200_000}\n".encode()
    (row,) = read(data)
    assert isinstance(row, Rejection)
    assert max(len(v) for v in row.values) <= 10_000


def test_leading_blank_lines_and_blank_rows():
    """Blank lines before the header and between rows are skipped; row numbers stay the
    spreadsheet's."""
    data = ("\n\n" + HEADER + "A,2026-01-01,\n,,\n   \nB,2026-01-02,\n\n").encode()
    source = open_csv(data, file_name="t.csv")
    rows = list(source)
    assert source.total_rows == 2
    assert [(r.name, r.row_number) for r in rows] == [("A", 4), ("B", 7)]


def test_count_on_bytes_agrees_with_csv_pass():
    """The byte-level count used for quote-free files matches what iteration yields."""
    data = (HEADER + "A,2026-01-01,\n,,\n\t\nB,2026-01-02,\r\n\xa0,2026-01-01,\n").encode()
    assert count_records(data, "utf-8", ",", skip=1) == 3
    source = open_csv(data, file_name="t.csv")
    assert source.total_rows == len(list(source)) == 3


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"PK\x03\x04" + b"\x00" * 100, "Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel"),
        (b"%PDF-1.7\n" + bytes(range(256)), "PDF"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "PNG"),
        (bytes(range(256)) * 20, "inte en textfil"),
    ],
)
def test_binary_files_are_not_text(data, what):
    """Binary uploads fail with not_text and say what they look like."""
    for call in (lambda: open_csv(data, file_name="x"), lambda: sniff(data, complete=True)):
        with pytest.raises(UnreadableFile) as info:
            call()
        assert info.value.code == "not_text"
        assert what in info.value.message


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"\r\n \n\t\n", "empty_file"),
        (b"\xef\xbb\xbf", "empty_file"),
        (b"Aktivitet,Startdatum\n", "no_data_rows"),
        (b"Aktivitet,Startdatum\n,\n\n", "no_data_rows"),
        (b"Kundnummer,Belopp\n1,200\n2,300\n", "no_usable_column"),
        (b"Namn,Ort\nAnna,Lund\n", "no_usable_column"),
        (b"Mote,2026-01-01,2026-01-02\nX,2026-02-01,2026-02-02\n", "no_header"),
    ],
)
def test_files_that_cannot_be_an_import(data, code):
    """Empty, header-only, unusable and headerless files fail with their specific code."""
    with pytest.raises(UnreadableFile) as info:
        open_csv(data, file_name="t.csv")
    assert info.value.code == code
    with pytest.raises(UnreadableFile) as info:
        sniff(data, complete=True)
    assert info.value.code == code


def test_sniff_accepts_a_prefix_cut_mid_row():
    """A valid file cut anywhere (mid-row, mid-character, mid-quote) is not rejected."""
    body = "".join(f'"Möte {i}, del",2026-01-{i % 28 + 1:02d},"rad\nny"\n' for i in range(3000))
    data = ("Aktivitet,Startdatum,Beskrivning\n" + body).encode()
    for cut in (5, 20, 33, 34, 35, 40, 41, 100, 1001, 4097, 65536):
        assert sniff(data[:cut], complete=False) is None, cut  # raises UnreadableFile if rejected


def test_sniff_judges_no_data_only_for_complete_files():
    """A prefix holding just the header may be followed by rows: only a whole file is empty."""
    sniff(b"Aktivitet,Startdatum\n", complete=False)
    with pytest.raises(UnreadableFile):
        sniff(b"Aktivitet,Startdatum\n", complete=True)


def test_iterating_twice_gives_the_same_rows():
    """The source streams from the bytes; a second pass yields the same rows."""
    source = open_csv((HEADER + "A,2026-01-01,\nB,x,\n").encode(), file_name="t.csv")
    first = list(source)
    assert first == list(source)
    assert isinstance(first[0], Activity) and isinstance(first[1], Rejection)


def test_title_lines_above_the_header_are_skipped():
    """An Excel title line above the real header is not taken for the header."""
    data = "Årsplan 2026;;;\n\nExporterad 2026-01-05;;;\nAktivitet;Start;Slut;Ansvarig\nA;2026-01-01;;Eva\n"
    source = open_csv(data.encode("cp1252"), file_name="t.csv")
    (row,) = list(source)
    assert source.layout.header_row == 4
    assert (row.row_number, row.name, row.label) == (5, "A", "Eva")


def test_lone_cr_line_ends():
    """Old Mac line ends (CR only) are records too, counted by the csv pass."""
    data = b"Aktivitet,Startdatum\rA,2026-01-01\rB,2026-01-02\r"
    source = open_csv(data, file_name="t.csv")
    assert source.total_rows == 2
    assert [r.name for r in source] == ["A", "B"]


# -- encodings (issue 15, kind 5) ---------------------------------------------------------------

UTF16_TEXT = "Aktivitet\tStartdatum\tSlutdatum\tOmråde\r\nLönerevision\t2026-04-01\t2026-04-30\tHR\r\n"


@pytest.mark.parametrize(("codec", "encoding"), [("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be")])
def test_utf16_without_bom_is_text(codec, encoding):
    """UTF-16 little- and big-endian without a byte order mark read like UTF-16 with one."""
    data = UTF16_TEXT.encode(codec)
    sniff(data, complete=True)
    source = open_csv(data, file_name="t.txt")
    (row,) = list(source)
    assert source.encoding == encoding
    assert (row.name, row.start, row.end, row.ring) == ("Lönerevision", date(2026, 4, 1),
                                                        date(2026, 4, 30), "HR")
    assert open_csv(UTF16_TEXT.encode("utf-16"), file_name="t.txt").encoding == "utf-16"


def test_a_binary_file_with_zero_bytes_is_still_not_text():
    """Zero bytes in every other position do not make a binary file UTF-16 text."""
    data = bytes([0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x1b, 0x00]) * 200
    with pytest.raises(UnreadableFile) as info:
        open_csv(data, file_name="x.bin")
    assert info.value.code == "not_text"


def _mixed(rows: list[tuple[str, str]], *, bom: bool = False) -> bytes:
    """A UTF-8 file whose rows marked "legacy" are in that code page (a pasted row)."""
    out = b"\xef\xbb\xbf" if bom else b""
    out += "Aktivitet;Startdatum;Område\n".encode()
    for line, encoding in rows:
        out += (line + "\n").encode(encoding)
    return out


def test_utf8_with_a_pasted_windows_row_repairs_only_that_row():
    """A UTF-8 file with one row of Windows-1252 bytes keeps its UTF-8 rows intact, reads the
    stray bytes as Windows-1252 and says so in an encoding_repaired warning."""
    data = _mixed([("Möte på Åland;2026-01-10;Styrelse", "utf-8"),
                   ("Årsmöte i Växjö;2026-03-01;Föreningen", "cp1252"),
                   ("Kickoff – vår;2026-04-01;Ledning", "utf-8")])
    source = open_csv(data, file_name="t.csv")
    assert [(r.name, r.ring) for r in source] == [("Möte på Åland", "Styrelse"),
                                                  ("Årsmöte i Växjö", "Föreningen"),
                                                  ("Kickoff – vår", "Ledning")]
    assert source.encoding == "utf-8"
    (warning,) = source.warnings
    assert warning.code == "encoding_repaired"
    assert warning.details == {"bytes": 5, "rows": 1, "first_row": 3, "encoding": "UTF-8",
                               "repaired_as": "Windows-1252"}


def test_utf8_with_bom_and_stray_mac_bytes_repairs_them_as_mac_roman():
    """Behind a UTF-8 BOM every stray byte is repaired, in the code page whose Swedish letters
    the stray bytes are (here Mac Roman), on each line that has them."""
    data = _mixed([("Möte;2026-01-10;Styrelse", "utf-8"),
                   ("Vårmöte;2026-03-01;Älvdalen", "mac_roman"),
                   ("Höstmöte;2026-09-01;Öland", "mac_roman")], bom=True)
    source = open_csv(data, file_name="t.csv")
    assert [r.name for r in source] == ["Möte", "Vårmöte", "Höstmöte"]
    assert [r.ring for r in source][1:] == ["Älvdalen", "Öland"]
    (warning,) = source.warnings
    assert (warning.details["rows"], warning.details["first_row"], warning.details["repaired_as"]) == (
        2, 3, "Mac Roman")


def test_a_windows_file_is_still_read_whole_as_windows_1252():
    """A Windows-1252 file (no valid UTF-8 letters at all) is read in Windows-1252, without a
    warning, even when a capital Ä before an en dash happens to be valid UTF-8."""
    data = "Aktivitet;Startdatum\nMöte på Åland;2026-01-10\nÄ–projekt;2026-02-01\n".encode("cp1252")
    source = open_csv(data, file_name="t.csv")
    assert source.encoding == "cp1252" and source.warnings == ()
    assert [r.name for r in source] == ["Möte på Åland", "Ä–projekt"]


# -- invisible characters and NFC (issue 15, kind 4) ------------------------------------------

@pytest.mark.parametrize(
    "char",
    ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200f"],
    ids=["zero-width space", "zero-width non-joiner", "zero-width joiner", "word joiner",
         "BOM inside the text", "soft hyphen", "LRM", "RLM"],
)
def test_invisible_characters_vanish_from_headers_and_cells(char):
    """Each invisible character, in a header, a date cell, a name and a group, is removed
    before parsing: the date reads, the header is recognised, the texts are clean."""
    data = (f"{char}Aktivitet;Start{char}datum;Kategori\n"
            f"Plane{char}ring;{char}2026-02-02{char};Mö{char}ten\n").encode()
    source = open_csv(data, file_name="t.csv")
    assert source.columns.as_mapping() == {"name": "Aktivitet", "start": "Startdatum", "group": "Kategori"}
    (row,) = list(source)
    assert (row.name, row.start, row.group) == ("Planering", date(2026, 2, 2), "Möten")


@pytest.mark.parametrize("space", ["\u00a0", "\u202f", "\u2007"], ids=["no-break", "narrow no-break", "figure"])
def test_odd_spaces_become_spaces(space):
    """No-break, narrow no-break and figure spaces are ordinary spaces in headers and cells,
    so 'Team A' is one group however it was typed, and a date beside them reads."""
    data = (f"Aktivitet;Start{space}datum;Grupp\n"
            f"Möte;2026-01-12{space};Team{space}A\n").encode()
    (row,) = list(open_csv(data, file_name="t.csv"))
    assert (row.start, row.group) == (date(2026, 1, 12), "Team A")


def test_decomposed_letters_are_composed():
    """macOS's decomposed å (a + U+030A) is NFC 'å': 'Område' is recognised as the ring and the
    texts hold the composed letters."""
    decomposed = "Omra\u030ade"
    data = f"Aktivitet;Datum;{decomposed}\nMo\u0308te;2026-01-12;Ekonomi a\u030ar\n".encode()
    source = open_csv(data, file_name="t.csv")
    assert source.columns.as_mapping()["ring"] == "Område"
    (row,) = list(source)
    assert (row.name, row.ring) == ("Möte", "Ekonomi år")


def test_invisible_characters_in_other_encodings():
    """A Windows-1252 file's soft hyphen and no-break space and UTF-16's zero-width space are
    cleaned like UTF-8's."""
    cp1252 = "Aktivitet;Startdatum\nPlane\xadring\xa0A;2026-02-02\xa0\n".encode("cp1252")
    utf16 = "Aktivitet\tStartdatum\nPlanering\u200b A\t\u200b2026-02-02\n".encode("utf-16")
    for data in (cp1252, utf16):
        (row,) = list(open_csv(data, file_name="t.csv"))
        assert (row.name, row.start) == ("Planering A", date(2026, 2, 2))


def test_an_emoji_sequence_keeps_its_joiner():
    """A zero-width joiner inside an emoji sequence is part of the emoji and stays."""
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    (row,) = list(open_csv(f"Aktivitet;Datum\nFamiljedag {family};2026-05-01\n".encode(), file_name="t.csv"))
    assert row.name == f"Familjedag {family}"


@pytest.mark.parametrize("quote", ["", '"'], ids=["counted on the bytes", "counted by a csv pass"])
@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_a_row_of_only_invisible_characters_is_blank(quote, encoding):
    """A row holding only no-break spaces, soft hyphens or zero-width characters shows as
    nothing: it is skipped like a blank line, and the row count agrees with the rows read; a
    row with a visible character after them is a row."""
    invisible = "\u200b" if encoding == "utf-8" else "\xad"
    data = (f"Aktivitet,Startdatum\n{quote}A{quote},2026-01-01\n\xa0,\xa0\n{invisible}\n"
            f"\xa0Åsa,2026-01-02\n,\xa0\n").encode(encoding)
    source = open_csv(data, file_name="t.csv")
    rows = list(source)
    assert source.total_rows == len(rows) == 2
    assert [(r.row_number, r.name) for r in rows] == [(2, "A"), (5, "Åsa")]


@pytest.mark.parametrize(
    ("data", "encoding", "needed"),
    [(b"Aktivitet\nA\n", "utf-8", False),
     ("Aktivitet\nÅr – möte\n".encode(), "utf-8", False),
     ("\ufeffAktivitet\nÅr\n".encode(), "utf-8-sig", False),
     ("Aktivitet\nA\u200b\n".encode(), "utf-8", True),
     ("Aktivitet\nA\xa0B\n".encode(), "utf-8", True),
     ("Aktivitet\nOmra\u030ade\n".encode(), "utf-8", True),
     ("Aktivitet\n\u212b\n".encode(), "utf-8", True),
     ("Aktivitet\nÅr\n".encode("cp1252"), "cp1252", False),
     ("Aktivitet\nÅr\xa0\n".encode("cp1252"), "cp1252", True),
     ("Aktivitet\nÅr\xa0\n".encode("mac_roman"), "mac_roman", True),
     ("Aktivitet\nÅr\n".encode("utf-16"), "utf-16", True)],
)
def test_needs_cleaning_is_decided_on_the_bytes(data, encoding, needed):
    """Files with nothing to clean are recognised on their bytes (so their rows pay nothing);
    a zero-width or no-break space, a combining mark or a character NFC changes (the Ångström
    sign) makes the file cleaned; UTF-16 is always cleaned."""
    assert needs_cleaning(data, encoding) is needed


def test_clean_of_one_text():
    """clean removes invisible characters, makes odd spaces spaces and composes to NFC; ASCII
    comes back as is."""
    assert clean("\u200bOmra\u030ade\u00a0A\u00ad") == "Område A"
    text = "plain ascii"
    assert clean(text) is text


def test_the_suspect_lead_bytes_cover_every_character_clean_may_change():
    """Every character that clean may change (invisible, odd space, or one NFC may change)
    starts in UTF-8 with one of the bytes needs_cleaning scans for: none is missed on the
    bytes. Planes 0 and 1 and the CJK compatibility supplement hold all of them."""
    from importer.read import text

    leads = {lead[0] for lead in text._UTF8_SUSPECT_LEADS}
    points = itertools.chain(range(0x80, 0xD800), range(0xE000, 0x20000), range(0x2F800, 0x2FA20))
    missed = [hex(point) for point in points if text._suspect(chr(point)) and chr(point).encode()[0] not in leads]
    assert missed == []


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
@pytest.mark.parametrize("odd_break", ["", "\x85", "\u2028"], ids=["plain", "NEL in a cell", "LS in a cell"])
def test_cleaning_over_many_chunks_keeps_every_row(line_end, odd_break):
    """A file of many 64K-character chunks with invisible characters on every row, quoted
    cells over two lines and characters str.splitlines would break at reads back row for row,
    each row cleaned and numbered as in the file."""
    lines = ["Aktivitet;Startdatum;Beskrivning"]
    for i in range(6000):
        description = f'"rad\u200b ett{line_end}rad två"' if i % 100 == 0 else f"Kommentar{odd_break}"
        lines.append(f"Möte\u00a0{i}\u200b;2026-01-{i % 28 + 1:02d}\u00ad;{description}")
    data = (line_end.join(lines) + line_end).encode()
    source = open_csv(data, file_name="t.csv")
    rows = list(source)
    assert source.total_rows == len(rows) == 6000
    assert [r.name for r in rows] == [f"Möte {i}" for i in range(6000)]
    assert rows[-1].row_number == 6001 and rows[100].description == f"rad ett{line_end}rad två"
    assert rows[1].description == f"Kommentar{odd_break}".strip()
    assert all(r.start == date(2026, 1, i % 28 + 1) for i, r in enumerate(rows))
